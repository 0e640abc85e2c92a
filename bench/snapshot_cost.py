"""What a detector state snapshot costs: building it, encoding it, writing it, restoring it.

    python bench/snapshot_cost.py [--machines 50,500,3000] [--database URL] [--profile N]

A plant of `--machines` machines of the shipped types (the six of `devices/library.yaml`, in
turn, with their library signals), the default ensemble. One machine of each type is simulated,
learns a healthy baseline (`detector_costs.TRAIN_SECONDS` at 1 s), then runs `--hours` hours at
one sample a minute (the trend histories fill: 48 h is all they keep) and ten minutes at 1 s
(the evidence windows fill); the fleet's engine is that state copied to every machine of the
type (as `scale_curve.py` does). Then, each `--repeat` times, best of: `engine.snapshot()`, the
encoding to what is stored, the file store's save (encoding, write, atomic replace), with
`--database` the database store's save (a PostgreSQL URL; the shard lease is claimed first), the
file's load (decoding) and `engine.restore` into a fresh engine. Prints a table and the bytes
per stream. `--profile N` prints the N costliest functions of one save and one restore
(cProfile, by cumulative time).

Run it against another checkout (e.g. the main branch) to compare: `PYTHONPATH=that/checkout
python bench/snapshot_cost.py` (it reads snapshots of the version-3 layout and of later ones).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))

from detector_costs import TRAIN_SECONDS

import detectors
from detectors import Engine
from devices import Plant, Reading, new_reading, plant_from_dict
from forewarn import snapshots
from simulators import Fleet

TYPES = ("centrifugal_pump", "induction_motor", "fan", "compressor", "gearbox", "conveyor")
"""The equipment types the library ships and the simulator models."""


def plant_of(machines: int) -> Plant:
    """`machines` machines, of the shipped types in turn."""
    equipment = [
        {"id": f"{TYPES[k % len(TYPES)]}-{k}", "type": TYPES[k % len(TYPES)], "team": "m"}
        for k in range(machines)
    ]
    return plant_from_dict(
        {
            "site": {"id": "bench"},
            "areas": [{"id": "a", "lines": [{"id": "l", "equipment": equipment}]}],
        }
    )


def learned(hours: float, console: Console) -> tuple[Plant, dict[str, Any]]:
    """One machine of each type after a baseline, `hours` at a sample a minute and ten minutes at
    a sample a second; the plant and its engine's snapshot."""
    plant = plant_of(len(TYPES))
    fleet = Fleet(plant, seed=5)
    engine = Engine(plant)
    ids = list(plant.equipment)

    def batch(t: float, dt: float) -> list[Reading]:
        return [
            new_reading(equipment, signal, t, value)
            for equipment, sample in zip(ids, fleet.tick(t, dt), strict=True)
            for signal, value in sample.values.items()
        ]

    for t in track(range(TRAIN_SECONDS), "learning a baseline", console=console):
        engine.process(batch(float(t), 1.0), train=True)
    engine.end_warmup()
    start = float(TRAIN_SECONDS)
    minutes = int(hours * 60)
    for m in track(range(1, minutes + 1), f"{hours:g} h at a sample a minute", console=console):
        engine.process(batch(start + 60.0 * m, 60.0))
    end = start + 60.0 * minutes
    for s in track(range(1, 601), "ten minutes at a sample a second", console=console):
        engine.process(batch(end + s, 1.0))
    return plant, engine.snapshot()


def fleet_snapshot(plant: Plant, state: dict[str, Any], machines: int) -> dict[str, Any]:
    """`state` (of one machine per type) copied to `machines` machines of those types."""
    model = {eq.type: eq.id for eq in plant}
    fleet = plant_of(machines)
    return replicate(state, fleet, {eq.id: model[eq.type] for eq in fleet})


def replicate(state: dict[str, Any], fleet: Plant, of: dict[str, str]) -> dict[str, Any]:
    """An engine snapshot of `fleet` in which each equipment `e` has the state equipment `of[e]`
    has in `state` (as a fleet that learned the same values would)."""
    if state["version"] <= 3:
        return {
            "version": state["version"],
            "streams": {
                f"{eq.id}/{signal}": state["streams"][f"{of[eq.id]}/{signal}"]
                for eq in fleet
                for signal in eq.signals
            },
            "equipment": {eq.id: state["equipment"][of[eq.id]] for eq in fleet},
        }
    from detectors.ragged import pack, unpack  # not in forewarn before version 4

    keys = [f"{eq.id}/{signal}" for eq in fleet for signal in eq.signals]
    index = {key: k for k, key in enumerate(state["streams"])}
    src = np.array([index[f"{of[key.split('/')[0]]}/{key.split('/')[1]}"] for key in keys])

    def ragged(flat: Any, counts: Any, width: int) -> tuple[Any, Any]:
        rows, n = unpack(flat, counts, src, width)
        return pack(rows, n), n

    evidence, trend = state["evidence"], state["trend"]
    ts, count = ragged(evidence["ts"], evidence["count"], evidence["size"])
    value, _ = ragged(evidence["value"], evidence["count"], evidence["size"])
    closed, closed_count = ragged(trend["closed"], trend["closed_count"], trend["max_buckets"])
    return {
        **state,
        "streams": keys,
        "last_ts": state["last_ts"][src],
        "evidence": {**evidence, "count": count, "ts": ts, "value": value},
        "trend": {
            **{name: a[src] for name, a in trend.items() if name not in ("closed", "max_buckets")},
            "max_buckets": trend["max_buckets"],
            "closed_count": closed_count,
            "closed": closed,
        },
        "bank": {
            "columns": {
                name: {
                    "applies": column["applies"][src],
                    "fields": {f: a[src] for f, a in column["fields"].items()},
                }
                for name, column in state["bank"]["columns"].items()
            }
        },
        "decisions": {name: table[src] for name, table in state["decisions"].items()},
        "checks": {
            key: state["checks"][f"{of[key.split('/')[0]]}/{key.split('/')[1]}"]
            for key in keys
            if f"{of[key.split('/')[0]]}/{key.split('/')[1]}" in state["checks"]
        },
        "equipment": {eq.id: state["equipment"][of[eq.id]] for eq in fleet},
    }


def best(repeat: int, action: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall time of `repeat` calls of `action`, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return min(times), result


def encoder() -> Callable[[dict[str, Any]], bytes | str]:
    """What the stores write for a snapshot (the version at hand's encoding)."""
    encode: Callable[[dict[str, Any]], bytes | str] | None = getattr(snapshots, "encode", None)
    if encode is not None:
        return encode
    import json

    return json.dumps


def database_store(url: str) -> tuple[snapshots.SnapshotStore, Callable[[], None]]:
    from forewarn.lease_store import DatabaseSnapshots, ShardLeases
    from ticketing.database import create_engine_for, upgrade

    upgrade(create_engine_for(url))
    leases = ShardLeases(url, shards=1, timeout=600.0)
    shard = leases.claim()
    if shard is None:
        leases.close()
        raise SystemExit(f"cannot claim the shard of a 1-shard lease table in {url}")

    def close() -> None:
        leases.release(shard)
        leases.close()

    return DatabaseSnapshots(leases, shard), close


def measure(
    plant: Plant,
    state: dict[str, Any],
    machines: int,
    repeat: int,
    database: str | None,
    profile: int,
    console: Console,
) -> dict[str, float]:
    fleet = plant_of(machines)
    streams = sum(len(eq.signals) for eq in fleet)
    console.print(f"{machines} machines ({streams} streams): restoring the learned state")
    engine = Engine(fleet)
    engine.restore(fleet_snapshot(plant, state, machines))
    encode = encoder()
    figures: dict[str, float] = {"machines": machines, "streams": streams}
    with tempfile.TemporaryDirectory() as tmp:
        store = snapshots.FileSnapshots(Path(tmp) / "detectors.json")
        console.print(f"{machines} machines: timing, best of {repeat}")
        figures["snapshot_s"], taken = best(repeat, engine.snapshot)
        figures["encode_s"], encoded = best(repeat, lambda: encode(taken))
        figures["bytes_per_stream"] = len(encoded) / streams
        figures["file_save_s"], _ = best(repeat, lambda: store.save(engine.snapshot()))
        figures["file_load_s"], loaded = best(repeat, store.load)
        figures["restore_s"], _ = best(repeat, lambda: Engine(fleet).restore(loaded))
        if database is not None:
            db, close = database_store(database)
            try:
                figures["db_save_s"], _ = best(repeat, lambda: db.save(engine.snapshot()))
                figures["db_load_s"], _ = best(repeat, db.load)
            finally:
                close()
        if profile:
            for name, action in (
                ("save", lambda: store.save(engine.snapshot())),
                ("restore", lambda: Engine(fleet).restore(store.load() or {})),
            ):
                profiler = cProfile.Profile()
                profiler.runcall(action)
                console.print(f"[bold]{machines} machines, {name}: costliest functions")
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
                    profile
                )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", default="50,500,3000", help="comma-separated fleet sizes")
    parser.add_argument("--hours", type=float, default=48.0, help="hours of history to learn")
    parser.add_argument("--repeat", type=int, default=3, help="timings per figure (best kept)")
    parser.add_argument("--database", help="also time the database store (a PostgreSQL URL)")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = parser.parse_args()
    sizes = [int(m) for m in args.machines.split(",")]
    console = Console(stderr=True)
    console.print(f"detectors from {Path(detectors.__file__).parent}")
    plant, state = learned(args.hours, console)
    rows = [
        measure(plant, state, m, args.repeat, args.database, args.profile, console) for m in sizes
    ]
    table = Table(
        title=f"detector snapshot (version {state['version']}), seconds, best of {args.repeat}"
    )
    columns = [k for k in rows[0] if k not in ("machines", "streams")]
    table.add_column("machines", justify="right")
    table.add_column("streams", justify="right")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row['machines']:,.0f}",
            f"{row['streams']:,.0f}",
            *(f"{row[c]:,.0f}" if c == "bytes_per_stream" else f"{row[c]:.3f}" for c in columns),
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
