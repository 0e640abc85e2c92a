"""Sensor faults corrupt one signal inside their window only, leave the machine (and its ground
truth) alone, and are recorded in the run's ground truth."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from devices import Plant
from simulators import (
    BearingWear,
    DriftingSensor,
    FaultInjection,
    Fleet,
    NoisySensor,
    RunTruth,
    Sample,
    SensorDropout,
    SensorFault,
    SensorFaultInjection,
    SimulatorError,
    SpikingSensor,
    StuckSensor,
)

START = 1_767_225_600.0
ONSET = START + 3600
END = ONSET + 3600
TICKS = 3 * 3600


def run_pair(plant: Plant, fault: SensorFault) -> tuple[list[Sample], list[Sample], Fleet]:
    healthy = Fleet(plant, seed=2)
    faulty = Fleet(plant, seed=2, faults=[SensorFaultInjection("P-1", fault)])
    h: list[Sample] = []
    f: list[Sample] = []
    for k in range(0, TICKS, 10):
        h += healthy.tick(START + k, 10.0)
        f += faulty.tick(START + k, 10.0)
    return h, f, faulty


def window(samples: list[Sample], signal: str, inside: bool) -> np.ndarray:
    return np.array(
        [s.values.get(signal, math.nan) for s in samples if (ONSET <= s.ts < END) == inside]
    )


def test_a_stuck_sensor_repeats_its_last_value(make_plant: Callable[..., Plant]) -> None:
    h, f, _ = run_pair(make_plant("P-1"), StuckSensor("bearing_temp", ONSET, 3600))
    stuck = window(f, "bearing_temp", True)
    assert len(set(stuck.tolist())) == 1
    before = [s.values["bearing_temp"] for s in h if s.ts < ONSET][-1]
    assert stuck[0] == before
    np.testing.assert_array_equal(
        window(h, "bearing_temp", False), window(f, "bearing_temp", False)
    )
    np.testing.assert_array_equal(window(h, "flow", True), window(f, "flow", True))


def test_a_drifting_sensor_walks_away_at_its_rate(make_plant: Callable[..., Plant]) -> None:
    h, f, _ = run_pair(make_plant("P-1"), DriftingSensor("flow", ONSET, 3600, rate=12.0))
    offset = window(f, "flow", True) - window(h, "flow", True)
    elapsed = np.array([s.ts - ONSET for s in f if ONSET <= s.ts < END]) / 3600
    np.testing.assert_allclose(offset, 12.0 * elapsed, atol=1e-9)


def test_spikes_jump_far_now_and_then(make_plant: Callable[..., Plant]) -> None:
    h, f, _ = run_pair(make_plant("P-1"), SpikingSensor("vibration", ONSET, 3600, probability=0.1))
    jumps = np.abs(window(f, "vibration", True) - window(h, "vibration", True))
    spiked = jumps > 0
    assert 0.03 < spiked.mean() < 0.2
    assert jumps[spiked].min() > 0.9  # half the signal's scale (about 2.2 mm/s) at least


def test_a_dropout_leaves_the_readings_out(make_plant: Callable[..., Plant]) -> None:
    _, f, _ = run_pair(make_plant("P-1"), SensorDropout("flow", ONSET, 3600))
    assert all("flow" not in s.values for s in f if ONSET <= s.ts < END)
    assert all("flow" in s.values for s in f if not ONSET <= s.ts < END)
    _, partial, _ = run_pair(make_plant("P-1"), SensorDropout("flow", ONSET, 3600, probability=0.5))
    missing = np.isnan(window(partial, "flow", True))
    assert 0.35 < missing.mean() < 0.65


def test_a_noisy_sensor_is_much_noisier(make_plant: Callable[..., Plant]) -> None:
    h, f, _ = run_pair(make_plant("P-1"), NoisySensor("discharge_pressure", ONSET, 3600))
    extra = window(f, "discharge_pressure", True) - window(h, "discharge_pressure", True)
    assert 0.2 < extra.std() < 0.4  # ten times the 0.03 bar of normal noise
    np.testing.assert_array_equal(
        window(h, "discharge_pressure", False), window(f, "discharge_pressure", False)
    )


def test_sensor_faults_are_in_the_ground_truth_and_leave_machine_truth_alone(
    make_plant: Callable[..., Plant], tmp_path: Path
) -> None:
    plant = make_plant("P-1", "P-2")
    wear = BearingWear(onset=START, time_to_failure=2 * 3600)
    drift = DriftingSensor("vibration", ONSET, None, rate=-30.0)
    fleet = Fleet(
        plant,
        seed=1,
        faults=[FaultInjection("P-1", wear), SensorFaultInjection("P-1", drift)],
    )
    for k in range(0, TICKS, 10):
        fleet.tick(START + k, 10.0)
    truth = fleet.truth("unit")
    (machine,) = truth.faults
    assert machine.alarm_crossed_at is not None  # the true vibration rose past the alarm
    (sensor,) = truth.sensor_faults
    assert (sensor.equipment_id, sensor.signal, sensor.kind) == ("P-1", "vibration", "drift")
    assert sensor.onset == ONSET
    assert sensor.end is None
    assert truth.healthy == ("P-2",)
    assert truth.machine_days == pytest.approx(2 * TICKS / 86400)
    written = RunTruth.read(truth.write(tmp_path / "truth.json"))
    assert written == truth
    document = json.loads((tmp_path / "truth.json").read_text())
    assert document["machines"][1] == {
        "equipment_id": "P-2",
        "type": "centrifugal_pump",
        "path": "sim/area/line/P-2",
        "operation": "around the clock",
        "healthy": True,
    }
    assert document["faults"][0]["alarm_crossed_at"] == machine.alarm_crossed_at


def test_a_sensor_fault_on_a_signal_the_machine_lacks_is_an_error(
    make_plant: Callable[..., Plant],
) -> None:
    with pytest.raises(SimulatorError, match="no simulated signal 'winding_temp'"):
        Fleet(
            make_plant("P-1"),
            seed=1,
            faults=[SensorFaultInjection("P-1", StuckSensor("winding_temp", ONSET))],
        )
    with pytest.raises(SimulatorError, match="probability must be in"):
        SpikingSensor("flow", ONSET, probability=0)
    with pytest.raises(SimulatorError, match="duration must be a positive number"):
        StuckSensor("flow", ONSET, duration=-1)
