"""What really happened in a simulation, so detection can be scored: when each fault started,
when the machine failed, and when its signals first crossed their warning and alarm limits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devices import Severity, Signal


@dataclass(frozen=True, slots=True)
class LimitCrossing:
    """The first time a signal went beyond one of its limits."""

    signal: str
    severity: Severity
    """`Severity.WARNING` for a warn_* limit, `Severity.ALARM` for an alarm_* limit."""
    ts: float
    value: float
    limit: float


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """One injected fault and the limit crossings of its machine since the fault's onset."""

    equipment_id: str
    fault: str
    mechanism: str
    failure_mode: str
    onset: float
    failure_at: float
    crossings: tuple[LimitCrossing, ...]
    """First crossing of each limit of each signal at or after onset, in time order; only those
    seen so far."""

    @property
    def first_warning(self) -> LimitCrossing | None:
        return self._first(Severity.WARNING)

    @property
    def first_alarm(self) -> LimitCrossing | None:
        return self._first(Severity.ALARM)

    @property
    def warning_crossed_at(self) -> float | None:
        first = self.first_warning
        return None if first is None else first.ts

    @property
    def alarm_crossed_at(self) -> float | None:
        first = self.first_alarm
        return None if first is None else first.ts

    def _first(self, severity: Severity) -> LimitCrossing | None:
        return next((c for c in self.crossings if c.severity is severity), None)


@dataclass(frozen=True, slots=True)
class _Limit:
    signal: str
    severity: Severity
    limit: float
    high: bool

    def crossed_by(self, value: float) -> bool:
        return value > self.limit if self.high else value < self.limit


class CrossingRecorder:
    """Records the first crossing of each limit of one machine's signals from `since` on."""

    def __init__(self, signals: Iterable[Signal], since: float) -> None:
        self.since = since
        self._pending: list[_Limit] = []
        for s in signals:
            lim = s.limits
            for severity, limit, high in (
                (Severity.WARNING, lim.warn_high, True),
                (Severity.ALARM, lim.alarm_high, True),
                (Severity.WARNING, lim.warn_low, False),
                (Severity.ALARM, lim.alarm_low, False),
            ):
                if limit is not None:
                    self._pending.append(_Limit(s.name, severity, limit, high))
        self._crossings: list[LimitCrossing] = []

    @property
    def crossings(self) -> tuple[LimitCrossing, ...]:
        return tuple(self._crossings)

    def observe(self, ts: float, values: Mapping[str, float]) -> None:
        if ts < self.since or not self._pending:
            return
        still: list[_Limit] = []
        for lim in self._pending:
            value = values.get(lim.signal)
            if value is not None and lim.crossed_by(value):
                self._crossings.append(
                    LimitCrossing(lim.signal, lim.severity, ts, value, lim.limit)
                )
            else:
                still.append(lim)
        if len(still) != len(self._pending):
            self._pending = still
