"""The centrifugal pump model: healthy behaviour over a day, correlated signals, smooth load."""

from __future__ import annotations

import numpy as np
import pytest

from devices import Plant
from simulators import CentrifugalPump, Fleet, PumpParameters, machine_rng

START = 1_767_225_600.0
"""2026-01-01T00:00:00Z."""
DAY = 86400


@pytest.fixture(scope="module")
def healthy_day(demo_plant: Plant) -> dict[str, np.ndarray]:
    """One simulated day of the demo plant at 1 s: per pump, an array (seconds x signals)."""
    fleet = Fleet(demo_plant, seed=42)
    names = CentrifugalPump.signals
    rows: dict[str, list[list[float]]] = {eq: [] for eq in fleet.equipment_ids}
    for k in range(DAY):
        for sample in fleet.tick(START + k, 1.0):
            rows[sample.equipment_id].append([sample.values[n] for n in names])
    return {eq: np.array(r) for eq, r in rows.items()}


def column(data: np.ndarray, name: str) -> np.ndarray:
    return data[:, CentrifugalPump.signals.index(name)]


def test_healthy_pumps_stay_well_inside_every_warning_limit_for_a_day(
    demo_plant: Plant, healthy_day: dict[str, np.ndarray]
) -> None:
    for eq_id, data in healthy_day.items():
        for name, signal in demo_plant.equipment[eq_id].signals.items():
            values = column(data, name)
            limits = signal.limits
            if limits.warn_high is not None:
                margin = 0.1 * abs(limits.warn_high)
                assert values.max() < limits.warn_high - margin, (eq_id, name, values.max())
            if limits.warn_low is not None:
                margin = 0.1 * abs(limits.warn_low)
                assert values.min() > limits.warn_low + margin, (eq_id, name, values.min())


def test_signals_are_correlated_through_the_load(healthy_day: dict[str, np.ndarray]) -> None:
    for data in healthy_day.values():
        flow = column(data, "flow")
        assert np.corrcoef(flow, column(data, "motor_current"))[0, 1] > 0.5
        assert np.corrcoef(flow, column(data, "discharge_pressure"))[0, 1] > 0.5


def test_values_are_in_the_ranges_of_a_pump_at_75_to_90_percent_load(
    healthy_day: dict[str, np.ndarray],
) -> None:
    means = {
        name: np.mean([column(d, name).mean() for d in healthy_day.values()])
        for name in CentrifugalPump.signals
    }
    assert 90 < means["flow"] < 108
    assert 4.9 < means["discharge_pressure"] < 5.6
    assert 40.5 < means["motor_current"] < 45
    assert 2.1 < means["vibration"] < 2.16
    assert 50 < means["bearing_temp"] < 58
    base_loads = {column(d, "flow").mean() / 120 for d in healthy_day.values()}
    assert len(base_loads) == len(healthy_day)


def test_bearing_temperature_follows_the_daily_ambient_cycle(
    healthy_day: dict[str, np.ndarray],
) -> None:
    for data in healthy_day.values():
        temp = column(data, "bearing_temp")
        afternoon = temp[14 * 3600 : 16 * 3600].mean()
        night = temp[2 * 3600 : 4 * 3600].mean()
        assert afternoon - night > 2.5


def test_load_wanders_smoothly_and_within_its_bound() -> None:
    pump = CentrifugalPump.create("P-1", machine_rng(9, "P-1"))
    p = pump.params
    loads = []
    for k in range(DAY):
        pump.step(START + k, 1.0)
        loads.append(pump.load)
    steps = np.abs(np.diff(loads))
    assert steps.max() < 0.03
    assert max(abs(x - p.base_load) for x in loads) < p.load_bound * p.load_sd
    assert 0.6 * p.load_sd < np.std(loads) < p.load_sd


def test_parameters_differ_from_pump_to_pump_within_the_design_range() -> None:
    loads = [
        CentrifugalPump.draw_parameters(machine_rng(1, f"P-{i}")).base_load for i in range(200)
    ]
    assert min(loads) >= 0.75
    assert max(loads) <= 0.9
    assert len(set(loads)) == 200


def test_a_pump_starts_at_its_thermal_steady_state() -> None:
    params = PumpParameters(base_load=0.8, load_sd=1e-9)
    pump = CentrifugalPump("P-1", params, machine_rng(1, "P-1"))
    first = pump.step(START, 1.0)["bearing_temp"]
    settled = pump.ambient(START) + 25 + 10 * 0.8
    assert first == pytest.approx(settled, abs=1.0)
