"""Sensor health detectors on a simulated pump: each simulated sensor fault is caught by the
detector made for it (and by no other), and a healthy pump raises nothing in a simulated day.

The detectors are driven as the engine drives them, without a broker: every reading is scored,
then learned, and its score debounced; every `SILENCE_CHECK` seconds of source time each stream
is asked `score_silence(now)` with the newest source time seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from detectors.base import Detector
from detectors.decision import Debounce, Transition
from detectors.engine import Engine
from detectors.health import Flatline, Noise, PhysicalRange, Spikes, StaleSensor
from devices import FindingKind, Plant
from simulators import (
    DriftingSensor,
    Fleet,
    LoadChanges,
    NoisySensor,
    Operation,
    SensorDropout,
    SensorFault,
    SensorFaultInjection,
    Shift,
    SpikingSensor,
    StuckSensor,
)
from tests.simulators.conftest import pump_plant

HEALTH: tuple[type[Detector], ...] = (StaleSensor, Flatline, Noise, Spikes, PhysicalRange)
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC
HOUR = 3600.0
SILENCE_CHECK = 10.0


@dataclasses.dataclass(frozen=True)
class Raised:
    detector: str
    signal: str
    ts: float


def with_period(plant: Plant, period: float) -> Plant:
    """The plant with every signal expected every `period` seconds (what a scenario does)."""
    equipment = {
        eq.id: dataclasses.replace(
            eq,
            signals={
                name: dataclasses.replace(s, sample_period=period) for name, s in eq.signals.items()
            },
        )
        for eq in plant
    }
    fields = {
        f.name: getattr(plant, f.name)
        for f in dataclasses.fields(plant)
        if f.init and not f.name.startswith("_")
    }
    fields["equipment"] = equipment
    return Plant(**fields)


def run(
    faults: Sequence[SensorFault] = (),
    *,
    hours: float,
    period: float = 1.0,
    operation: Operation | None = None,
    health: Sequence[type[Detector]] = HEALTH,
) -> list[Raised]:
    """Simulate pump P-1 for `hours` and return every condition the `health` detectors raised."""
    plant = with_period(pump_plant("P-1"), period)
    fleet = Fleet(
        plant,
        seed=5,
        faults=[SensorFaultInjection("P-1", f) for f in faults],
        operations={"P-1": operation} if operation is not None else None,
    )
    checks: list[tuple[str, Detector, Debounce]] = []
    for signal in plant.equipment["P-1"].signals.values():
        for cls in health:
            det = cls.for_signal(signal)
            if det is not None:
                decision = Debounce(det.on_threshold, det.off_score(), det.on_delay, det.off_delay)
                checks.append((signal.name, det, decision))
    raised: list[Raised] = []

    def decide(name: str, det: Detector, decision: Debounce, score: float, ts: float) -> None:
        if decision.update(score, ts, int(det.severity(score))) is Transition.RAISED:
            raised.append(Raised(det.name, name, ts))

    next_check = START + SILENCE_CHECK
    ts = START
    while ts < START + hours * HOUR:
        (sample,) = fleet.tick(ts, period)
        for name, det, decision in checks:
            value = sample.values.get(name)
            if value is None:
                continue
            score = det.score_one(value, ts)
            det.learn_one(value, ts)
            decide(name, det, decision, score, ts)
        if ts >= next_check:
            for name, det, decision in checks:
                decide(name, det, decision, det.score_silence(ts), ts)
            next_check += SILENCE_CHECK
        ts += period
    return raised


ONSET = START + 2 * HOUR


@pytest.mark.parametrize(
    ("fault", "detector", "within"),
    [
        (StuckSensor("bearing_temp", ONSET), "flatline", 600.0),
        (StuckSensor("flow", ONSET), "flatline", 600.0),
        (SensorDropout("motor_current", ONSET, duration=HOUR), "stale", 120.0),
        (SpikingSensor("vibration", ONSET), "spike", 1800.0),
        (SpikingSensor("discharge_pressure", ONSET, probability=0.002), "spike", 3600.0),
        # a failing reference drags the reading below zero: no vibration sensor reads that
        (DriftingSensor("vibration", ONSET, rate=-30.0), "physical_range", 900.0),
    ],
    ids=lambda x: x.name if isinstance(x, SensorFault) else None,
)
def test_simulated_sensor_fault_is_caught_by_its_detector(
    fault: SensorFault, detector: str, within: float
) -> None:
    raised = run([fault], hours=3.5)
    assert {(r.detector, r.signal) for r in raised} == {(detector, fault.signal)}
    (first,) = [r for r in raised if r.ts >= fault.onset]
    assert first.ts - fault.onset <= within


def test_a_healthy_pump_raises_nothing_in_a_day() -> None:
    assert run(hours=24.0, period=5.0) == []


def test_a_pump_run_in_shifts_raises_nothing_in_a_day() -> None:
    """Stopping and starting, then standing still all evening, is not a sensor fault."""
    shifts = Operation(shifts=(Shift(6, 14), Shift(15, 22)))
    assert run(hours=24.0, period=5.0, operation=shifts) == []


def test_a_noisy_sensor_is_caught_by_noise_once_it_has_learned_a_day() -> None:
    """`noise` judges after a day (a shift machine's every regime); then a discharge-pressure
    sensor ten times noisier is caught within minutes, by it alone."""
    onset = START + 25 * HOUR
    raised = run([NoisySensor("discharge_pressure", onset, duration=HOUR)], hours=26.5, period=5.0)
    assert {(r.detector, r.signal) for r in raised} == {("noise", "discharge_pressure")}
    (first,) = raised
    assert onset < first.ts <= onset + 900.0


@pytest.mark.parametrize(
    "operation",
    [
        Operation(shifts=(Shift(6, 14), Shift(15, 22)), days=frozenset(range(5))),
        Operation(load_changes=LoadChanges(levels=(0.6, 0.9, 1.1), mean_dwell=2 * HOUR)),
        Operation(shifts=(Shift(6, 22),), off_shift=0.2),
    ],
    ids=["shifts on weekdays", "load steps", "idling off shift"],
)
def test_noise_raises_nothing_on_a_pump_that_starts_stops_and_steps_for_four_days(
    operation: Operation,
) -> None:
    """Four days of judging after a day of learning, a weekend of standing still among them
    (2026-01-03 and 04) and the Monday start after it: no start, stop or load step reads as a
    noisy sensor."""
    assert run(hours=120.0, period=10.0, operation=operation, health=(Noise,)) == []


def test_the_engine_reports_each_sensor_fault_once_as_a_sensor_finding() -> None:
    """Five sensor faults on one pump at once, through the engine with the five health
    detectors: one raised finding per fault, from the right detector, kind SENSOR, and no time to
    limit (a broken sensor says nothing about when the machine fails). The first 90 minutes are
    named the healthy baseline, so that `noise` judges without its day of learning."""
    faults = [
        StuckSensor("bearing_temp", ONSET),
        SpikingSensor("vibration", ONSET),
        SensorDropout("motor_current", ONSET),
        DriftingSensor("flow", ONSET, rate=-600.0),
        NoisySensor("discharge_pressure", ONSET),
    ]
    plant = pump_plant("P-1")
    fleet = Fleet(plant, seed=5, faults=[SensorFaultInjection("P-1", f) for f in faults])
    engine = Engine(plant, [cls.name for cls in HEALTH])
    findings = []
    for second in range(int(3.5 * HOUR)):
        if second == int(1.5 * HOUR):
            engine.end_warmup()
        (sample,) = fleet.tick(START + second, 1.0)
        findings += engine.process(sample.readings())
    raised = [f for f in findings if f.active]
    assert sorted((f.detector, f.signals) for f in raised) == [
        ("flatline", ("bearing_temp",)),
        ("noise", ("discharge_pressure",)),
        ("physical_range", ("flow",)),
        ("spike", ("vibration",)),
        ("stale", ("motor_current",)),
    ]
    assert all(f.kind is FindingKind.SENSOR and f.time_to_limit is None for f in raised)
    assert all(f.ts >= ONSET for f in raised)
    stale = next(f for f in raised if f.detector == "stale")
    assert stale.ts - ONSET <= 70.0
    assert stale.summary.startswith("motor_current has sent nothing for about 60 s")
    noise = next(f for f in raised if f.detector == "noise")
    assert noise.ts - ONSET <= 420.0  # five minutes loud, once its scale has climbed
    assert noise.summary.startswith("discharge_pressure has been ")
    assert "times noisier than its usual noisiest" in noise.summary
