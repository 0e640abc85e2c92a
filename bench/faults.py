"""Fault cycles: `forewarn run` on a private mosquitto and a private PostgreSQL while the demo's
simulated plant with its two developing faults publishes as fast as it can; every `--every`
seconds one of them is killed and restarted, round robin: PostgreSQL crashes (`pg_ctl -m
immediate`) and comes back after `--down` seconds; forewarn gets SIGKILL and is started again;
the broker is stopped and restarted. At the end it waits for forewarn to drain and prints what
was lost or duplicated:

- orders: one per injected fault expected (lost: a fault without one; duplicated: more than one
  order for the same equipment and failure mode);
- findings: the work-order database against what forewarn counted as recorded or spooled, and
  what the spool dropped or had refused;
- readings: published by the simulator against the sum of what each forewarn process reported
  processing (a lower bound: a killed process cannot report its last seconds).

    python bench/faults.py --cycles 6 --every 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from devices import load_plant
from forewarn.demo import demo_faults
from simulators import Fleet, MqttPublisher, SimClock
from simulators import run as run_simulation
from tests.conftest import DEMO_PLANT, Mosquitto, free_port
from tests.private_postgres import PrivatePostgres, running_postgres

START = 1_764_000_000.0
HOUR = 3600.0
TARGETS = ("postgres", "forewarn", "broker")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Forewarn:
    """`forewarn run` as a child process, restarted with the same state and MQTT session."""

    workdir: Path
    broker: Mosquitto
    database: str
    api_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    lifetimes: list[dict[str, Any]] = field(default_factory=list)
    """The last status each process reported."""

    def start(self) -> None:
        env = {
            **os.environ,
            "FOREWARN_DATABASE": self.database,
            "FOREWARN_MQTT__URL": self.broker.url,
            "FOREWARN_MQTT__CLIENT_ID": "forewarn-faults-bench",
            "FOREWARN_STATE_DIR": str(self.workdir / "state"),
            "FOREWARN_API__PORT": str(self.api_port),
            "FOREWARN_INTAKE__TIMESTAMP_WINDOW": "false",
            "FOREWARN_LOG_LEVEL": "WARNING",
        }
        log = (self.workdir / "forewarn.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "forewarn", "run", "--config", str(DEMO_PLANT)],
            env=env,
            stdout=log,
            stderr=log,
        )
        self.lifetimes.append({})
        deadline = time.monotonic() + 120
        while self.status() is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"forewarn did not start; see {self.workdir / 'forewarn.log'}")
            time.sleep(0.2)

    def status(self) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.api_port}/api/v1/health"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                found: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as exc:
            found = json.load(exc)
        except (OSError, ValueError):
            return None
        if self.lifetimes and "pipeline" in found:
            self.lifetimes[-1] = found
        return found

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _poll_status(forewarn: Forewarn, done: asyncio.Event) -> asyncio.Task[None]:
    async def poll() -> None:
        while not done.is_set():
            await asyncio.to_thread(forewarn.status)
            await asyncio.sleep(1.0)

    return asyncio.create_task(poll())


async def _cycles(
    args: argparse.Namespace,
    forewarn: Forewarn,
    postgres: PrivatePostgres,
    broker: Mosquitto,
    done: asyncio.Event,
) -> list[str]:
    events = []
    for cycle in range(args.cycles):
        if done.is_set():
            break
        await asyncio.sleep(args.every)
        target = TARGETS[cycle % len(TARGETS)]
        began = time.monotonic()
        if target == "postgres":
            await asyncio.to_thread(postgres.crash)
            await asyncio.sleep(args.down)
            await asyncio.to_thread(postgres.start)
        elif target == "forewarn":
            await asyncio.to_thread(forewarn.kill)
            await asyncio.sleep(args.down)
            await asyncio.to_thread(forewarn.start)
        else:
            await asyncio.to_thread(broker.stop)
            await asyncio.sleep(args.down)
            await asyncio.to_thread(broker.start)
        took = time.monotonic() - began
        event = f"cycle {cycle + 1}/{args.cycles}: {target} down and back in {took:.1f} s"
        events.append(event)
        status = forewarn.status() or {}
        store = status.get("store", {})
        say(
            f"{event}; forewarn {'up' if forewarn.alive() else 'DOWN'}, "
            f"{status.get('pipeline', {}).get('readings', 0):,} readings this process, "
            f"spool {store.get('pending', '?')} pending"
        )
    return events


async def bench(args: argparse.Namespace) -> int:
    plant = load_plant(DEMO_PLANT)
    faults = demo_faults(START)
    fleet = Fleet(plant, seed=42, faults=faults)
    until = START + args.hours * HOUR
    workdir = Path(tempfile.mkdtemp(prefix="forewarn-faults-"))
    broker = Mosquitto(workdir / "mosquitto", free_port())
    broker.workdir.mkdir()
    broker.start()
    with running_postgres() as postgres:
        forewarn = Forewarn(workdir, broker, postgres.url)
        forewarn.start()
        say(f"forewarn, mosquitto :{broker.port}, PostgreSQL :{postgres.port} up; in {workdir}")
        done = asyncio.Event()
        poller = _poll_status(forewarn, done)
        cycles = asyncio.create_task(_cycles(args, forewarn, postgres, broker, done))
        async with MqttPublisher(
            plant, host="127.0.0.1", port=broker.port, client_id=f"faults-sim-{uuid.uuid4()}"
        ) as publisher:
            stats = await run_simulation(
                fleet, SimClock(start=START, speed=math.inf), publisher, until=until
            )
        say(f"simulation done: {stats.samples:,} samples published; waiting for the cycles")
        events = await cycles
        say("draining: waiting until forewarn's reading count stops moving")
        last, still = -1, 0
        while still < 5:
            await asyncio.sleep(2)
            now = (forewarn.status() or {}).get("pipeline", {}).get("readings", -1)
            pending = (forewarn.status() or {}).get("store", {}).get("pending", 0)
            still = still + 1 if now == last and not pending else 0
            last = now
        done.set()
        await poller
        final = forewarn.status() or {}
        forewarn.stop()
        engine = create_engine(postgres.url)
        with engine.connect() as connection:
            findings = connection.execute(text("SELECT count(*) FROM findings")).scalar_one()
            orders = connection.execute(
                text(
                    "SELECT equipment_id, failure_mode_code, count(*) FROM work_orders "
                    "GROUP BY equipment_id, failure_mode_code ORDER BY 1, 2"
                )
            ).all()
        engine.dispose()
    broker.stop()

    readings_published = stats.samples * 5
    processed = sum(life.get("pipeline", {}).get("readings", 0) for life in forewarn.lifetimes)
    counted = sum(life.get("pipeline", {}).get("findings", 0) for life in forewarn.lifetimes)
    store = final.get("store", {})
    faulty = {f.equipment_id for f in faults}
    per_fault = {eq: sum(n for e, _, n in orders if e == eq) for eq in faulty}
    lost_orders = sum(1 for n in per_fault.values() if n == 0)
    duplicated_orders = sum(n - 1 for _, _, n in orders if n > 1)
    print()
    print(f"cycles: {len(events)} ({', '.join(TARGETS[k % 3] for k in range(len(events)))})")
    print(f"orders: {[tuple(row) for row in orders]}")
    print(f"  lost orders: {lost_orders} of {len(faults)} faults")
    print(f"  duplicated orders: {duplicated_orders}")
    print(
        f"findings: {findings} in the database, {counted} counted by forewarn "
        f"(lower bound: killed processes); spool dropped {store.get('dropped', '?')}, "
        f"refused {store.get('refused', '?')}, replayed {store.get('replayed', '?')} (last process)"
    )
    print(
        f"readings: {readings_published:,} published, >= {processed:,} processed over "
        f"{len(forewarn.lifetimes)} forewarn processes"
    )
    for k, life in enumerate(forewarn.lifetimes, 1):
        print(f"  forewarn process {k}: engine {life.get('engine', {})}")
    return 0 if lost_orders == 0 and duplicated_orders == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=6, help="kill/restart cycles")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between cycles")
    parser.add_argument("--down", type=float, default=5.0, help="seconds each part stays down")
    parser.add_argument("--hours", type=float, default=3.0, help="simulated hours to publish")
    sys.exit(asyncio.run(bench(parser.parse_args())))


if __name__ == "__main__":
    main()
