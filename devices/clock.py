"""A stream's clock going back: a device rebooted, or its clock was set, and its timestamps now run
earlier than the last reading seen. Pure logic shared by the sources' validation and the engine.

A reading older than the stream's last one by at most `tolerance` is merely late (a duplicate, a
reordering): `OUT_OF_ORDER`. Older by more, the clock went back: `CLOCK_WENT_BACK`, rejected with
that reason. Once the earlier clock has been consistent (each reading later than the previous one
of the jump) for `readings` readings spanning at least `seconds` of its own time, the stream is
re-anchored: `REANCHOR`, the reading is accepted and becomes the stream's last one, and the stream
goes on from the device's new clock instead of being dropped forever.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass


class ClockVerdict(enum.StrEnum):
    ACCEPT = "accept"
    OUT_OF_ORDER = "out_of_order"
    CLOCK_WENT_BACK = "clock_went_back"
    REANCHOR = "reanchor"


@dataclass(frozen=True, slots=True)
class ClockPolicy:
    tolerance: float = 10.0
    """Seconds a reading may be older than the last one and count as late, not a clock jump."""
    readings: int = 20
    seconds: float = 30.0


@dataclass(slots=True)
class _Jump:
    first: float
    last: float
    count: int


class ClockWatch:
    """Judges each stream's readings against its last one; remembers jumps in progress."""

    def __init__(self, policy: ClockPolicy = ClockPolicy()) -> None:
        self.policy = policy
        self._jumps: dict[Hashable, _Jump] = {}

    def judge(self, key: Hashable, last: float, ts: float) -> ClockVerdict:
        """The verdict on a reading at `ts` of stream `key`, whose last accepted reading is at
        `last`."""
        if ts > last:
            self._jumps.pop(key, None)
            return ClockVerdict.ACCEPT
        policy = self.policy
        if ts >= last - policy.tolerance:
            return ClockVerdict.OUT_OF_ORDER
        jump = self._jumps.get(key)
        if jump is None or ts <= jump.last:
            self._jumps[key] = _Jump(ts, ts, 1)
            jump = self._jumps[key]
        else:
            jump.last = ts
            jump.count += 1
        if jump.count >= policy.readings and jump.last - jump.first >= policy.seconds:
            del self._jumps[key]
            return ClockVerdict.REANCHOR
        return ClockVerdict.CLOCK_WENT_BACK

    def behind(self, key: Hashable) -> int:
        """Readings of the jump in progress of stream `key` (0: none)."""
        jump = self._jumps.get(key)
        return jump.count if jump is not None else 0
