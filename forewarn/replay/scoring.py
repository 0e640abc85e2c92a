"""Scoring a replay against its ground truth. Pure: truth and order events in, a score out.

- A machine fault is detected by the first finding recorded on a work order for its machine at
  or after its onset (findings about a signal whose sensor is faulty at the time do not count).
  Its outcome: `early` (before any signal crossed an alarm limit; before functional failure when
  none did), `late` (after the alarm crossing, before failure), `after failure`, `missed` (not
  detected, and the machine failed within the run) or `not yet` (the run ended first).
- A sensor fault is detected by the first finding about its signal (or any sensor finding on its
  machine) between its onset and an hour after it ends.
- A work order is true when it opened for a machine with a fault (or, for its signal, a faulty
  sensor) at the time; every other order is false. False orders per machine-day are counted over
  all simulated machines and days.
- Escalations are the moments a later finding raised an order's priority or severity.
"""

from __future__ import annotations

import enum
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from forewarn.replay.events import OrderEvent
from simulators import GroundTruth, RunTruth, SensorFaultTruth

SENSOR_GRACE = 3600.0
"""Seconds after a sensor fault ends during which findings about that sensor are still its."""
_PRIORITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
_SEVERITY_RANK = {"warning": 1, "alarm": 2, "critical": 3}


class Outcome(enum.StrEnum):
    EARLY = "early"
    LATE = "late"
    AFTER_FAILURE = "after failure"
    MISSED = "missed"
    NOT_YET = "not yet"
    DETECTED = "detected"
    """A sensor fault that got a finding."""
    NOT_STARTED = "not started"
    """The fault's onset is after the end of the run."""

    @property
    def in_time(self) -> bool:
        """Detected before the machine failed (or, for a sensor, at all)."""
        return self in (Outcome.EARLY, Outcome.LATE, Outcome.DETECTED)


@dataclass(frozen=True, slots=True)
class Escalation:
    ts: float
    what: str
    """e.g. 'priority medium -> high' or 'severity warning -> alarm'."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """The time to the alarm limit a work order gave when it opened, with its 90 % range."""

    predicted_s: float
    low_s: float
    high_s: float
    """Infinite when the trend may as well be flat."""

    def holds(self, actual_s: float) -> bool:
        return self.low_s <= actual_s <= self.high_s


@dataclass(frozen=True, slots=True)
class FaultScore:
    truth: GroundTruth
    outcome: Outcome
    detected_at: float | None
    order_number: str | None
    failure_mode: str | None
    mode_matches: bool | None
    detector: str | None
    signals: tuple[str, ...]
    summary: str | None
    delay: float | None
    """Seconds from onset to detection."""
    lead_to_alarm: float | None
    """Seconds from detection to the first alarm-limit crossing (None: no crossing in the run)."""
    lead_to_failure: float | None
    escalations: tuple[Escalation, ...]
    forecast: Forecast | None = None
    """What the finding that detected the fault forecast (None: no forecast)."""

    @property
    def actual_s(self) -> float | None:
        """Seconds from detection to the alarm-limit crossing (None: never crossed)."""
        return self.lead_to_alarm


@dataclass(frozen=True, slots=True)
class SensorScore:
    truth: SensorFaultTruth
    outcome: Outcome
    detected_at: float | None
    order_number: str | None
    failure_mode: str | None
    detector: str | None
    delay: float | None


@dataclass(frozen=True, slots=True)
class OrderScore:
    number: str
    equipment_id: str
    opened_at: float
    failure_mode: str
    failure_mode_name: str
    priority: str
    """As it ended up."""
    severity: str
    findings: int
    summary: str
    cause: str | None
    """The fault it belongs to (e.g. 'bearing_wear' or 'sensor stuck on bearing_temp'); None
    for a false order."""
    escalations: tuple[Escalation, ...]

    @property
    def false(self) -> bool:
        return self.cause is None


@dataclass(frozen=True, slots=True)
class Totals:
    machines: int
    machine_days: float
    healthy_machines: int
    faults: int
    faults_started: int
    detected_in_time: int
    early: int
    late: int
    after_failure: int
    missed: int
    not_yet: int
    sensor_faults: int
    sensor_detected: int
    orders: int
    true_orders: int
    false_orders: int
    false_orders_per_machine_day: float
    false_orders_on_healthy_machines: int
    median_delay: float | None
    median_lead_to_alarm: float | None
    median_lead_to_failure: float | None
    forecasts_judged: int = 0
    """Faults detected before their alarm-limit crossing, which came within the run."""
    forecasts_held: int = 0
    """Of those, the ones whose order's 90 % range held the crossing (no forecast: not held)."""
    median_forecast_error: float | None = None
    """Median |predicted - actual| / actual over the judged faults that had a forecast."""


@dataclass(frozen=True, slots=True)
class Score:
    faults: tuple[FaultScore, ...]
    sensor_faults: tuple[SensorScore, ...]
    orders: tuple[OrderScore, ...]
    totals: Totals


def score(truth: RunTruth, events: Sequence[OrderEvent]) -> Score:
    events = sorted(events, key=lambda e: e.ts)
    by_order: dict[str, list[OrderEvent]] = {}
    for event in events:
        by_order.setdefault(event.order_number, []).append(event)
    escalations = {number: _escalations(evs) for number, evs in by_order.items()}
    faults = tuple(_fault(f, truth, events, escalations) for f in truth.faults)
    sensors = tuple(_sensor(f, events) for f in truth.sensor_faults)
    orders = tuple(
        _order(evs, truth, escalations[number])
        for number, evs in by_order.items()
        if evs[0].created
    )
    return Score(faults, sensors, orders, _totals(truth, faults, sensors, orders))


def _fault(
    fault: GroundTruth,
    truth: RunTruth,
    events: Sequence[OrderEvent],
    escalations: dict[str, tuple[Escalation, ...]],
) -> FaultScore:
    def result(outcome: Outcome, event: OrderEvent | None = None) -> FaultScore:
        if event is None:
            return FaultScore(
                fault, outcome, None, None, None, None, None, (), None, None, None, None, ()
            )
        alarm = fault.alarm_crossed_at
        return FaultScore(
            truth=fault,
            outcome=outcome,
            detected_at=event.ts,
            order_number=event.order_number,
            failure_mode=event.failure_mode,
            mode_matches=event.failure_mode in (fault.failure_modes or (fault.failure_mode,)),
            detector=event.detector,
            signals=event.signals,
            summary=event.summary,
            delay=event.ts - fault.onset,
            lead_to_alarm=None if alarm is None else alarm - event.ts,
            lead_to_failure=fault.failure_at - event.ts,
            escalations=escalations.get(event.order_number, ()),
            forecast=None
            if event.time_to_limit is None
            else Forecast(
                event.time_to_limit,
                *(event.time_to_limit_range or (event.time_to_limit, event.time_to_limit)),
            ),
        )

    if fault.onset > truth.end:
        return result(Outcome.NOT_STARTED)
    found = next(
        (
            e
            for e in events
            if e.active
            and e.equipment_id == fault.equipment_id
            and e.ts >= fault.onset
            and not _sensor_cause(e, truth.sensor_faults)
        ),
        None,
    )
    if found is None:
        return result(Outcome.MISSED if fault.failure_at <= truth.end else Outcome.NOT_YET)
    alarm = fault.alarm_crossed_at
    if found.ts >= fault.failure_at:
        outcome = Outcome.AFTER_FAILURE
    elif alarm is not None and found.ts >= alarm:
        outcome = Outcome.LATE
    else:
        outcome = Outcome.EARLY
    return result(outcome, found)


def _sensor_cause(
    event: OrderEvent, sensors: Sequence[SensorFaultTruth]
) -> SensorFaultTruth | None:
    """The sensor fault a finding is about, if any: same machine, during the fault (or within the
    grace period after it), about the faulty signal or a sensor finding."""
    for fault in sensors:
        if fault.equipment_id != event.equipment_id or event.ts < fault.onset:
            continue
        if fault.end is not None and event.ts > fault.end + SENSOR_GRACE:
            continue
        if fault.signal in event.signals or event.kind == "sensor":
            return fault
    return None


def _sensor(fault: SensorFaultTruth, events: Sequence[OrderEvent]) -> SensorScore:
    found = next(
        (e for e in events if e.active and _sensor_cause(e, (fault,)) is not None),
        None,
    )
    if found is None:
        return SensorScore(fault, Outcome.MISSED, None, None, None, None, None)
    return SensorScore(
        truth=fault,
        outcome=Outcome.DETECTED,
        detected_at=found.ts,
        order_number=found.order_number,
        failure_mode=found.failure_mode,
        detector=found.detector,
        delay=found.ts - fault.onset,
    )


def _order(
    events: Sequence[OrderEvent], truth: RunTruth, escalations: tuple[Escalation, ...]
) -> OrderScore:
    first, last = events[0], events[-1]
    sensor = _sensor_cause(first, truth.sensor_faults)
    cause: str | None
    if sensor is not None:
        cause = f"sensor {sensor.kind} on {sensor.signal}"
    else:
        machine = next(
            (
                f
                for f in truth.faults
                if f.equipment_id == first.equipment_id and f.onset <= first.ts
            ),
            None,
        )
        cause = machine.mechanism if machine is not None else None
    return OrderScore(
        number=first.order_number,
        equipment_id=first.equipment_id,
        opened_at=first.ts,
        failure_mode=first.failure_mode,
        failure_mode_name=first.failure_mode_name,
        priority=last.priority,
        severity=last.severity,
        findings=last.finding_count,
        summary=first.summary,
        cause=cause,
        escalations=escalations,
    )


def _escalations(events: Sequence[OrderEvent]) -> tuple[Escalation, ...]:
    out: list[Escalation] = []
    for before, after in itertools.pairwise(events):
        if _PRIORITY_RANK.get(after.priority, 9) < _PRIORITY_RANK.get(before.priority, 9):
            out.append(Escalation(after.ts, f"priority {before.priority} -> {after.priority}"))
        if _SEVERITY_RANK.get(after.severity, 0) > _SEVERITY_RANK.get(before.severity, 0):
            out.append(Escalation(after.ts, f"severity {before.severity} -> {after.severity}"))
    return tuple(out)


def _totals(
    truth: RunTruth,
    faults: Sequence[FaultScore],
    sensors: Sequence[SensorScore],
    orders: Sequence[OrderScore],
) -> Totals:
    def count(outcome: Outcome) -> int:
        return sum(f.outcome is outcome for f in faults)

    def median(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    in_time = [f for f in faults if f.outcome.in_time]
    judged = [f for f in faults if f.actual_s is not None and f.actual_s > 0]
    errors = [
        abs(f.forecast.predicted_s - f.actual_s) / f.actual_s
        for f in judged
        if f.forecast is not None and f.actual_s is not None
    ]
    false = [o for o in orders if o.false]
    healthy = set(truth.healthy)
    days = truth.machine_days
    return Totals(
        machines=len(truth.machines),
        machine_days=days,
        healthy_machines=len(healthy),
        faults=len(faults),
        faults_started=sum(f.outcome is not Outcome.NOT_STARTED for f in faults),
        detected_in_time=len(in_time),
        early=count(Outcome.EARLY),
        late=count(Outcome.LATE),
        after_failure=count(Outcome.AFTER_FAILURE),
        missed=count(Outcome.MISSED),
        not_yet=count(Outcome.NOT_YET),
        sensor_faults=len(sensors),
        sensor_detected=sum(s.outcome is Outcome.DETECTED for s in sensors),
        orders=len(orders),
        true_orders=len(orders) - len(false),
        false_orders=len(false),
        false_orders_per_machine_day=len(false) / days if days > 0 else 0.0,
        false_orders_on_healthy_machines=sum(o.equipment_id in healthy for o in false),
        median_delay=median([f.delay for f in in_time]),
        median_lead_to_alarm=median([f.lead_to_alarm for f in in_time]),
        median_lead_to_failure=median([f.lead_to_failure for f in in_time]),
        forecasts_judged=len(judged),
        forecasts_held=sum(
            f.forecast is not None and f.actual_s is not None and f.forecast.holds(f.actual_s)
            for f in judged
        ),
        median_forecast_error=statistics.median(errors) if errors else None,
    )


def totals_json(totals: Totals) -> dict[str, Any]:
    return {name: getattr(totals, name) for name in Totals.__dataclass_fields__}
