"""What one forewarn worker and its servers sustain on this machine, and what a large plant needs.

    python bench/capacity.py [--postgres URL] [--signals 1000000] [--period 1.0]

Measured in one run, each on one core by the process's CPU time where it is forewarn's own work:
- the detection engine with the default ensemble, every detector judging (`bench/detector_costs`);
- decoding batched JSON (`{"ts", "values"}` of 50 signals) into readings (`bench/decode`);
- the historian: readings written through `ingest.Historian` into a private victoria-metrics (the
  InfluxDB v2 write API the tests use), by the wall clock until the server has them all;
- the store: finding updates recorded through `WorkOrderStore` into PostgreSQL (`--postgres`, a
  fresh schema of the local test database by default), by the wall clock.

Then, for `--signals` signals sampled every `--period` seconds, how many workers, historian writes
and store transactions that takes (printed as Markdown; docs/capacity.md holds a run).
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

import decode  # the bench directory's own modules (on sys.path above)
from detector_costs import engine_rate
from ingest_throughput import free_port

from devices import Finding, FindingKind, Reading, Severity
from ingest import Historian
from ticketing import WorkOrderStore

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def decode_rate() -> float:
    kind = decode.json_batched(2_000)
    runs = decode.json_runs(kind, decode.bench_plant())
    return decode.best_rate(runs["forewarn"], rounds=5, seconds=0.5, clock=time.process_time)


def historian_rate(readings: int = 300_000) -> float:
    binary = shutil.which("victoria-metrics")
    if binary is None:
        raise SystemExit("victoria-metrics is not installed: apt-get install victoria-metrics")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = subprocess.Popen(
            [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={tmp}/data"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{url}/health", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            historian = Historian(
                url, token="t", org="o", bucket="b", spool_dir=Path(tmp) / "spool"
            )
            historian.start()
            batch = [
                Reading(f"P-{i % 100}", f"s{i % 10}", 1.7e9 + i // 1000, float(i % 97))
                for i in range(10_000)
            ]
            start = time.perf_counter()
            for _ in range(readings // len(batch)):
                while historian.buffered > 50_000:
                    time.sleep(0.005)
                historian.write_readings(batch)
            while historian.written < readings:
                if historian.failures:
                    raise SystemExit(f"the historian failed {historian.failures} writes")
                time.sleep(0.01)
            rate = readings / (time.perf_counter() - start)
            historian.close()
            return rate
        finally:
            server.terminate()
            server.wait(timeout=30)


def store_rate(url: str, findings: int = 2_000) -> float:
    schema = f"capacity_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        plant = decode.bench_plant()
        store = WorkOrderStore(scoped.render_as_string(hide_password=False), plant=plant)
        machines = list(plant)
        start = time.perf_counter()
        for i in range(findings):
            equipment = machines[i % len(machines)]
            signal = next(iter(equipment.signals))
            finding = Finding(
                equipment.id,
                (signal,),
                FindingKind.DRIFT,
                Severity.WARNING,
                0.6 + 0.3 * (i % 3) / 3,
                1.7e9 + i,
                "ewma_drift",
                f"{signal} drifting",
                True,
                3_600.0,
            )
            store.orders.record(finding, equipment)
        rate = findings / (time.perf_counter() - start)
        store.close()
        return rate
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL URL (SQLAlchemy)")
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--period", type=float, default=1.0, help="seconds between samples")
    args = parser.parse_args()

    print("measuring the engine ...", file=sys.stderr)
    engine, _, _ = engine_rate(100, 300)
    print("measuring decoding ...", file=sys.stderr)
    decoding = decode_rate()
    print("measuring the historian ...", file=sys.stderr)
    historian = historian_rate()
    print("measuring the store ...", file=sys.stderr)
    store = store_rate(args.postgres)

    offered = args.signals / args.period
    worker = 1.0 / (1.0 / engine + 1.0 / decoding)  # one core does both, one after the other
    print("| measured on one core | per second |")
    print("|---|---:|")
    print(f"| engine, default ensemble, every detector judging | {engine:,.0f} readings |")
    print(f"| decoding batched JSON (50 values a message) | {decoding:,.0f} readings |")
    print(f"| a worker's core: decode then detect | {worker:,.0f} readings |")
    print(f"| historian into victoria-metrics (InfluxDB v2 API) | {historian:,.0f} readings |")
    print(f"| store: finding updates into PostgreSQL | {store:,.0f} findings |")
    print()
    print(f"For {args.signals:,} signals every {args.period:g} s: {offered:,.0f} readings/s")
    print(
        f"- worker cores: {math.ceil(offered / worker):,} (at full load; plan for 70 %: "
        f"{math.ceil(offered / worker / 0.7):,})"
    )
    print(f"- broker: {offered / 50:,.0f} messages/s in at 50 readings a message, as many out")
    print(
        f"- historian: {offered:,.0f} points/s, {math.ceil(offered / historian):,} writers at "
        "this rate"
    )
    print(f"- store: {store:,.0f} finding updates/s per connection")


if __name__ == "__main__":
    main()
