"""`forewarn api`: replicas of the API without a pipeline, over one database another process
writes: each lists the order a worker opened, and its event stream delivers it. On PostgreSQL
the streams wake on the database's notifications (their fallback poll made an hour long, so
nothing else could deliver in time), also once a replica's listener connection was killed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from devices import Finding, FindingKind, Plant, Severity, load_plant
from tests.conftest import DEMO_PLANT, free_port
from tests.forewarn.run_helpers import metric_samples, start_forewarn, wait_until
from ticketing import Role, WorkOrderStore


@dataclass
class Replica:
    process: asyncio.subprocess.Process
    client: httpx.AsyncClient
    log: Path

    async def up(self) -> bool:
        if self.process.returncode is not None:
            raise AssertionError(self.log.read_text())
        try:
            return (await self.client.get("/api/v1/health")).status_code == 200
        except httpx.TransportError:
            return False

    async def metric(self, name: str) -> float:
        text = (await self.client.get("/api/v1/metrics")).text
        return metric_samples(text).get((name, ()), 0.0)

    async def stream(self, into: asyncio.Queue[dict[str, object]]) -> None:
        """Put each event of GET /api/v1/events (its data) into `into`."""
        async with self.client.stream("GET", "/api/v1/events") as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    await into.put(json.loads(line[5:]))


@contextlib.asynccontextmanager
async def replicas(
    tmp_path: Path, database: str, token: str, env: dict[str, str] | None = None
) -> AsyncIterator[list[Replica]]:
    """Two `forewarn api` processes on `database`, up; stopped with SIGTERM (exit code 0)."""
    started: list[Replica] = []
    for i in (0, 1):
        port, log = free_port(), tmp_path / f"api-{i}.log"
        process = await start_forewarn(
            "api", "--config", str(DEMO_PLANT), "--db", database, "--port", str(port), log=log,
            env=env,
        )  # fmt: skip
        client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        started.append(Replica(process, client, log))
    try:
        for i, replica in enumerate(started):
            await wait_until(replica.up, f"replica {i} up", 60)
        yield started
    finally:
        for replica in started:
            await replica.client.aclose()
            if replica.process.returncode is None:
                replica.process.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(r.process.wait(), 30) for r in started]
        assert codes == [0, 0], [r.log.read_text()[-2000:] for r in started]


async def actions_until(queue: asyncio.Queue[dict[str, object]], action: str) -> set[str]:
    """The actions of the events before the first `action` (which must come within 20 s)."""
    before = set[str]()
    while True:
        event = await asyncio.wait_for(queue.get(), 20)
        found = event["change"]["action"]  # type: ignore[index]
        if found == action:
            return before
        before.add(found)


def pump_finding(plant: Plant) -> Finding:
    return Finding(
        plant.equipment["P-101"].id,
        ("vibration",),
        FindingKind.DRIFT,
        Severity.ALARM,
        0.9,
        1_764_000_000.0,
        "ewma_drift",
        "vibration drifting up",
        True,
        3_600.0,
    )


async def test_two_api_replicas_serve_and_stream_what_another_process_writes(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'orders.db'}"
    plant = load_plant(DEMO_PLANT)
    writer = WorkOrderStore(database, plant=plant)  # what a worker does (migrates the schema)
    token = writer.access.create_token("api test", Role.PLANNER).secret
    try:
        async with replicas(tmp_path, database, token) as (first, second):
            events: asyncio.Queue[dict[str, object]] = asyncio.Queue()
            listener = asyncio.create_task(second.stream(events))
            await asyncio.sleep(1.0)  # the stream starts from the newest event
            recorded = await asyncio.to_thread(
                writer.orders.record, pump_finding(plant), plant.equipment["P-101"]
            )
            assert recorded is not None
            event = await asyncio.wait_for(events.get(), 15)
            listener.cancel()
            for replica in (first, second):
                orders = (await replica.client.get("/api/v1/work-orders")).json()
                assert [(o["equipment_id"], o["failure_mode_code"]) for o in orders] == [
                    ("P-101", "VIB")
                ]
            assert "P-101" in json.dumps(event)  # the order the other process opened
        assert "no pipeline: workers ingest and detect" in first.log.read_text()
        assert "event streams poll the audit trail every 1.0 s" in second.log.read_text()
    finally:
        writer.close()


@pytest.mark.postgres
async def test_replicas_on_postgresql_stream_on_notifications_also_after_a_dropped_listener(
    tmp_path: Path, postgres_url: str
) -> None:
    plant = load_plant(DEMO_PLANT)
    writer = WorkOrderStore(postgres_url, plant=plant)
    token = writer.access.create_token("api test", Role.PLANNER).secret
    hour = {"FOREWARN_API__EVENTS_POLL_LISTENING": "3600"}  # only a NOTIFY wakes a stream
    database = create_engine(postgres_url)
    try:
        async with replicas(tmp_path, postgres_url, token, hour) as both:
            queues: list[asyncio.Queue[dict[str, object]]] = [asyncio.Queue() for _ in both]
            streams = [asyncio.create_task(r.stream(q)) for r, q in zip(both, queues, strict=True)]

            async def listening(replica: Replica, connects: float) -> bool:
                return (
                    await replica.metric("forewarn_event_streams") == 1
                    and await replica.metric("forewarn_event_listener_connected") == 1
                    and await replica.metric("forewarn_event_listener_connects_total") >= connects
                )

            for i, replica in enumerate(both):
                await wait_until(lambda r=replica: listening(r, 1), f"replica {i} listening")
            recorded = await asyncio.to_thread(
                writer.orders.record, pump_finding(plant), plant.equipment["P-101"]
            )
            assert recorded is not None
            assert recorded.order is not None
            for queue in queues:
                event = await asyncio.wait_for(queue.get(), 20)
                assert event["change"]["action"] == "created"  # type: ignore[index]
                assert event["work_order"]["equipment_id"] == "P-101"  # type: ignore[index]
            for replica in both:
                assert await replica.metric("forewarn_event_notifications_total") >= 1

            dropped = both[1]
            with database.begin() as connection:
                killed = connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": f"forewarn-events-{dropped.process.pid}"},
                ).all()
            assert killed == [(True,)]
            await wait_until(lambda: listening(dropped, 2), "the dropped listener back")
            assert await dropped.metric("forewarn_event_listener_drops_total") == 1
            await asyncio.to_thread(writer.orders.acknowledge, recorded.order.number, by="ann")
            for queue in queues:
                assert await actions_until(queue, "acknowledged") <= {"assigned"}
            for stream in streams:
                stream.cancel()
        log = dropped.log.read_text()
        assert "listener is disconnected" in log
        assert "LISTEN forewarn_changes" in log
    finally:
        database.dispose()
        writer.close()
