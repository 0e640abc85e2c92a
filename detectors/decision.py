"""Turning scores over time into condition episodes: thresholds, hysteresis, on and off delays.

One episode (raised ... cleared) is one finding plus its updates, never one per sample.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields


class Transition(enum.Enum):
    RAISED = "raised"
    WORSENED = "worsened"
    CLEARED = "cleared"


@dataclass
class Debounce:
    """Hysteresis and delays on one score stream.

    The condition is raised when the score stays at or above `on` for `on_delay` seconds of source
    time, worsens when its level rises while active, and clears when the score stays at or below
    `off` for `off_delay` seconds.
    """

    on: float = 0.5
    off: float = 0.3
    on_delay: float = 0.0
    off_delay: float = 0.0
    active: bool = False
    level: int = 0
    since: float | None = None
    """When the pending change (raise while inactive, clear while active) started."""

    def update(self, score: float, ts: float, level: int) -> Transition | None:
        if not self.active:
            if score < self.on:
                self.since = None
                return None
            if self.since is None:
                self.since = ts
            if ts - self.since < self.on_delay:
                return None
            self.active, self.level, self.since = True, level, None
            return Transition.RAISED
        if score > self.off:
            self.since = None
            if level > self.level:
                self.level = level
                return Transition.WORSENED
            return None
        if self.since is None:
            self.since = ts
        if ts - self.since < self.off_delay:
            return None
        self.active, self.level, self.since = False, 0, None
        return Transition.CLEARED

    @property
    def under_way(self) -> bool:
        """Whether a condition is active or a change of it pending."""
        return self.active or self.since is not None

    def snapshot(self) -> dict[str, float | bool | int | None]:
        return {name: getattr(self, name) for name in DEBOUNCE_FIELDS}

    def row(self) -> tuple[float, ...]:
        """The fields as numbers, in `DEBOUNCE_FIELDS` order (`since` None as NaN)."""
        since = math.nan if self.since is None else self.since
        return (self.on, self.off, self.on_delay, self.off_delay, self.active, self.level, since)

    @classmethod
    def from_row(cls, row: list[float]) -> Debounce:
        """What `row` gave."""
        on, off, on_delay, off_delay, active, level, since = row
        return cls(
            on,
            off,
            on_delay,
            off_delay,
            bool(active),
            int(level),
            None if math.isnan(since) else since,
        )


DEBOUNCE_FIELDS = tuple(f.name for f in fields(Debounce))
