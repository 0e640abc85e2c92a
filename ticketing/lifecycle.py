"""The status lifecycle of a work order: statuses, the allowed transitions, and the check.

Pure: no I/O, no clock. The store asks `advance` before it writes a status. Work flows
open -> acknowledged -> in_progress (<-> on_hold) -> done -> closed; any active order can be closed
(resolved) directly, every one but a done one can be cancelled, and a done order whose fix did not
hold goes back to in_progress.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ticketing.errors import InvalidTransition


class Status(enum.StrEnum):
    OPEN = "open"
    """Created from a finding; nobody has looked at it yet."""
    ACKNOWLEDGED = "acknowledged"
    """A planner has seen it and owns what happens next."""
    IN_PROGRESS = "in_progress"
    """Work has started."""
    ON_HOLD = "on_hold"
    """Work is waiting (parts, a shutdown window, a contractor)."""
    DONE = "done"
    """The work is finished and waits for verification."""
    CLOSED = "closed"
    """Verified or resolved; final."""
    CANCELLED = "cancelled"
    """Not needed after all (false alarm, duplicate, equipment retired); final."""


TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.OPEN: frozenset(
        {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CLOSED, Status.CANCELLED}
    ),
    Status.ACKNOWLEDGED: frozenset(
        {Status.IN_PROGRESS, Status.ON_HOLD, Status.CLOSED, Status.CANCELLED}
    ),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.DONE, Status.CLOSED, Status.CANCELLED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.CLOSED, Status.CANCELLED}),
    Status.DONE: frozenset({Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}
"""For each status, the statuses it may move to."""

ACTIVE: frozenset[Status] = frozenset(
    s for s in Status if s not in {Status.CLOSED, Status.CANCELLED}
)
"""Statuses of a work order still to be dealt with; at most one per equipment and failure mode."""


def allowed_next(current: Status) -> tuple[Status, ...]:
    """The statuses `current` may move to, in lifecycle order."""
    return tuple(s for s in Status if s in TRANSITIONS[current])


def advance(current: Status, requested: Status, *, subject: str = "the work order") -> Status:
    """`requested` if the lifecycle allows it from `current`; else raise `InvalidTransition`
    naming `subject` (e.g. the order's number), the current status and the allowed next ones."""
    if requested not in TRANSITIONS[current]:
        raise InvalidTransition(current, requested, allowed_next(current), subject=subject)
    return requested
