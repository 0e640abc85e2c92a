"""The engine's wiring: equipment rows, per-reading scores, training, silence, configuration."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Self

import numpy as np
import pytest

from detectors import REGISTRY, DetectorConfigError, Engine, EquipmentDetector
from detectors.base import Detector
from devices import (
    DetectorConfig,
    Equipment,
    Finding,
    FindingKind,
    Plant,
    Quality,
    Reading,
    Signal,
    plant_from_dict,
)


@dataclass
class SumAbove(EquipmentDetector):
    """Test double: scores 1.0 while the row's values add up to more than `limit`."""

    name: ClassVar[str] = "test_sum_above"
    off_delay: ClassVar[float] = 0.0
    limit: float = 10.0
    rows: list[tuple[float, dict[str, float]]] = field(default_factory=list, init=False)
    learned: int = field(default=0, init=False)

    @classmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        return cls() if len(equipment.signals) > 1 else None

    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        self.rows.append((ts, dict(x)))
        return 1.0 if sum(x.values()) > self.limit else 0.0

    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        self.learned += 1

    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        return (max(x, key=lambda name: x[name]),)

    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        return f"sum {sum(x.values())}"


@dataclass
class Silence(Detector):
    """Test double: scores 1.0 once nothing arrived for `after` seconds of source time."""

    name: ClassVar[str] = "test_silence"
    kind: ClassVar[FindingKind] = FindingKind.SENSOR
    off_delay: ClassVar[float] = 0.0
    after: float = 5.0
    last: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls()

    def score_one(self, value: float, ts: float) -> float:
        return 0.0

    def learn_one(self, value: float, ts: float) -> None:
        self.last = ts

    def score_silence(self, now: float) -> float:
        return 1.0 if now - self.last > self.after else 0.0

    def describe(self, signal: Signal, value: float, score: float) -> str:
        return f"{signal.name} silent"


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    REGISTRY.update({SumAbove.name: SumAbove, Silence.name: Silence})
    yield
    del REGISTRY[SumAbove.name], REGISTRY[Silence.name]


def plant_with(demo_plant: Plant, **changes: object) -> Plant:
    pump = dataclasses.replace(demo_plant.equipment["P-101"], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(demo_plant, equipment={"P-101": pump})


def pumps(*ids: str) -> Plant:
    """A plant of centrifugal pumps of the library, on one line."""
    equipment = [{"id": i, "type": "centrifugal_pump", "team": "m"} for i in ids]
    line = {"id": "l", "equipment": equipment}
    return plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})


def row(ts: float, **values: float) -> list[Reading]:
    return [Reading("P-101", name, ts, value) for name, value in values.items()]


FOUR = {"vibration": 1.0, "bearing_temp": 1.0, "motor_current": 1.0, "discharge_pressure": 1.0}


def test_equipment_rows_are_scored_when_complete_and_findings_name_the_signals(
    demo_plant: Plant,
) -> None:
    engine = Engine(demo_plant, ["test_sum_above"])
    detector = engine._units["P-101"].checks[0].detector
    assert isinstance(detector, SumAbove)
    engine.process(row(1.0, **FOUR))  # flow has never reported: no complete row yet
    assert detector.rows == []
    scores: list[float] = []
    findings = engine.process(row(2.0, **FOUR, flow=1.0), scores)
    assert detector.rows == [(2.0, {**FOUR, "flow": 1.0})]
    assert scores == [0.0] * 5
    # A row missing a signal is scored with its last value when the next timestamp arrives.
    findings = engine.process(row(3.0, **FOUR) + row(4.0, flow=9.0), scores)
    assert [ts for ts, _ in detector.rows] == [2.0, 3.0]
    assert detector.rows[-1][1]["flow"] == 1.0
    assert findings == []
    # The row at 4.0 (flow 9 with the others carried from 3.0) is complete when 5.0 starts.
    # The row at 5.0 scores 1.0 too, but its condition is already active: it is not new evidence.
    findings = engine.process(row(5.0, **FOUR, flow=9.0), scores)
    assert scores[-5:] == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert [(f.ts, f.active, f.signals, f.kind, f.detector) for f in findings] == [
        (4.0, True, ("flow",), FindingKind.ANOMALY, "test_sum_above")
    ]
    assert findings[0].evidence["flow"][-1] == (4.0, 9.0)
    assert detector.learned == 4


def test_uncertain_readings_keep_their_row_from_being_learned(demo_plant: Plant) -> None:
    engine = Engine(demo_plant, ["test_sum_above"])
    detector = engine._units["P-101"].checks[0].detector
    assert isinstance(detector, SumAbove)
    batch = [*row(1.0, **FOUR), Reading("P-101", "flow", 1.0, 1.0, Quality.UNCERTAIN)]
    engine.process(batch)
    assert (len(detector.rows), detector.learned) == (1, 0)


def test_train_learns_without_scoring_or_deciding(demo_plant: Plant) -> None:
    engine = Engine(demo_plant, ["test_sum_above", "limits"])
    detector = engine._units["P-101"].checks[0].detector
    assert isinstance(detector, SumAbove)
    scores: list[float] = []
    findings = engine.process(row(1.0, **FOUR, flow=99.0), scores, train=True)
    assert (findings, detector.rows, detector.learned) == ([], [], 1)
    assert scores == [0.0] * 5


def test_silence_is_checked_between_readings_in_source_time(demo_plant: Plant) -> None:
    engine = Engine(plant_with(demo_plant), ["test_silence"])
    findings = engine.process([Reading("P-101", "flow", t, 1.0) for t in range(10)])
    assert all(f.kind is FindingKind.SENSOR and f.time_to_limit is None for f in findings)
    assert {f.signals[0] for f in findings if f.active} == set(FOUR)
    findings = engine.process([Reading("P-101", "vibration", float(t), 1.0) for t in range(10, 20)])
    assert {(f.signals[0], f.active) for f in findings} == {("vibration", False), ("flow", True)}
    findings = engine.process([Reading("P-101", "flow", 21.0, 1.0)])
    assert [(f.signals, f.active) for f in findings] == [(("flow",), False)]


def test_plant_file_detectors_and_parameters_reach_the_detectors(demo_plant: Plant) -> None:
    configs = (DetectorConfig("limits"), DetectorConfig("ewma_drift", {"warmup": 50}))
    vibration = dataclasses.replace(
        demo_plant.equipment["P-101"].signals["vibration"],
        detectors=(DetectorConfig("test_silence", {"after": 2.5}),),
    )
    pump = demo_plant.equipment["P-101"]
    engine = Engine(
        plant_with(demo_plant, detectors=configs, signals={**pump.signals, "vibration": vibration})
    )
    flow = engine._streams[("P-101", "flow")]
    assert [(c.prototype.name, getattr(c.prototype, "warmup", None)) for c in flow.bank_checks] == [
        ("limits", None),
        ("ewma_drift", 50),
    ]
    assert getattr(engine._bank.detector(flow.index, "ewma_drift"), "warmup", None) == 50
    (only,) = engine._streams[("P-101", "vibration")].checks
    assert isinstance(only.detector, Silence)
    assert only.detector.after == 2.5


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        ((DetectorConfig("nope"),), "unknown detector 'nope'; known detectors: "),
        (
            (DetectorConfig("ewma_drift", {"warmpu": 5}),),
            "detector 'ewma_drift' has no parameter 'warmpu'; its parameters: clip, ",
        ),
        (
            (DetectorConfig("ewma_drift", {"warmup": "soon"}),),
            "parameter 'warmup' of detector 'ewma_drift' must be like 3600, not 'soon'",
        ),
    ],
)
def test_bad_detector_configuration_names_equipment_and_problem(
    demo_plant: Plant, configs: tuple[DetectorConfig, ...], message: str
) -> None:
    with pytest.raises(DetectorConfigError) as info:
        Engine(plant_with(demo_plant, detectors=configs))
    assert f"{demo_plant.source}: equipment P-101" in str(info.value)
    assert message in str(info.value)


def test_an_equipment_detector_named_on_a_signal_is_refused(demo_plant: Plant) -> None:
    pump = demo_plant.equipment["P-101"]
    flow = dataclasses.replace(pump.signals["flow"], detectors=(DetectorConfig("test_sum_above"),))
    with pytest.raises(DetectorConfigError, match="signal flow: detector 'test_sum_above' scores"):
        Engine(plant_with(demo_plant, signals={**pump.signals, "flow": flow}))


def test_a_clock_that_went_back_is_rejected_visibly_then_reanchored(demo_plant: Plant) -> None:
    engine = Engine(demo_plant, ["limits"])
    t0 = 1_764_000_000.0
    engine.process([Reading("P-101", "flow", t0 + k, 90.0) for k in range(10)])
    restore = Engine(demo_plant, ["limits"])
    restore.restore(engine.snapshot())  # forewarn restarted after the device rebooted
    rebooted = t0 - 86_400.0
    findings = restore.process([Reading("P-101", "flow", rebooted + k, 90.0) for k in range(19)])
    assert findings == []
    assert restore.stats.clock_went_back == 19
    assert restore.stats.out_of_order == 0
    rejects = restore.take_clock_rejects()
    assert [r.ts for r, _ in rejects] == [rebooted + k for k in range(19)]
    assert all(last == t0 + 9 for _, last in rejects)
    assert restore.take_clock_rejects() == []

    # the default policy: 20 consistent readings spanning 30 s re-anchor the stream
    before = restore.stats.readings
    restore.process([Reading("P-101", "flow", rebooted + 19 + k, 90.0) for k in range(40)])
    assert restore.stats.clock_reanchored == 1
    assert restore.stats.clock_went_back == 19 + 11
    assert restore.stats.readings - before == 40 - 11
    restore.process([Reading("P-101", "flow", rebooted + 59, 90.0)] * 2)  # a duplicate
    assert restore.stats.out_of_order == 1


def test_silence_is_judged_on_the_timer_while_nothing_arrives(demo_plant: Plant) -> None:
    engine = Engine(demo_plant, ["stale"])
    t0 = 1_764_000_000.0
    for k in range(120):
        assert engine.process([Reading("P-101", "flow", t0 + k, 90.0)]) == []
    assert engine.check_silence(30.0) == []  # a reconnect shorter than the stale delay
    assert engine.process([Reading("P-101", "flow", t0 + 150 + k, 90.0) for k in range(5)]) == []
    assert engine.check_silence(50.0) == []
    findings = engine.check_silence(130.0)  # silent past twice the 60 s floor
    assert [(f.equipment_id, f.signals, f.kind.value) for f in findings] == [
        ("P-101", ("flow",), "sensor")
    ]
    assert engine.check_silence(140.0) == []  # one episode, not one finding per tick


def test_after_a_restore_the_time_the_service_was_down_is_not_a_sensors_silence() -> None:
    plant = pumps("P-1")
    signals = list(plant.equipment["P-1"].signals)
    t0 = 1_764_000_000.0
    before = Engine(plant, ["stale"])
    for k in range(30):
        before.process([Reading("P-1", s, t0 + k, 1.0) for s in signals])
    after = Engine(plant, ["stale"])
    assert after.restore(before.snapshot()) == len(signals)
    # Ten minutes lost with the process; the first signal back alone in the first batch.
    resumed = t0 + 630
    assert after.process([Reading("P-1", signals[0], resumed, 1.0)]) == []
    assert after.check_silence(5.0) == []
    # Signals that stay silent past the allowed minute since the restart are stale.
    stale = after.process([Reading("P-1", signals[0], resumed + 200, 1.0)])
    assert {f.signals[0] for f in stale if f.active} == set(signals[1:])


def test_machines_whose_gateways_send_minutes_per_message_are_not_stale_until_one_stops() -> None:
    """Three pumps whose gateways each send 300 s of samples per message, a third of a period
    apart: every pump's newest data is minutes behind the others' most of the time. Stale only
    for the pump whose gateway stops, within a few missed messages."""
    plant = pumps("P-0", "P-1", "P-2")
    signals = list(plant.equipment["P-0"].signals)
    engine = Engine(plant, ["stale"])
    t0 = 1_764_000_000.0

    def message(pump: int, sent: float) -> list[Reading]:
        return [
            Reading(f"P-{pump}", s, ts, 1.0)
            for ts in np.arange(sent - 290.0, sent + 1.0, 10.0).tolist()
            for s in signals
        ]

    def run(start: float, stop: float, pumps: range) -> list[Finding]:
        findings = []
        for sent in np.arange(start, stop, 100.0).tolist():
            pump = round((sent - t0) / 100.0) % 3
            if pump in pumps:
                findings += engine.process(message(pump, sent))
        return findings

    run(t0 + 300.0, t0 + 1_800.0, range(3))  # the first messages teach how late they come
    healthy = run(t0 + 1_800.0, t0 + 6 * 3600.0, range(3))
    assert [f for f in healthy if f.active] == []  # at most the settling episodes ending
    stopped = run(t0 + 6 * 3600.0, t0 + 7 * 3600.0, range(2))  # P-2's gateway goes quiet
    raised = [f for f in stopped if f.active]
    assert {f.equipment_id for f in raised} == {"P-2"}
    assert {f.signals[0] for f in raised} == set(signals)
    assert min(f.ts for f in raised) - (t0 + 6 * 3600.0) < 1_200.0


def test_a_snapshot_from_before_noise_joined_the_ensemble_restores_it_fresh() -> None:
    plant = pumps("P-1")
    signals = list(plant.equipment["P-1"].signals)
    t0 = 1_764_000_000.0
    before = Engine(plant, ["flatline", "noise"])
    for k in range(50):
        before.process([Reading("P-1", s, t0 + k, 1.0 + 0.01 * (k % 7)) for s in signals])
    saved = before.snapshot()
    del saved["bank"]["columns"]["noise"], saved["decisions"]["noise"]
    after = Engine(plant, ["flatline", "noise"])
    assert after.restore(saved) == len(signals)
    index = after._streams[("P-1", signals[0])].index
    assert getattr(after._bank.detector(index, "flatline"), "n", None) == 50
    assert getattr(after._bank.detector(index, "noise"), "n", None) == 0
