"""The detection engine's CPU time on the demo plant, whole and as two shards.

    python bench/engine_split.py

The same backlog batches (200 readings of every stream each, the default ensemble) scored by one
engine over the whole plant, then by one engine per shard of `--workers 2` over its half: how
much CPU sharding adds when the rounds stay as many and each holds half the streams.
"""

from __future__ import annotations

import argparse
import random
import time
from importlib import resources
from pathlib import Path

from detectors import DEFAULT, Engine
from devices import Plant, Reading, load_plant
from forewarn.shards import shard_plant

DEMO_PLANT = Path(str(resources.files("forewarn").joinpath("demo/plant.yaml")))

ROUNDS = 200
BATCHES = 10


def backlog(part: Plant, seed: int = 1) -> list[list[Reading]]:
    """`BATCHES` batches of `ROUNDS` readings of each of `part`'s streams, one second apart."""
    rng = random.Random(seed)
    ts = 1_764_000_000.0
    batches = []
    for _ in range(BATCHES):
        batch = []
        for _ in range(ROUNDS):
            ts += 1.0
            for eq in part:
                batch += [
                    Reading(eq.id, signal, ts, 10.0 + rng.gauss(0, 1)) for signal in eq.signals
                ]
        batches.append(batch)
    return batches


def engine_cpu(part: Plant) -> tuple[float, int]:
    """CPU seconds and readings of `part`'s engine over its backlog (the first batch warms up)."""
    engine = Engine(part, list(DEFAULT))
    first, *rest = backlog(part)
    engine.process(first)
    began = time.process_time()
    for batch in rest:
        engine.process(batch)
    return time.process_time() - began, sum(len(batch) for batch in rest)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    plant = load_plant(DEMO_PLANT)
    whole, count = engine_cpu(plant)
    print(f"whole plant: {count:,} readings in {whole:.2f} CPU s ({count / whole:,.0f}/s)")
    halves = [engine_cpu(shard_plant(plant, shard, 2)) for shard in (0, 1)]
    for shard, (seconds, n) in enumerate(halves):
        print(f"shard {shard} of 2: {n:,} readings in {seconds:.2f} CPU s ({n / seconds:,.0f}/s)")
    both = sum(seconds for seconds, _ in halves)
    print(
        f"two shards: {both:.2f} CPU s for the same readings, {both / whole:.2f} times one engine"
    )


if __name__ == "__main__":
    main()
