"""`Engine.process` per batch size: the vectorised path next to the reference path, in one run.

    python bench/engine_batches.py [--pumps 200] [--warm-hours 2] [--rounds 40] [--profile]

A plant of `--pumps` pumps (the demo's pump type: 5 signals, the default ensemble) learns
`--warm-hours` of healthy batched messages (10 samples of every signal a second apart per message,
a message per pump every 10 s); its snapshot is restored into two engines, one on the reference
path (`Engine(vectorised=False)`, the per-reading code) and one on the vectorised path. Both are
then fed the same batches of 1, 4, 20 and 200 messages (50 to 10,000 readings), alternating batch
by batch so that both see the same machine; prints the readings/s of each and their ratio, and
checks that both gave the same findings. With `--profile`, cProfile of the vectorised path on
batches of every pump's message.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ingest_throughput import batched_samples, pump_plant_file

from detectors import DEFAULT, Engine
from devices import Plant, Reading, load_plant
from forewarn import snapshots

T0 = 1.7e9
STEP = 10.0
"""Seconds between two messages of a pump."""


def message(equipment_id: str, end: float) -> list[Reading]:
    """One pump's batched message ending at `end`, as readings."""
    entries = json.loads(batched_samples(int(end * 1000)))
    return [
        Reading(equipment_id, signal, entry["ts"] / 1000, value)
        for entry in entries
        for signal, value in entry["values"].items()
    ]


def warmed(plant: Plant, hours: float) -> tuple[dict[str, object], float]:
    """The snapshot of an engine that learned `hours` of every pump's messages, and the time of
    the next message."""
    engine = Engine(plant, DEFAULT)
    ts = T0
    for _ in range(int(hours * 3600 / STEP)):
        engine.process([r for eq in plant.equipment for r in message(eq, ts)])
        ts += STEP
    return engine.snapshot(), ts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pumps", type=int, default=200)
    parser.add_argument("--warm-hours", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=40, help="messages of each pump per size")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plant.yaml"
        pump_plant_file(path, args.pumps)
        plant = load_plant(path)
    ids = list(plant.equipment)
    snapshot, ts = warmed(plant, args.warm_hours)
    engines = {"reference": Engine(plant, DEFAULT, vectorised=False), "vectorised": Engine(plant)}
    for engine in engines.values():
        engine.restore(snapshot)
    print(f"{args.pumps} pumps, {len(ids) * 5} streams, {args.warm_hours} h learned\n")
    print(
        "| messages/batch | readings/batch | reference readings/s | vectorised readings/s | ratio |"
    )
    print("|---:|---:|---:|---:|---:|")
    for per_batch in (1, 4, 20, 200):
        spent = dict.fromkeys(engines, 0.0)
        readings = 0
        for _ in range(args.rounds):
            for start in range(0, len(ids), per_batch):
                batch = [r for eq in ids[start : start + per_batch] for r in message(eq, ts)]
                found = {}
                for name, engine in engines.items():
                    began = time.perf_counter()
                    found[name] = engine.process(batch)
                    spent[name] += time.perf_counter() - began
                if found["reference"] != found["vectorised"]:
                    sys.exit(f"the two paths disagree at {ts}")
                readings += len(batch)
            ts += STEP
        reference, vectorised = (readings / spent[name] for name in engines)
        print(
            f"| {per_batch} | {per_batch * 50:,} | {reference:,.0f} | {vectorised:,.0f} "
            f"| {vectorised / reference:.2f} |"
        )
    if len({snapshots.encode(e.snapshot()) for e in engines.values()}) > 1:
        sys.exit("the two paths' snapshots differ")
    if args.profile:
        engine = engines["vectorised"]
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(20):
            engine.process([r for eq in ids for r in message(eq, ts)])
            ts += STEP
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
