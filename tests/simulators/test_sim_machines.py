"""Every machine type: its signals are the library's, a healthy day stays inside every warning
limit, its signals move together as the physics says, and every fault it can develop crosses an
alarm limit between onset and failure, on a signal whose findings get the fault's failure mode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from devices import Finding, FindingKind, Plant, Severity, plant_from_dict
from devices.loader import builtin_types
from simulators import FAULTS, MACHINE_MODELS, FaultInjection, Fleet, MachineModel

START = 1_767_225_600.0
HOUR = 3600.0
DAY = 86400

CORRELATED = {
    "centrifugal_pump": ("flow", "motor_current", 1),
    "induction_motor": ("current", "speed", -1),
    "fan": ("airflow", "motor_current", 1),
    "compressor": ("motor_current", "vibration", 1),
    "gearbox": ("torque", "vibration", 1),
    "conveyor": ("material_flow", "motor_current", 1),
}


def one_of(machine_type: str, count: int = 1) -> Plant:
    equipment = [{"id": f"X-{i}", "type": machine_type, "team": "m"} for i in range(count)]
    return plant_from_dict(
        {
            "site": {"id": "s"},
            "areas": [{"id": "a", "lines": [{"id": "l", "equipment": equipment}]}],
        }
    )


def series(fleet: Fleet, seconds: float, dt: float) -> dict[str, dict[str, np.ndarray]]:
    rows: dict[str, dict[str, list[float]]] = {}
    for k in range(int(seconds / dt)):
        for sample in fleet.tick(START + k * dt, dt):
            for name, value in sample.values.items():
                rows.setdefault(sample.equipment_id, {}).setdefault(name, []).append(value)
    return {eq: {n: np.array(v) for n, v in signals.items()} for eq, signals in rows.items()}


def test_six_types_each_producing_exactly_the_signals_of_its_library_type() -> None:
    assert set(MACHINE_MODELS) == {
        "centrifugal_pump",
        "induction_motor",
        "fan",
        "compressor",
        "gearbox",
        "conveyor",
    }
    library = builtin_types()
    for name, model in MACHINE_MODELS.items():
        assert set(model.signals) == set(library[name].signals), name
        assert model.vibration_zones.bc == library[name].signals["vibration"].limits.warn_high
        assert model.vibration_zones.cd == library[name].signals["vibration"].limits.alarm_high
        modes = {mode.code for mode in library[name].failure_modes}
        for mechanism in model.mechanisms:
            assert FAULTS[mechanism].failure_mode in modes | {"AIR"}, (name, mechanism)


@pytest.fixture(scope="module")
def healthy_days() -> dict[str, tuple[Plant, dict[str, dict[str, np.ndarray]]]]:
    out = {}
    for name in MACHINE_MODELS:
        plant = one_of(name, 3)
        out[name] = (plant, series(Fleet(plant, seed=21), DAY, 10.0))
    return out


@pytest.mark.parametrize("machine_type", sorted(MACHINE_MODELS))
def test_a_healthy_day_stays_inside_every_warning_limit(
    machine_type: str, healthy_days: dict[str, Any]
) -> None:
    plant, data = healthy_days[machine_type]
    for eq in plant:
        for name, signal in eq.signals.items():
            values = data[eq.id][name]
            limits = signal.limits
            if limits.warn_high is not None:
                assert values.max() < limits.warn_high - 0.05 * abs(limits.warn_high), name
            if limits.warn_low is not None:
                assert values.min() > limits.warn_low + 0.05 * abs(limits.warn_low), name
            assert np.all(np.isfinite(values))
            assert values.std() > 0, f"{name} never moves"


@pytest.mark.parametrize("machine_type", sorted(MACHINE_MODELS))
def test_signals_move_together_through_the_load(
    machine_type: str, healthy_days: dict[str, Any]
) -> None:
    _, data = healthy_days[machine_type]
    a, b, sign = CORRELATED[machine_type]
    for signals in data.values():
        assert sign * np.corrcoef(signals[a], signals[b])[0, 1] > 0.5


def test_vibration_sits_in_zone_a_or_b_and_machines_differ(healthy_days: dict[str, Any]) -> None:
    for name, (_, data) in healthy_days.items():
        zones = MACHINE_MODELS[name].vibration_zones
        means = [signals["vibration"].mean() for signals in data.values()]
        assert all(zones.zone(m).value in "AB" for m in means), name
        assert len({round(m, 6) for m in means}) == len(means)


CASES = [(t, m) for t, model in sorted(MACHINE_MODELS.items()) for m in sorted(model.mechanisms)]


@pytest.mark.parametrize(("machine_type", "mechanism"), CASES)
def test_every_fault_crosses_an_alarm_limit_before_failure(
    machine_type: str, mechanism: str
) -> None:
    plant = one_of(machine_type)
    fault = FAULTS[mechanism](onset=START + 6 * HOUR, time_to_failure=24 * HOUR)
    fleet = Fleet(plant, seed=4, faults=[FaultInjection("X-0", fault)])
    series(fleet, 31 * HOUR, 60.0)
    (truth,) = fleet.ground_truth()
    alarm = truth.first_alarm
    assert alarm is not None, "no alarm limit crossed"
    assert fault.onset < alarm.ts < fault.failure_at
    assert 0.5 < (alarm.ts - fault.onset) / fault.time_to_failure < 0.95
    assert truth.warning_crossed_at is not None
    assert truth.warning_crossed_at <= alarm.ts
    equipment = plant.equipment["X-0"]
    finding = Finding(
        "X-0", (alarm.signal,), FindingKind.LIMIT, Severity.ALARM, 1.0, alarm.ts, "", ""
    )
    assert equipment.failure_mode_for(finding).code in fault.failure_modes
    assert truth.mechanism == mechanism
    assert truth.failure_modes == fault.failure_modes


@pytest.mark.parametrize("machine_type", sorted(MACHINE_MODELS))
def test_a_fault_changes_the_physics_but_not_the_noise(machine_type: str) -> None:
    model: type[MachineModel[Any]] = MACHINE_MODELS[machine_type]
    mechanism = sorted(model.mechanisms)[0]
    fault = FAULTS[mechanism](onset=START + HOUR, time_to_failure=HOUR)
    plant = one_of(machine_type)
    healthy = series(Fleet(plant, seed=8), HOUR, 10.0)["X-0"]
    faulty = series(Fleet(plant, seed=8, faults=[FaultInjection("X-0", fault)]), HOUR, 10.0)["X-0"]
    for name in model.signals:
        np.testing.assert_array_equal(healthy[name], faulty[name])
