"""How machines are operated: around the clock or in shifts, at a steady load or with load changes.

An `Operation` is a description (it goes in scenario files); `Operation.schedule` makes the
stateful `Schedule` of one machine, which says at any simulated time whether the machine should
run and at what load setpoint. The machine model then does the physics: soft starts, coasting
down, thermal lags, the load's wander around its setpoint.

Times of day are UTC; weekdays are 0 (Monday) to 6 (Sunday).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulators.errors import SimulatorError
from simulators.physics import DAY

ALL_DAYS = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
_EPOCH_WEEKDAY = 3
"""1970-01-01 was a Thursday."""


@dataclass(frozen=True, slots=True)
class Demand:
    running: bool
    load: float
    """Load setpoint as a fraction of rated (meaningless when not running)."""


@dataclass(frozen=True, slots=True)
class Shift:
    """A shift from `start` to `end` (hours of the day, UTC; `end` <= `start` runs past
    midnight), at `load` (None: the operation's load)."""

    start: float
    end: float
    load: float | None = None

    def __post_init__(self) -> None:
        for name, hour in (("start", self.start), ("end", self.end)):
            if not 0.0 <= hour <= 24.0:
                raise SimulatorError(f"shift {name} must be an hour between 0 and 24, got {hour}")
        if self.start == self.end:
            raise SimulatorError(f"a shift must not start and end at the same hour ({self.start})")
        if self.load is not None and not 0.0 < self.load <= 1.2:
            raise SimulatorError(f"shift load must be in (0, 1.2], got {self.load}")

    @property
    def hours(self) -> float:
        return (self.end - self.start) % 24.0 or 24.0


@dataclass(frozen=True, slots=True)
class LoadChanges:
    """The load setpoint moves between `levels` at random times (on average every `mean_dwell`
    seconds), ramping over `ramp` seconds, as production orders change."""

    levels: tuple[float, ...]
    mean_dwell: float = 4 * 3600.0
    ramp: float = 300.0

    def __post_init__(self) -> None:
        if len(self.levels) < 2:
            raise SimulatorError(f"load changes need at least two levels, got {list(self.levels)}")
        if any(not 0.0 < level <= 1.2 for level in self.levels):
            raise SimulatorError(f"load levels must be in (0, 1.2], got {list(self.levels)}")
        if not (self.mean_dwell > 0 and self.ramp >= 0):
            raise SimulatorError("mean_dwell must be positive and ramp not negative")


@dataclass(frozen=True, slots=True)
class Operation:
    """How a machine is run.

    Without `shifts` it runs around the clock. With shifts it runs during them on `days`, and
    outside them it is stopped (or, with `off_shift`, runs at that load: a plant that never
    stops but idles at night). Start and stop times vary from day to day by up to `jitter`
    seconds. The load setpoint is the shift's load, else `load`, else the machine's own base
    load; `load_changes` replaces it with random step changes.
    """

    shifts: tuple[Shift, ...] = ()
    days: frozenset[int] = ALL_DAYS
    off_shift: float | None = None
    load: float | None = None
    load_changes: LoadChanges | None = None
    jitter: float = 300.0
    blocks: tuple[tuple[float, float], ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    """The shifts merged into running blocks: (start hour, length in hours)."""

    def __post_init__(self) -> None:
        if not self.days or not self.days <= ALL_DAYS:
            raise SimulatorError(f"days must be weekdays 0 (Monday) to 6, got {sorted(self.days)}")
        if self.load is not None and not 0.0 < self.load <= 1.2:
            raise SimulatorError(f"load must be in (0, 1.2], got {self.load}")
        if self.off_shift is not None and not 0.0 < self.off_shift <= 1.2:
            raise SimulatorError(f"off_shift load must be in (0, 1.2], got {self.off_shift}")
        if self.jitter < 0:
            raise SimulatorError(f"jitter must not be negative, got {self.jitter}")
        object.__setattr__(self, "blocks", _blocks(self.shifts))

    @property
    def continuous(self) -> bool:
        return not self.shifts

    def schedule(self, base_load: float, rng: np.random.Generator) -> Schedule:
        """The schedule of one machine whose own base load is `base_load`."""
        return Schedule(self, base_load, rng)


def _blocks(shifts: tuple[Shift, ...]) -> tuple[tuple[float, float], ...]:
    """Shifts merged into running blocks (start hour, length in hours): back-to-back shifts
    are one block, so the machine does not stop between them."""
    spans = sorted((s.start, s.start + s.hours) for s in shifts)
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if len(merged) > 1 and merged[-1][1] >= merged[0][0] + 24.0:
        merged[0][0] = merged[-1][0] - 24.0
        merged[0][1] = max(merged[0][1], merged[-1][1] - 24.0)
        merged.pop()
    for start, end in merged:
        if end - start > 24.0:
            raise SimulatorError("shifts overlap into more than a day; list each hour once")
    return tuple((start, end - start) for start, end in merged)


CONTINUOUS = Operation()
"""Around the clock at the machine's own base load."""


def weekday(ts: float) -> int:
    return (math.floor(ts / DAY) + _EPOCH_WEEKDAY) % 7


class Schedule:
    """One machine's operation over time; ask it in time order."""

    def __init__(self, operation: Operation, base_load: float, rng: np.random.Generator) -> None:
        self.operation = operation
        self.base_load = base_load
        self._jitter_seed = int(rng.integers(2**63))
        self._changes_rng = np.random.default_rng([self._jitter_seed, 1])
        self._jitters: dict[tuple[int, int], tuple[float, float]] = {}
        changes = operation.load_changes
        self._level = changes.levels[0] if changes is not None else base_load
        self._previous = self._level
        self._changed_at = -math.inf
        self._next_change: float | None = None

    def demand(self, ts: float) -> Demand:
        op = self.operation
        if op.continuous:
            return Demand(True, self._setpoint(ts, op.load))
        if self._in_block(ts):
            shift = self._shift_at(ts)
            load = shift.load if shift is not None and shift.load is not None else op.load
            return Demand(True, self._setpoint(ts, load))
        if op.off_shift is not None:
            return Demand(True, op.off_shift)
        return Demand(False, 0.0)

    def _setpoint(self, ts: float, fixed: float | None) -> float:
        changes = self.operation.load_changes
        if changes is None:
            return fixed if fixed is not None else self.base_load
        if self._next_change is None:
            self._next_change = ts + self._dwell(changes)
        while ts >= self._next_change:
            self._previous = self._current(self._next_change, changes)
            others = [level for level in changes.levels if level != self._level]
            self._level = others[int(self._changes_rng.integers(len(others)))]
            self._changed_at = self._next_change
            self._next_change += self._dwell(changes)
        return self._current(ts, changes)

    def _current(self, ts: float, changes: LoadChanges) -> float:
        if changes.ramp == 0 or ts >= self._changed_at + changes.ramp:
            return self._level
        share = (ts - self._changed_at) / changes.ramp
        return self._previous + (self._level - self._previous) * share

    def _dwell(self, changes: LoadChanges) -> float:
        return max(changes.ramp, float(self._changes_rng.exponential(changes.mean_dwell)))

    def _shift_at(self, ts: float) -> Shift | None:
        """The shift whose nominal hours contain `ts` on a working day."""
        for shift in self.operation.shifts:
            for day_offset in (0, 1):
                day = math.floor(ts / DAY) - day_offset
                start = day * DAY + shift.start * 3600.0
                if start <= ts < start + shift.hours * 3600.0 and self._works(day):
                    return shift
        return None

    def _works(self, day: int) -> bool:
        return (day + _EPOCH_WEEKDAY) % 7 in self.operation.days

    def _in_block(self, ts: float) -> bool:
        """Within a running block, with that day's jittered start and stop times."""
        for index, (start_hour, hours) in enumerate(self.operation.blocks):
            for day_offset in (0, 1):
                day = math.floor(ts / DAY) - day_offset
                if not self._works(day):
                    continue
                early, late = self._jitter(day, index)
                start = day * DAY + start_hour * 3600.0 + early
                if start <= ts < start - early + hours * 3600.0 + late:
                    return True
        return False

    def _jitter(self, day: int, block: int) -> tuple[float, float]:
        """How early (negative) or late the block starts and stops that day; the same for the
        same machine and day whatever else is simulated."""
        key = (day, block)
        found = self._jitters.get(key)
        if found is None:
            if len(self._jitters) > 16:
                self._jitters.clear()
            early, late = np.random.default_rng([self._jitter_seed, 0, day, block]).uniform(
                -1, 1, 2
            )
            found = self._jitters[key] = (
                float(early) * self.operation.jitter,
                float(late) * self.operation.jitter,
            )
        return found
