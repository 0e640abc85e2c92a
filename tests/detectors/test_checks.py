"""Every registered detector passes the generic checks and beats chance on simulated faults."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import pytest

from detectors import REGISTRY, Detector, Engine, EquipmentDetector
from detectors.checks import yield_checks
from detectors.registry import build_for_equipment, build_for_signal
from devices import DetectorConfig, Equipment, Finding, Limits, Plant, plant_from_dict
from simulators import Fleet
from simulators.faults import BearingWear, ImpellerWear
from simulators.fleet import FaultInjection, Injection, SensorFaultInjection
from simulators.sensor_faults import (
    DriftingSensor,
    NoisySensor,
    SensorDropout,
    SpikingSensor,
    StuckSensor,
)

HOUR = 3600.0
ONSET = 2.5 * HOUR
END = 4.5 * HOUR


@functools.cache
def pump_plant() -> Plant:
    return plant_from_dict(
        {
            "site": {"id": "test"},
            "areas": [
                {
                    "id": "a",
                    "lines": [
                        {
                            "id": "l",
                            "equipment": [{"id": "P-1", "type": "centrifugal_pump", "team": "m"}],
                        }
                    ],
                }
            ],
        }
    )


SCENARIOS: dict[str, tuple[Injection, ...]] = {
    "healthy": (),
    "bearing_wear": (FaultInjection("P-1", BearingWear(ONSET, 2 * HOUR)),),
    "impeller_wear": (FaultInjection("P-1", ImpellerWear(ONSET, 1.5 * HOUR)),),
    "stuck": (SensorFaultInjection("P-1", StuckSensor("vibration", ONSET)),),
    "spikes": (SensorFaultInjection("P-1", SpikingSensor("vibration", ONSET, probability=0.02)),),
    "dropout": (SensorFaultInjection("P-1", SensorDropout("flow", ONSET)),),
    "sensor_drift": (SensorFaultInjection("P-1", DriftingSensor("vibration", ONSET, rate=-20.0)),),
    "noisy": (SensorFaultInjection("P-1", NoisySensor("vibration", ONSET)),),
}


@functools.cache
def simulated(scenario: str) -> tuple[Any, ...]:
    """Readings of one pump, one per second, healthy until ONSET and faulty after it."""
    fleet = Fleet(pump_plant(), seed=7, faults=SCENARIOS[scenario])
    readings = []
    for second in range(int(END)):
        for sample in fleet.tick(float(second), 1.0):
            readings.extend(sample.readings())
    return tuple(readings)


def series(signal: str, n: int = 10_000) -> list[tuple[float, float]]:
    return [(r.ts, r.value) for r in simulated("bearing_wear") if r.signal == signal][-n:]


def rows(n: int = 6_000) -> list[tuple[float, dict[str, float]]]:
    by_ts: dict[float, dict[str, float]] = {}
    for r in simulated("bearing_wear"):
        by_ts.setdefault(r.ts, {})[r.signal] = r.value
    return list(by_ts.items())[-n:]


def bare(equipment: Equipment) -> Equipment:
    """`equipment` with no limits on its signals, as a bare recording has."""
    signals = {n: dataclasses.replace(s, limits=Limits()) for n, s in equipment.signals.items()}
    return dataclasses.replace(equipment, signals=signals)


def checked_pump(cls: type[Detector] | type[EquipmentDetector]) -> Equipment:
    """The pump, bare of limits for a signal detector that judges only signals without them."""
    equipment = pump_plant().equipment["P-1"]
    if issubclass(cls, Detector) and cls.for_signal(equipment.signals["vibration"]) is None:
        return bare(equipment)
    return equipment


def factory(cls: type[Detector] | type[EquipmentDetector]) -> Callable[[], Any]:
    equipment = checked_pump(cls)
    config = DetectorConfig(cls.name, dict(cls.check_params))
    if issubclass(cls, EquipmentDetector):
        return lambda: build_for_equipment(config, equipment)
    return lambda: build_for_signal(config, equipment.signals["vibration"])


def plant_for_checks(name: str) -> Plant:
    """The pump plant with `name` configured with its check parameters."""
    plant = pump_plant()
    pump = dataclasses.replace(
        checked_pump(REGISTRY[name]),
        detectors=(DetectorConfig(name, dict(REGISTRY[name].check_params)),),
    )
    return dataclasses.replace(plant, equipment={"P-1": pump})


CASES = [
    pytest.param(name, check, id=f"{name}-{check.__name__}")
    for name, cls in sorted(REGISTRY.items())
    for check in yield_checks(cls)
]


@pytest.mark.parametrize(("name", "check"), CASES)
def test_generic_check(name: str, check: Callable[[Callable[[], Any], Any], None]) -> None:
    cls = REGISTRY[name]
    make = factory(cls)
    assert make() is not None, f"{name} does not apply to a centrifugal pump's vibration"
    data = rows() if issubclass(cls, EquipmentDetector) else series("vibration")
    check(make, data)


def active_time(findings: list[Finding], start: float, end: float) -> float:
    """Seconds within [start, end) during which at least one condition was active."""
    raised: dict[tuple[str, ...], float] = {}
    intervals = []
    for f in sorted(findings, key=lambda f: f.ts):
        key = (f.detector, *f.signals)
        if f.active:
            raised.setdefault(key, f.ts)
        elif key in raised:
            intervals.append((raised.pop(key), f.ts))
    intervals += [(t, end) for t in raised.values()]
    total, covered_to = 0.0, start
    for lo, hi in sorted(intervals):
        lo, hi = max(lo, covered_to), min(hi, end)
        if hi > lo:
            total += hi - lo
            covered_to = hi
    return total


def findings_of(name: str, scenario: str) -> list[Finding]:
    """The detector's findings on `scenario`; one that judges only once a healthy baseline is
    named is told the first hour is one."""
    engine = Engine(plant_for_checks(name))
    readings = simulated(scenario)
    if not REGISTRY[name].needs_baseline:
        return engine.process(readings)
    split = next(i for i, r in enumerate(readings) if r.ts >= HOUR)
    engine.process(readings[:split], train=True)
    engine.end_warmup()
    return engine.process(readings[split:])


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_better_than_chance_on_a_simulated_fault(name: str) -> None:
    """On some simulated pump fault, the detector's conditions cover more of the faulty time than
    of the healthy time before it (after a one-hour warm-up), and it stays quiet on a healthy
    pump at least as much."""
    results = {}
    for scenario in SCENARIOS:
        if scenario == "healthy":
            continue
        findings = findings_of(name, scenario)
        healthy = active_time(findings, HOUR, ONSET) / (ONSET - HOUR)
        faulty = active_time(findings, ONSET, END) / (END - ONSET)
        results[scenario] = (round(faulty, 3), round(healthy, 3))
        if faulty > healthy:
            break
    else:
        pytest.fail(f"{name}: no fault covered more than healthy time (faulty, healthy): {results}")
    quiet = findings_of(name, "healthy")
    assert active_time(quiet, HOUR, END) / (END - HOUR) <= healthy + 0.05, quiet[:3]
