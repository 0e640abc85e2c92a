"""The error root of `ticketing`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ticketing.lifecycle import Status


class TicketingError(Exception):
    """Anything wrong with work orders or their storage."""


class WorkOrderNotFound(TicketingError, LookupError):
    """No work order has this number."""

    def __init__(self, number: str) -> None:
        self.number = number
        hint = "" if number.startswith("WO-") else "; work-order numbers look like WO-000123"
        super().__init__(f"no work order {number!r}{hint}")


class InvalidTransition(TicketingError):
    """A status change the work-order lifecycle does not allow from the current status."""

    def __init__(
        self, current: Status, requested: Status, allowed: Iterable[Status], *, subject: str
    ) -> None:
        self.current = current
        self.requested = requested
        self.allowed = tuple(allowed)
        self.subject = subject
        if self.allowed:
            options = ", ".join(status.value for status in self.allowed)
            next_ = f"from {current.value} it can only become: {options}"
        else:
            next_ = f"{current.value} is final"
        super().__init__(
            f"{subject} is {current.value} and cannot become {requested.value}; {next_}"
        )


class StorageError(TicketingError):
    """The work-order database cannot be opened or failed during an operation."""


class NotFound(TicketingError, LookupError):
    """No alarm, window, shelf, token or webhook has this id."""

    def __init__(self, what: str, key: object) -> None:
        self.what = what
        self.key = key
        super().__init__(f"no {what} {key!r}")


class InvalidRequest(TicketingError, ValueError):
    """A request the store cannot carry out as given; the message says what to change."""


class Conflict(InvalidRequest):
    """The request is well formed but clashes with what exists (a name already in use)."""


class NotAuthenticated(TicketingError):
    """No token, or one that is unknown, revoked or expired."""


class NotAllowed(TicketingError):
    """The caller's role (or team) does not allow this; the message says who may."""
