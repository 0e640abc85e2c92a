"""Takeover: three `forewarn run --shards 2` workers (no --shard) on one plant file, one private
mosquitto and one PostgreSQL schema. Two claim a shard each through a lease, the third waits as a
standby. One claiming worker is killed (SIGKILL, no clean stop) mid-run: the standby claims its
shard once the lease expires, restores its detector state from the database, reads its equipment
from where the dead worker's broker session stopped, and every fault still gets exactly one work
order."""

from __future__ import annotations

import asyncio
import math
import re
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from devices import load_plant
from forewarn.shards import assignment
from simulators import BearingWear, FaultInjection, Fleet, MqttPublisher, SimClock
from simulators import run as run_simulation
from tests.conftest import DEMO_PLANT, Mosquitto, free_port
from tests.forewarn.run_helpers import (
    Samples,
    metric_samples,
    start_forewarn,
    subscribed_health,
    wait_until,
)

START = 1_764_000_000.0
MINUTE = 60.0
HALFWAY = START + 30 * MINUTE
UNTIL = START + 60 * MINUTE
SIGNALS = 5
LEASE = 3.0
VICTIM = 0
"""The shard whose worker is killed."""


@pytest.mark.postgres
async def test_a_standby_takes_over_a_killed_workers_shard_and_its_state(
    mosquitto: Mosquitto, postgres_url: str, tmp_path: Path
) -> None:
    plant = load_plant(DEMO_PLANT)
    owners = assignment(plant, 2)
    owned = {shard: [eq.id for eq in plant if owners[eq.id] == shard] for shard in (0, 1)}
    assert len(owned[VICTIM]) >= 2
    assert owned[1 - VICTIM]
    early = {owned[VICTIM][0], owned[1 - VICTIM][0]}
    """Faults that develop before the kill: orders the takeover must not duplicate."""
    late = owned[VICTIM][1]
    """A fault that develops after it, on the taken-over shard: an order only the standby opens."""

    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"database: '{postgres_url}'\n"
        "detectors: [limits]\n"
        f"mqtt: {{url: '{mosquitto.url}', client_id: takeover-{uuid.uuid4().hex[:8]}}}\n"
        "intake: {timestamp_window: false}\n"
        f"lease_timeout: {LEASE}\n"
        "snapshot_source_interval: 300\n"
    )
    names = ("a", "b", "c")
    ports = {name: free_port() for name in names}
    logs = {name: tmp_path / f"worker-{name}.log" for name in names}
    workers: dict[str, asyncio.subprocess.Process] = {}
    database = create_engine(postgres_url)

    async def start(name: str) -> None:
        workers[name] = await start_forewarn(
            "run",
            "--config",
            str(DEMO_PLANT),
            "--settings",
            str(settings),
            "--shards",
            "2",
            "--port",
            str(ports[name]),
            log=logs[name],
            env={"FOREWARN_STATE_DIR": str(tmp_path / f"state-{name}")},
        )

    def alive(name: str) -> None:
        if workers[name].returncode is not None:
            raise AssertionError(f"worker {name} exited: {logs[name].read_text()[-3000:]}")

    def holders() -> dict[int, str]:
        """Shard -> the worker holding its lease now ({} before the first worker migrated)."""
        try:
            with database.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT shard, owner FROM shard_leases "
                        "WHERE owner IS NOT NULL AND expires_at > clock_timestamp()"
                    )
                ).all()
        except ProgrammingError:
            return {}
        by_pid = {str(w.pid): name for name, w in workers.items() if w.returncode is None}
        return {row.shard: by_pid.get(row.owner.split(":")[1], row.owner) for row in rows}

    def snapshot_taken(shard: int) -> Any:
        with database.connect() as connection:
            return connection.execute(
                text("SELECT taken_at FROM shard_snapshots WHERE shard = :shard"), {"shard": shard}
            ).scalar()

    apis = {
        name: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
        for name, port in ports.items()
    }

    async def status(name: str) -> dict[str, Any] | None:
        return await subscribed_health(apis[name], workers[name], logs[name])

    async def readings(name: str, at_least: int) -> dict[str, Any] | None:
        found = await status(name)
        return found if found and found["pipeline"]["readings"] >= at_least else None

    async def metrics(name: str) -> Samples:
        return metric_samples((await apis[name].get("/metrics")).text)

    fleet = Fleet(
        plant,
        seed=3,
        faults=[
            *(
                FaultInjection(eq_id, BearingWear(onset=START + MINUTE, time_to_failure=1200))
                for eq_id in sorted(early)
            ),
            FaultInjection(late, BearingWear(onset=HALFWAY + MINUTE, time_to_failure=1200)),
        ],
    )

    async def simulate(since: float, until: float) -> None:
        async with MqttPublisher(
            plant, host="127.0.0.1", port=mosquitto.port, client_id=f"takeover-sim-{uuid.uuid4()}"
        ) as publisher:
            await run_simulation(
                fleet, SimClock(start=since, speed=math.inf), publisher, until=until
            )

    try:
        for name in names[:2]:
            await start(name)
        held = await wait_until(
            lambda: asyncio.sleep(0, len(holders()) == 2 and holders()), "two shards claimed"
        )
        await start(names[2])
        standby = names[2]
        await wait_until(
            lambda: asyncio.sleep(0, "standby: all 2 shards are held" in logs[standby].read_text()),
            "the third worker on standby",
        )
        alive(standby)
        waiting = await apis[standby].get("/api/v1/health")  # an orchestrator sees it healthy
        assert (waiting.status_code, waiting.json()["status"]) == (200, "standby")
        victim, survivor = held[VICTIM], held[1 - VICTIM]
        assert {victim, survivor} == set(names[:2])
        for name in (victim, survivor):
            await wait_until(lambda name=name: status(name), f"worker {name} subscribed")

        await simulate(START, HALFWAY)
        per_shard = {shard: int((HALFWAY - START) / 1.0) * len(ids) for shard, ids in owned.items()}
        await wait_until(lambda: readings(victim, per_shard[VICTIM] * SIGNALS), "victim processed")
        await wait_until(
            lambda: readings(survivor, per_shard[1 - VICTIM] * SIGNALS), "survivor processed"
        )
        before_kill = snapshot_taken(VICTIM)
        assert before_kill is not None, "the victim stored no snapshot of its shard"

        workers[victim].send_signal(signal.SIGKILL)
        await workers[victim].wait()
        killed_at = time.monotonic()
        await wait_until(
            lambda: asyncio.sleep(0, holders().get(VICTIM) == standby),
            "the standby claiming the victim's shard",
            seconds=4 * LEASE,
        )
        took = time.monotonic() - killed_at
        # the lease runs out at most LEASE after the victim's last renewal; the standby tries
        # every LEASE / 5; the rest is slack for a loaded machine
        assert took < LEASE + LEASE / 5 + 2.0, took
        assert holders().get(1 - VICTIM) == survivor
        await wait_until(lambda: status(standby), "the standby subscribed")
        text_of_standby = logs[standby].read_text()
        restored = re.search(
            rf"restored detector state of (\d+) signals from the database \(shard {VICTIM} of 2\)",
            text_of_standby,
        )
        assert restored, text_of_standby[-3000:]
        assert int(restored.group(1)) == len(owned[VICTIM]) * SIGNALS

        await simulate(HALFWAY, UNTIL)
        after = {shard: int((UNTIL - HALFWAY) / 1.0) * len(ids) for shard, ids in owned.items()}
        await wait_until(lambda: readings(standby, after[VICTIM] * SIGNALS), "standby processed")
        await wait_until(
            lambda: readings(survivor, (per_shard[1 - VICTIM] + after[1 - VICTIM]) * SIGNALS),
            "survivor processed the rest",
        )
        mqtt = (("source", "mqtt"),)
        taken_over = await metrics(standby)
        # exactly the victim shard's messages sent after the takeover, nothing of the other shard
        assert taken_over[("forewarn_ingest_messages_total", mqtt)] == after[VICTIM]
        assert taken_over[("forewarn_ingest_readings_total", mqtt)] == after[VICTIM] * SIGNALS
        assert taken_over[("forewarn_pipeline_orders_opened_total", ())] == 1
        assert snapshot_taken(VICTIM) > before_kill, "the standby stores the shard's snapshot"

        with database.connect() as connection:
            orders = connection.execute(
                text("SELECT equipment_id, failure_mode_code FROM work_orders")
            ).all()
        assert sorted((o.equipment_id, o.failure_mode_code) for o in orders) == sorted(
            (eq_id, "VIB") for eq_id in {*early, late}
        )
    finally:
        for api in apis.values():
            await api.aclose()
        for worker in workers.values():
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        codes = {name: await asyncio.wait_for(w.wait(), 60) for name, w in workers.items()}
    try:
        assert codes[survivor] == codes[standby] == 0, [
            logs[name].read_text()[-3000:] for name in (survivor, standby)
        ]
        standby_log = logs[standby].read_text()
        assert f"claimed shard {VICTIM} of 2" in standby_log
        assert f"released shard {VICTIM} of 2" in standby_log
        assert f"released shard {1 - VICTIM} of 2" in logs[survivor].read_text()
        opened = [line for line in standby_log.splitlines() if "forewarn.pipeline: opened" in line]
        assert len(opened) == 1, opened
        assert opened[0].split(" for ")[1].startswith(plant.equipment[late].path + ":")
        with database.connect() as connection:
            still_held = connection.execute(
                text("SELECT count(*) FROM shard_leases WHERE owner IS NOT NULL")
            ).scalar()
        assert still_held == 0, "a clean stop releases the lease"
    finally:
        database.dispose()
