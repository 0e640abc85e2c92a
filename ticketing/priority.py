"""Work-order priority from how bad the finding is, how much the equipment matters, and how soon
the signal is predicted to reach its alarm limit. Pure.

| severity \\ criticality | high   | medium | low    |
|------------------------|--------|--------|--------|
| critical               | urgent | urgent | high   |
| alarm                  | urgent | high   | medium |
| warning                | high   | medium | low    |

A predicted alarm-limit crossing within `URGENT_WITHIN` (24 h) makes any order urgent: there is no
time to plan it into the normal schedule.
"""

from __future__ import annotations

import enum

from devices import Criticality, Severity

URGENT_WITHIN = 24 * 3600.0
"""Seconds to the predicted alarm-limit crossing below which an order is urgent."""


class Priority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for urgent up to 3 for low: lower is more pressing."""
        return _RANK[self]


_RANK = {p: i for i, p in enumerate(Priority)}

_TABLE: dict[tuple[Severity, Criticality], Priority] = {
    (Severity.CRITICAL, Criticality.HIGH): Priority.URGENT,
    (Severity.CRITICAL, Criticality.MEDIUM): Priority.URGENT,
    (Severity.CRITICAL, Criticality.LOW): Priority.HIGH,
    (Severity.ALARM, Criticality.HIGH): Priority.URGENT,
    (Severity.ALARM, Criticality.MEDIUM): Priority.HIGH,
    (Severity.ALARM, Criticality.LOW): Priority.MEDIUM,
    (Severity.WARNING, Criticality.HIGH): Priority.HIGH,
    (Severity.WARNING, Criticality.MEDIUM): Priority.MEDIUM,
    (Severity.WARNING, Criticality.LOW): Priority.LOW,
}


def priority_for(
    severity: Severity, criticality: Criticality, time_to_limit: float | None = None
) -> Priority:
    """The priority of a work order for a finding of `severity` on equipment of `criticality`,
    `time_to_limit` seconds (if predicted) before its signal reaches the alarm limit."""
    if time_to_limit is not None and time_to_limit <= URGENT_WITHIN:
        return Priority.URGENT
    return _TABLE[severity, criticality]


def more_pressing(a: Priority, b: Priority) -> Priority:
    """The more pressing of two priorities."""
    return a if a.rank <= b.rank else b
