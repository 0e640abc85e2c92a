"""Scoring a replay against ground truth (pure): outcomes, lead times, sensor faults, false
orders per machine-day, escalations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices import Severity
from forewarn.replay.events import OrderEvent
from forewarn.replay.scoring import Outcome, score
from simulators import GroundTruth, LimitCrossing, MachineTruth, RunTruth, SensorFaultTruth

T0 = 1_767_571_200.0
H = 3600.0
DAY = 86400.0


def fault(eq: str, onset: float, failure: float, alarm: float | None) -> GroundTruth:
    crossings = (
        () if alarm is None else (LimitCrossing("vibration", Severity.ALARM, alarm, 7.2, 7.1),)
    )
    return GroundTruth(
        equipment_id=eq,
        fault="BearingWear",
        mechanism="bearing_wear",
        failure_mode="VIB",
        onset=onset,
        failure_at=failure,
        crossings=crossings,
        shape="exponential",
        failure_modes=("VIB",),
    )


def truth(
    faults: tuple[GroundTruth, ...] = (), sensors: tuple[SensorFaultTruth, ...] = ()
) -> RunTruth:
    machines = tuple(
        MachineTruth(f"M-{i}", "fan", f"s/a/l/M-{i}", "around the clock") for i in range(4)
    )
    return RunTruth("unit", 1, T0, T0 + 2 * DAY - 10, 10.0, machines, faults, sensors)


def event(
    eq: str, ts: float, number: str, *, created: bool = True, **changes: object
) -> OrderEvent:
    base = OrderEvent(
        ts=ts,
        equipment_id=eq,
        signals=("vibration",),
        kind="drift",
        finding_severity="warning",
        detector="ewma_drift",
        summary="vibration drifting up",
        active=True,
        time_to_limit=None,
        order_number=number,
        created=created,
        failure_mode="VIB",
        failure_mode_name="Abnormal vibration",
        priority="medium",
        severity="warning",
        status="open",
        finding_count=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_outcomes_and_lead_times() -> None:
    faults = (
        fault("M-0", T0 + 10 * H, T0 + 30 * H, T0 + 26 * H),  # caught early
        fault("M-1", T0 + 10 * H, T0 + 30 * H, T0 + 20 * H),  # caught after the alarm
        fault("M-2", T0 + 10 * H, T0 + 20 * H, T0 + 18 * H),  # never caught, failed in the run
        fault("M-3", T0 + 40 * H, T0 + 90 * H, None),  # the run ends before it fails
    )
    events = [
        event("M-0", T0 + 5 * H, "WO-1"),  # before onset: a false order
        event("M-0", T0 + 12 * H, "WO-1", created=False, finding_count=2),
        event("M-1", T0 + 22 * H, "WO-2", failure_mode="PDE"),
    ]
    result = score(truth(faults), events)
    early, late, missed, pending = result.faults
    assert early.outcome is Outcome.EARLY
    assert early.order_number == "WO-1"
    assert early.delay == 2 * H
    assert early.lead_to_alarm == 14 * H
    assert early.lead_to_failure == 18 * H
    assert early.mode_matches is True
    assert late.outcome is Outcome.LATE
    assert late.lead_to_alarm == -2 * H
    assert late.mode_matches is False
    assert missed.outcome is Outcome.MISSED
    assert missed.detected_at is None
    assert pending.outcome is Outcome.NOT_YET
    (first, second) = result.orders
    assert first.false  # opened before M-0's fault began
    assert not second.false
    assert second.cause == "bearing_wear"
    totals = result.totals
    assert (totals.faults, totals.faults_started, totals.detected_in_time) == (4, 4, 2)
    assert (totals.early, totals.late, totals.missed, totals.not_yet) == (1, 1, 1, 1)
    assert totals.machine_days == pytest.approx(8.0)
    assert totals.false_orders == 1
    assert totals.false_orders_per_machine_day == pytest.approx(1 / 8)
    assert totals.median_lead_to_failure == pytest.approx((18 * H + 8 * H) / 2)


def test_the_forecast_when_the_order_opened_is_judged_against_the_crossing() -> None:
    faults = (
        fault("M-0", T0 + 10 * H, T0 + 30 * H, T0 + 26 * H),  # opened at 12 h: 14 h left
        fault("M-1", T0 + 10 * H, T0 + 30 * H, T0 + 26 * H),  # opened at 16 h: 10 h left
        fault("M-2", T0 + 10 * H, T0 + 30 * H, T0 + 26 * H),  # opened with no forecast
        fault("M-3", T0 + 10 * H, T0 + 30 * H, None),  # the limit is never crossed
    )
    events = [
        event(
            "M-0", T0 + 12 * H, "WO-1", time_to_limit=12 * H, time_to_limit_range=(8 * H, 20 * H)
        ),
        event("M-1", T0 + 16 * H, "WO-2", time_to_limit=5 * H, time_to_limit_range=(4 * H, 6 * H)),
        event("M-2", T0 + 16 * H, "WO-3"),
        event("M-3", T0 + 16 * H, "WO-4", time_to_limit=5 * H, time_to_limit_range=(4 * H, 6 * H)),
    ]
    result = score(truth(faults), events)
    held, narrow, none, never = result.faults
    assert held.forecast is not None
    assert held.actual_s == 14 * H
    assert held.forecast.holds(14 * H)
    assert narrow.forecast is not None
    assert not narrow.forecast.holds(10 * H)
    assert none.forecast is None
    assert none.actual_s == 10 * H
    assert never.actual_s is None
    totals = result.totals
    assert (totals.forecasts_judged, totals.forecasts_held) == (3, 1)
    assert totals.median_forecast_error == pytest.approx((2 / 14 + 5 / 10) / 2)


def test_after_failure_and_not_started() -> None:
    faults = (
        fault("M-0", T0 + 1 * H, T0 + 2 * H, T0 + 1.5 * H),
        fault("M-1", T0 + 3 * DAY, T0 + 4 * DAY, None),
    )
    result = score(truth(faults), [event("M-0", T0 + 3 * H, "WO-1")])
    assert result.faults[0].outcome is Outcome.AFTER_FAILURE
    assert result.faults[1].outcome is Outcome.NOT_STARTED
    assert result.totals.faults_started == 1
    assert result.totals.detected_in_time == 0


def test_sensor_faults_and_their_orders() -> None:
    stuck = SensorFaultTruth("M-2", "bearing_temp", "StuckSensor", "stuck", T0 + H, T0 + 3 * H)
    missed = SensorFaultTruth("M-3", "airflow", "SensorDropout", "dropout", T0 + H, None)
    events = [
        event(
            "M-2", T0 + 2 * H, "WO-1", signals=("bearing_temp",), kind="sensor", failure_mode="AIR"
        ),
        event("M-2", T0 + 10 * H, "WO-2", signals=("bearing_temp",)),  # long after: false
    ]
    result = score(truth(sensors=(stuck, missed)), events)
    found, lost = result.sensor_faults
    assert found.outcome is Outcome.DETECTED
    assert found.delay == H
    assert found.failure_mode == "AIR"
    assert lost.outcome is Outcome.MISSED
    assert [o.cause for o in result.orders] == ["sensor stuck on bearing_temp", None]
    assert result.totals.sensor_detected == 1
    assert result.totals.healthy_machines == 2
    assert result.totals.false_orders_on_healthy_machines == 0


def test_a_finding_about_a_faulty_sensor_does_not_count_for_the_machine_fault() -> None:
    machine = fault("M-0", T0 + H, T0 + 30 * H, T0 + 25 * H)
    spikes = SensorFaultTruth("M-0", "vibration", "SpikingSensor", "spikes", T0 + 2 * H, T0 + 4 * H)
    events = [
        event("M-0", T0 + 3 * H, "WO-1", kind="limit"),
        event("M-0", T0 + 8 * H, "WO-2", signals=("bearing_temp",)),
    ]
    result = score(truth((machine,), (spikes,)), events)
    assert result.faults[0].order_number == "WO-2"
    assert result.faults[0].delay == 7 * H
    assert result.sensor_faults[0].order_number == "WO-1"


def test_escalations_are_the_raises_of_priority_and_severity() -> None:
    machine = fault("M-0", T0, T0 + 30 * H, T0 + 25 * H)
    events = [
        event("M-0", T0 + H, "WO-1"),
        event("M-0", T0 + 2 * H, "WO-1", created=False, priority="urgent"),
        event("M-0", T0 + 3 * H, "WO-1", created=False, priority="urgent", severity="alarm"),
        event("M-0", T0 + 4 * H, "WO-1", created=False, priority="high", severity="alarm"),
    ]
    result = score(truth((machine,)), events)
    assert [(e.ts - T0, e.what) for e in result.faults[0].escalations] == [
        (2 * H, "priority medium -> urgent"),
        (3 * H, "severity warning -> alarm"),
    ]
    assert result.orders[0].priority == "high"
