"""Turning scores over time into condition episodes: thresholds, hysteresis, on and off delays.

One episode (raised ... cleared) is one finding plus its updates, never one per sample.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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

    def snapshot(self) -> dict[str, float | bool | int | None]:
        return {
            "on": self.on,
            "off": self.off,
            "on_delay": self.on_delay,
            "off_delay": self.off_delay,
            "active": self.active,
            "level": self.level,
            "since": self.since,
        }
