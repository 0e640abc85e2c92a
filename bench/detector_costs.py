"""Microseconds per reading (signal detectors) and per row (equipment detectors), object form;
and the engine's readings/s with the default ensemble on a fleet of pumps.

    python bench/detector_costs.py

Each registered detector, with its defaults, scores and learns a simulated healthy centrifugal
pump (5 signals, 1 s) for two simulated hours after a warm-up of the same length; best of three.
The engine then runs the default ensemble over 200 such pumps (1,000 signals), one batch per
simulated second, for ten simulated minutes after ten of warm-up.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from detectors import DEFAULT, REGISTRY, Detector, Engine, EquipmentDetector
from devices import Limits, Plant, plant_from_dict
from simulators import Fleet

ROWS = 7_200


def pump_plant() -> Plant:
    return plant_from_dict(
        {
            "site": {"id": "bench"},
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


def pump_rows(plant: Plant) -> list[tuple[float, dict[str, float]]]:
    fleet = Fleet(plant, seed=1)
    rows = []
    for second in range(2 * ROWS):
        (sample,) = fleet.tick(float(second), 1.0)
        rows.append((sample.ts, dict(sample.values)))
    return rows


def main() -> None:
    plant = pump_plant()
    plant_rows = pump_rows(plant)
    equipment = plant.equipment["P-1"]
    table = Table(title="object detectors on a simulated pump (µs)")
    table.add_column("detector")
    table.add_column("per", justify="left")
    table.add_column("µs", justify="right")
    for name, cls in sorted(REGISTRY.items()):
        best = float("inf")
        for _ in range(3):
            if issubclass(cls, EquipmentDetector):
                det = cls.for_equipment(equipment)
                if det is None:
                    continue
                for ts, row in plant_rows[:ROWS]:
                    det.learn_one(row, ts)
                start = time.perf_counter()
                for ts, row in plant_rows[ROWS:]:
                    det.score_one(row, ts)
                    det.learn_one(row, ts)
                per = "row of 5 signals"
            else:
                assert issubclass(cls, Detector)
                vibration = equipment.signals["vibration"]
                # A detector of signals without limits (onset) is timed on the bare signal.
                sig = cls.for_signal(vibration) or cls.for_signal(
                    dataclasses.replace(vibration, limits=Limits())
                )
                if sig is None:
                    continue
                values = [(ts, row["vibration"]) for ts, row in plant_rows]
                for ts, v in values[:ROWS]:
                    sig.learn_one(v, ts)
                start = time.perf_counter()
                for ts, v in values[ROWS:]:
                    sig.score_one(v, ts)
                    sig.learn_one(v, ts)
                per = "reading"
            best = min(best, (time.perf_counter() - start) / ROWS * 1e6)
        table.add_row(name, per, f"{best:.1f}")
    Console().print(table)
    Console().print(f"engine, default ensemble {DEFAULT}: {engine_rate():,.0f} readings/s")


def engine_rate(
    pumps: int = 200, seconds: int = 600, detectors: Sequence[str] | None = None
) -> float:
    one = pump_plant()
    pump = one.equipment["P-1"]
    fleet_plant = dataclasses.replace(
        one,
        equipment={f"P-{i}": dataclasses.replace(pump, id=f"P-{i}") for i in range(pumps)},
    )
    fleet = Fleet(fleet_plant, seed=2)
    batches = [
        [r for sample in fleet.tick(float(t), 1.0) for r in sample.readings()]
        for t in range(2 * seconds)
    ]
    engine = Engine(fleet_plant, detectors)
    for batch in batches[:seconds]:
        engine.process(batch)
    start = time.perf_counter()
    for batch in batches[seconds:]:
        engine.process(batch)
    return sum(len(b) for b in batches[seconds:]) / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
