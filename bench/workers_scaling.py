"""End-to-end readings/s of `forewarn run` with one worker and with `--workers N`, same backlog.

    python bench/workers_scaling.py [--messages 40000] [--workers 2] [--pumps 10]

A private mosquitto with forewarn's deployment settings; a plant of `--pumps` pumps (the demo's
pump type, 5 signals); batched JSON (10 samples of the 5 signals a message). For each worker
count: start `forewarn run` (the default ensemble, SQLite), let it subscribe (QoS 1 persistent
sessions), stop it, publish the backlog into its sessions, start it again and time from the
start until every reading has been through its pipeline (the workers' /api/v1/health counters).
Startup is inside the time for both counts, so the ratio is conservative; the rate from the
first reading counted on is printed too (the steady rate, without the start). Where the time
goes: the CPU seconds each process used in the timed window (/proc: mosquitto, the supervisor,
each worker, this bench's polling; the backlog is published before the window).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from ingest_throughput import (  # the bench's own helpers
    BATCH_SAMPLES,
    SIGNALS,
    Mosquitto,
    batched_samples,
    free_port,
    publish,
    pump_plant_file,
)


def health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
            found: dict[str, object] = json.loads(r.read())
            return found
    except (OSError, ValueError):
        return None


def readings(port: int) -> int:
    found = health(port)
    pipeline = found.get("pipeline") if found else None
    return int(pipeline["readings"]) if isinstance(pipeline, dict) else 0


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def start(
    workdir: Path, plant: Path, settings: Path, workers: int, port: int
) -> subprocess.Popen[bytes]:
    log = (workdir / f"run-{workers}.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forewarn",
            "run",
            "--config",
            str(plant),
            "--settings",
            str(settings),
            "--workers",
            str(workers),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=log,
    )


def wait_ports(ports: list[int], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(health(p) for p in ports):
            return
        time.sleep(0.2)
    raise SystemExit(f"workers on {ports} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(90)


def run(count: int, messages: int, pumps: int, broker: Mosquitto, workdir: Path) -> float:
    plant = workdir / f"plant-{count}.yaml"
    topics = pump_plant_file(plant, pumps)
    first_ms = 1_764_000_000_000
    backlog = [
        (topics[i % len(topics)], batched_samples(first_ms + (i // len(topics)) * 10_000))
        for i in range(messages)
    ]
    total = messages * BATCH_SAMPLES * len(SIGNALS)
    settings = workdir / f"settings-{count}.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "database": f"sqlite:///{workdir / f'orders-{count}.db'}",
                "state_dir": str(workdir / f"state-{count}"),
                "mqtt": {
                    "url": f"mqtt://127.0.0.1:{broker.port}",
                    "client_id": f"scale-{uuid.uuid4().hex[:8]}",
                },
                "intake": {"timestamp_window": False},
                "log_level": "WARNING",
            }
        )
    )
    port = free_port()  # --workers serves worker i on port + i
    ports = [port + i for i in range(count)]
    first = start(workdir, plant, settings, count, port)
    wait_ports(ports)
    time.sleep(2.0)  # subscribed: the sessions exist
    stop(first)
    publish(broker, backlog)
    broker_before, bench_before = cpu_seconds(broker.process.pid), time.process_time()
    began = time.perf_counter()
    second = start(workdir, plant, settings, count, port)
    first_reading, first_count = 0.0, 0
    try:
        while (done := sum(readings(p) for p in ports)) < total:
            if second.poll() is not None:
                raise SystemExit((workdir / f"run-{count}.log").read_text()[-3000:])
            if done and not first_count:
                first_reading, first_count = time.perf_counter() - began, done
            time.sleep(0.1)
        wall = time.perf_counter() - began
        workers = children(second.pid) if count > 1 else [second.pid]
        cpu = {f"worker {i}": cpu_seconds(pid) for i, pid in enumerate(workers)}
        if count > 1:
            cpu["supervisor"] = cpu_seconds(second.pid)
        cpu["mosquitto"] = cpu_seconds(broker.process.pid) - broker_before
        cpu["bench (polling health)"] = time.process_time() - bench_before
        print(
            f"{count} worker(s): {wall:.1f} s wall ({2 * wall:.1f} core-s on 2 cores), first "
            f"reading counted after {first_reading:.1f} s, then "
            f"{(total - first_count) / (wall - first_reading):,.0f} readings/s; CPU s: "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
        )
        return total / wall
    finally:
        stop(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=40_000, help="of 50 readings each")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pumps", type=int, default=10, help="of 5 signals each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir)
        try:
            one = run(1, args.messages, args.pumps, broker, workdir)
            many = run(args.workers, args.messages, args.pumps, broker, workdir)
        finally:
            broker.stop()
    print(
        f"1 worker: {one:,.0f} readings/s; {args.workers} workers: {many:,.0f} readings/s; "
        f"ratio {many / one:.2f} ({args.messages * 50:,} readings each)"
    )


if __name__ == "__main__":
    main()
