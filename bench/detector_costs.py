"""Microseconds per reading (signal detectors) and per row (equipment detectors), object form;
and the engine's readings/s with the default ensemble on a fleet of pumps.

    python bench/detector_costs.py

Each registered detector, with its defaults, scores and learns a simulated healthy centrifugal
pump (5 signals, 1 s) for two simulated hours after a warm-up of the same length; best of three.
The engine then runs the default ensemble over 200 such pumps (1,000 signals; `--pumps`), one
batch per simulated second, for ten simulated minutes (`--seconds`) after a baseline of 45 (see
`engine_rate`).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from detectors import DEFAULT, REGISTRY, Detector, Engine, EquipmentDetector
from devices import Limits, Plant, plant_from_dict
from simulators import Fleet

ROWS = 7_200
TRAIN_SECONDS = 2_700
"""Long enough a baseline for every detector of the default ensemble to judge after it (relations
needs about 2,600 rows: `RelationsDetector.end_warmup`)."""


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pumps", type=int, default=200, help="pumps of the engine's fleet")
    parser.add_argument("--seconds", type=int, default=600, help="simulated seconds timed")
    args = parser.parse_args()
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
    rate, baseline, state = engine_rate(args.pumps, args.seconds)
    Console().print(
        f"engine, default ensemble {DEFAULT}, {args.pumps} pumps ({5 * args.pumps} streams): "
        f"{rate:,.0f} readings/s; a numpy EWMA over the same arrays {baseline:,.0f} readings/s "
        f"(engine / EWMA {rate / baseline:.4f}); {state:,} bytes of detector arrays per stream"
    )


def engine_rate(
    pumps: int = 200, seconds: int = 600, detectors: Sequence[str] | None = None
) -> tuple[float, float, int]:
    """The engine's readings/s (process time, so other jobs on the machine count less) over
    `seconds` of `pumps` simulated pumps, once every detector judges: a healthy baseline of
    `TRAIN_SECONDS` learned (`train=True`, as `forewarn learn` gives a plant) and named
    (`end_warmup`); with a plain numpy EWMA's readings/s over the same arrays in the same run, and
    the bytes of the engine's vectorised state per stream (`Engine.nbytes`)."""
    one = pump_plant()
    pump = one.equipment["P-1"]
    fleet_plant = dataclasses.replace(
        one,
        equipment={f"P-{i}": dataclasses.replace(pump, id=f"P-{i}") for i in range(pumps)},
    )
    fleet = Fleet(fleet_plant, seed=2)
    batches = [
        [r for sample in fleet.tick(float(t), 1.0) for r in sample.readings()]
        for t in track(range(TRAIN_SECONDS + seconds), description="simulating", transient=True)
    ]
    engine = Engine(fleet_plant, detectors)
    for batch in track(batches[:TRAIN_SECONDS], description="learning", transient=True):
        engine.process(batch, train=True)
    engine.end_warmup()
    timed = batches[TRAIN_SECONDS:]
    start = time.process_time()
    for batch in timed:
        engine.process(batch)
    rate = sum(len(b) for b in timed) / (time.process_time() - start)

    index: dict[tuple[str, str], int] = {}
    for batch in timed:
        for r in batch:
            index.setdefault((r.equipment_id, r.signal), len(index))
    columns = [
        (
            np.array([index[(r.equipment_id, r.signal)] for r in batch], dtype=np.intp),
            np.array([r.value for r in batch]),
        )
        for batch in timed
    ]
    ewma = np.zeros(len(index))
    start = time.process_time()
    for streams, values in columns:
        ewma[streams] += 0.01 * (values - ewma[streams])
    baseline = sum(len(v) for _, v in columns) / (time.process_time() - start)
    return rate, baseline, engine.nbytes // len(index)


if __name__ == "__main__":
    main()
