"""Operations: shifts start and stop machines (soft start, coast down, cool down), weekends,
idling between shifts, random load changes, jitter that is the same for the same machine."""

from __future__ import annotations

import numpy as np
import pytest

from devices import plant_from_dict
from simulators import CONTINUOUS, Fleet, LoadChanges, Operation, Shift, SimulatorError
from simulators.fleet import describe
from simulators.operation import weekday

MONDAY = 1_767_571_200.0
"""2026-01-05T00:00:00Z."""
HOUR = 3600.0
TWO_SHIFTS = (Shift(6, 14), Shift(14, 22))


def conveyor_plant(*ids: str) -> object:
    equipment = [{"id": i, "type": "conveyor", "team": "m"} for i in ids]
    return plant_from_dict(
        {
            "site": {"id": "s"},
            "areas": [{"id": "a", "lines": [{"id": "l", "equipment": equipment}]}],
        }
    )


def run_days(operation: Operation, days: float, dt: float = 60.0) -> dict[str, np.ndarray]:
    plant = conveyor_plant("C-1")
    fleet = Fleet(plant, seed=3, operations={"C-1": operation})  # type: ignore[arg-type]
    rows: dict[str, list[float]] = {"ts": []}
    for k in range(int(days * 86400 / dt)):
        ts = MONDAY + k * dt
        (sample,) = fleet.tick(ts, dt)
        rows["ts"].append(ts)
        for name, value in sample.values.items():
            rows.setdefault(name, []).append(value)
    return {name: np.array(values) for name, values in rows.items()}


def at(data: dict[str, np.ndarray], name: str, hours: float) -> float:
    index = int(np.searchsorted(data["ts"], MONDAY + hours * HOUR))
    return float(data[name][index])


def test_weekday_of_an_epoch_time() -> None:
    assert weekday(MONDAY) == 0
    assert weekday(MONDAY + 5 * 86400 + 1) == 5


def test_two_shifts_on_weekdays_run_one_block_and_stop_at_night_and_weekends() -> None:
    data = run_days(Operation(shifts=TWO_SHIFTS, days=frozenset(range(5)), jitter=0), 7)
    assert at(data, "belt_speed", 3) == pytest.approx(0.0, abs=0.03)
    assert at(data, "belt_speed", 10) > 2.4
    assert at(data, "belt_speed", 14) > 2.4  # no stop between back-to-back shifts
    assert at(data, "belt_speed", 23) < 0.05
    assert at(data, "motor_current", 23.5) < 2
    assert at(data, "belt_speed", 5 * 24 + 10) < 0.05  # Saturday
    assert at(data, "belt_speed", 6 * 24 + 10) < 0.05  # Sunday
    running = data["belt_speed"] > 1.0
    assert 0.45 < running.mean() < 0.5  # 16 h of 24 on 5 of 7 days
    # the bearing cools down overnight toward ambient
    assert at(data, "bearing_temp", 21.9) - at(data, "bearing_temp", 5.9) > 15


def test_a_soft_start_ramps_the_speed_up_and_a_stop_coasts_down() -> None:
    plant = conveyor_plant("C-1")
    op = Operation(shifts=(Shift(6, 7),), jitter=0)
    fleet = Fleet(plant, seed=3, operations={"C-1": op})  # type: ignore[arg-type]
    speeds = []
    for k in range(0, 150 * 60, 5):
        ts = MONDAY + 5 * HOUR + 59 * 60 + k
        fleet.tick(ts, 5.0)
        speeds.append(fleet.model("C-1").speed)  # type: ignore[attr-defined]
    assert speeds[:12] == [0.0] * 12
    assert speeds[12:17] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0])
    stop = 12 + 3600 // 5
    assert speeds[stop - 1] == 1.0
    assert 0.5 < speeds[stop + 6] < 0.8  # 30 s after the stop, coasting (60 s time constant)
    assert speeds[-1] == 0.0


def test_jitter_moves_start_times_a_little_and_the_same_way_every_run() -> None:
    op = Operation(shifts=(Shift(6, 22),), jitter=600)
    first = run_days(op, 3)
    second = run_days(op, 3)
    np.testing.assert_array_equal(first["belt_speed"], second["belt_speed"])
    starts = []
    for day in range(3):
        window = (first["ts"] >= MONDAY + day * 86400 + 5 * HOUR) & (
            first["ts"] < MONDAY + day * 86400 + 7 * HOUR
        )
        start = first["ts"][window][np.argmax(first["belt_speed"][window] > 0.5)]
        starts.append((start - MONDAY - day * 86400) / HOUR)
    assert all(abs(s - 6) <= 600 / HOUR + 0.05 for s in starts)
    assert len({round(s, 3) for s in starts}) > 1


def test_idling_between_shifts_and_a_night_shift_past_midnight() -> None:
    idle = run_days(Operation(shifts=(Shift(22, 6, load=0.9),), off_shift=0.3, jitter=0), 1)
    assert at(idle, "belt_speed", 12) > 2.4  # never stops
    assert at(idle, "material_flow", 12) < 0.45 * 900
    assert at(idle, "material_flow", 23) > 0.7 * 900
    assert at(idle, "material_flow", 3) > 0.7 * 900


def test_load_changes_step_between_levels_with_ramps() -> None:
    op = Operation(load_changes=LoadChanges(levels=(0.3, 0.9), mean_dwell=2 * HOUR, ramp=600))
    data = run_days(op, 2)
    flow = data["material_flow"] / 900
    assert np.mean(np.abs(flow - 0.3) < 0.15) > 0.2
    assert np.mean(np.abs(flow - 0.9) < 0.15) > 0.2
    assert np.max(np.abs(np.diff(flow))) < 0.35  # ramped, not stepped (plus the load's wander)


def test_bad_operations_are_errors() -> None:
    with pytest.raises(SimulatorError, match="shift start must be an hour"):
        Shift(25, 3)
    with pytest.raises(SimulatorError, match="same hour"):
        Shift(6, 6)
    with pytest.raises(SimulatorError, match="at least two levels"):
        LoadChanges(levels=(0.5,))
    with pytest.raises(SimulatorError, match="weekdays 0"):
        Operation(days=frozenset({7}))
    with pytest.raises(SimulatorError, match=r"load must be in \(0, 1.2\]"):
        Operation(load=2.0)


def test_operations_are_described_in_words() -> None:
    assert describe(CONTINUOUS) == "around the clock"
    shifts = Operation(shifts=TWO_SHIFTS, days=frozenset(range(5)), off_shift=0.2)
    assert (
        describe(shifts) == "shifts 06:00-14:00, 14:00-22:00 days 0,1,2,3,4, idling at 0.2 between"
    )
    assert "load changes 0.5/0.8" in describe(Operation(load_changes=LoadChanges((0.5, 0.8))))
