"""How long recording one work order takes when another thread of the process computes, at two
GIL switch intervals: the cost `forewarn.switching` removes.

    python bench/record_gil.py [--orders 200] [--database postgresql+psycopg://...]

Opens a store on an empty database (SQLite in a temporary directory by default; a PostgreSQL
database given must be empty, its tables are created), and records `--orders` alarm findings,
each on its own pump, so each opens an order: first with no other thread, then beside a thread
that computes in Python (as paho's network thread does while it decodes), at CPython's 5 ms
switch interval and at `forewarn.switching.SWITCH_INTERVAL`. Prints the median and 90th
percentile of one recording. Each PostgreSQL run needs its own empty database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ingest_throughput import pump_plant_file

from devices import Finding, FindingKind, Severity, load_plant
from forewarn.switching import SWITCH_INTERVAL, responsive
from ticketing import WorkOrderStore


def record(url: str, plant_file: Path, busy: bool, interval: float) -> list[float]:
    """Milliseconds per recording of one alarm per pump into a new store at `url`."""
    plant = load_plant(plant_file)
    store = WorkOrderStore(url, plant=plant)
    stop = threading.Event()

    def compute() -> None:
        while not stop.is_set():
            sum(i * i for i in range(1_000))

    worker = threading.Thread(target=compute)
    times = []
    with responsive(interval):
        if busy:
            worker.start()
        try:
            for equipment in plant:
                now = time.time()
                finding = Finding(
                    equipment_id=equipment.id,
                    signals=("vibration",),
                    kind=FindingKind.LIMIT,
                    severity=Severity.ALARM,
                    score=1.0,
                    ts=now,
                    detector="limits",
                    summary="vibration past its alarm limit",
                    active=True,
                    evidence={"vibration": ((now, 12.0),)},
                )
                began = time.perf_counter()
                store.orders.record(finding, equipment)
                times.append((time.perf_counter() - began) * 1000.0)
        finally:
            stop.set()
            if busy:
                worker.join()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument(
        "--database", action="append", help="an empty database's URL per run (three runs)"
    )
    args = parser.parse_args()
    runs = [
        ("no busy thread", False, 0.005),
        ("busy thread, 5 ms", True, 0.005),
        (f"busy thread, {SWITCH_INTERVAL * 1000:g} ms", True, SWITCH_INTERVAL),
    ]
    if args.database and len(args.database) != len(runs):
        raise SystemExit(f"give --database {len(runs)} times, one empty database per run")
    with tempfile.TemporaryDirectory() as tmp:
        plant_file = Path(tmp) / "plant.yaml"
        pump_plant_file(plant_file, args.orders)
        for i, (name, busy, interval) in enumerate(runs):
            url = args.database[i] if args.database else f"sqlite:///{tmp}/orders-{i}.db"
            times = sorted(record(url, plant_file, busy, interval))
            p90 = times[int(0.9 * (len(times) - 1))]
            print(f"{name}: p50 {statistics.median(times):.1f} ms, p90 {p90:.1f} ms per order")


if __name__ == "__main__":
    main()
