"""What really happened in a simulation, so detection can be scored: when each fault started,
when the machine failed, and when its signals first crossed their warning and alarm limits; which
sensors misbehaved and when; which machines stayed healthy. `RunTruth` is written beside every
run as JSON (`to_json` / `from_json`)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "severity": self.severity.label,
            "ts": self.ts,
            "value": self.value,
            "limit": self.limit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LimitCrossing:
        return cls(
            signal=data["signal"],
            severity=Severity[data["severity"].upper()],
            ts=float(data["ts"]),
            value=float(data["value"]),
            limit=float(data["limit"]),
        )


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """One injected machine fault and the limit crossings of its machine since the fault's onset
    (measured on the machine's true signals, before any sensor fault)."""

    equipment_id: str
    fault: str
    mechanism: str
    failure_mode: str
    onset: float
    failure_at: float
    crossings: tuple[LimitCrossing, ...]
    """First crossing of each limit of each signal at or after onset, in time order; only those
    seen so far."""
    shape: str = "linear"
    failure_modes: tuple[str, ...] = ()
    """Every failure-mode code a right work order may carry (the first is `failure_mode`)."""

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

    def to_json(self) -> dict[str, Any]:
        return {
            "equipment_id": self.equipment_id,
            "fault": self.fault,
            "mechanism": self.mechanism,
            "shape": self.shape,
            "failure_mode": self.failure_mode,
            "failure_modes": list(self.failure_modes or (self.failure_mode,)),
            "onset": self.onset,
            "warning_crossed_at": self.warning_crossed_at,
            "alarm_crossed_at": self.alarm_crossed_at,
            "failure_at": self.failure_at,
            "crossings": [c.to_json() for c in self.crossings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GroundTruth:
        return cls(
            equipment_id=data["equipment_id"],
            fault=data["fault"],
            mechanism=data["mechanism"],
            failure_mode=data["failure_mode"],
            onset=float(data["onset"]),
            failure_at=float(data["failure_at"]),
            crossings=tuple(LimitCrossing.from_json(c) for c in data["crossings"]),
            shape=data.get("shape", "linear"),
            failure_modes=tuple(data.get("failure_modes", (data["failure_mode"],))),
        )


@dataclass(frozen=True, slots=True)
class SensorFaultTruth:
    """One injected sensor fault: which signal misbehaved, how, and when."""

    equipment_id: str
    signal: str
    fault: str
    kind: str
    onset: float
    end: float | None
    """When the sensor was good again; None: not within the run."""
    crossings: tuple[LimitCrossing, ...] = ()
    """Limits the faulty readings crossed while the fault was active (a spike past an alarm
    limit, say): findings a detector may rightly raise, about the sensor rather than the
    machine."""

    def to_json(self) -> dict[str, Any]:
        return {
            "equipment_id": self.equipment_id,
            "signal": self.signal,
            "fault": self.fault,
            "kind": self.kind,
            "onset": self.onset,
            "end": self.end,
            "crossings": [c.to_json() for c in self.crossings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SensorFaultTruth:
        end = data.get("end")
        return cls(
            equipment_id=data["equipment_id"],
            signal=data["signal"],
            fault=data["fault"],
            kind=data["kind"],
            onset=float(data["onset"]),
            end=None if end is None else float(end),
            crossings=tuple(LimitCrossing.from_json(c) for c in data.get("crossings", ())),
        )


@dataclass(frozen=True, slots=True)
class MachineTruth:
    equipment_id: str
    type: str
    path: str
    """ISA-95 path: site/area/line/equipment."""
    operation: str
    """How the machine was run, in words."""


@dataclass(frozen=True, slots=True)
class RunTruth:
    """Everything that really happened in one run, for scoring it."""

    scenario: str
    seed: int
    start: float
    end: float
    """Simulated time of the last sample."""
    period: float
    machines: tuple[MachineTruth, ...]
    faults: tuple[GroundTruth, ...]
    sensor_faults: tuple[SensorFaultTruth, ...]

    @property
    def healthy(self) -> tuple[str, ...]:
        """Machines with no fault of any kind injected."""
        faulty = {f.equipment_id for f in self.faults} | {
            f.equipment_id for f in self.sensor_faults
        }
        return tuple(m.equipment_id for m in self.machines if m.equipment_id not in faulty)

    @property
    def machine_days(self) -> float:
        return len(self.machines) * max(self.end - self.start + self.period, 0.0) / 86400.0

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "start": self.start,
            "end": self.end,
            "period": self.period,
            "machines": [
                {
                    "equipment_id": m.equipment_id,
                    "type": m.type,
                    "path": m.path,
                    "operation": m.operation,
                    "healthy": m.equipment_id in self.healthy,
                }
                for m in self.machines
            ],
            "faults": [f.to_json() for f in self.faults],
            "sensor_faults": [f.to_json() for f in self.sensor_faults],
        }

    def write(self, path: str | Path) -> Path:
        """Write the truth as JSON (what every run leaves beside it)."""
        path = Path(path)
        text = json.dumps(_finite(self.to_json()), indent=1)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: str | Path) -> RunTruth:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunTruth:
        return cls(
            scenario=data["scenario"],
            seed=int(data["seed"]),
            start=float(data["start"]),
            end=float(data["end"]),
            period=float(data["period"]),
            machines=tuple(
                MachineTruth(m["equipment_id"], m["type"], m["path"], m["operation"])
                for m in data["machines"]
            ),
            faults=tuple(GroundTruth.from_json(f) for f in data["faults"]),
            sensor_faults=tuple(SensorFaultTruth.from_json(f) for f in data["sensor_faults"]),
        )


@dataclass(frozen=True, slots=True)
class _Limit:
    signal: str
    severity: Severity
    limit: float
    high: bool

    def crossed_by(self, value: float) -> bool:
        return value > self.limit if self.high else value < self.limit


class CrossingRecorder:
    """Records the first crossing of each limit of one machine's signals from `since` on (and
    before `until`)."""

    def __init__(self, signals: Iterable[Signal], since: float, until: float = math.inf) -> None:
        self.since = since
        self.until = until
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
        if ts < self.since or ts >= self.until or not self._pending:
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


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
