"""`forewarn api`: replicas of the API without a pipeline, over one database another process
writes: each lists the order a worker opened, and its event stream delivers it."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx

from devices import Finding, FindingKind, Severity, load_plant
from tests.conftest import DEMO_PLANT, free_port
from tests.forewarn.run_helpers import start_forewarn, wait_until
from ticketing import Role, WorkOrderStore


async def test_two_api_replicas_serve_and_stream_what_another_process_writes(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'orders.db'}"
    plant = load_plant(DEMO_PLANT)
    writer = WorkOrderStore(database, plant=plant)  # what a worker does (migrates the schema)
    token = writer.access.create_token("api test", Role.PLANNER).secret
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"api-{i}.log" for i in (0, 1)]
    replicas = [
        await start_forewarn(
            "api", "--config", str(DEMO_PLANT), "--db", database, "--port", str(port), log=log
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    headers = {"Authorization": f"Bearer {token}"}
    clients = [
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", headers=headers, timeout=10)
        for p in ports
    ]

    async def up(i: int) -> bool:
        if replicas[i].returncode is not None:
            raise AssertionError(logs[i].read_text())
        try:
            return (await clients[i].get("/api/v1/health")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        for i in (0, 1):
            await wait_until(lambda i=i: up(i), f"replica {i} up", 60)
        events: list[dict[str, object]] = []

        async def listen() -> None:
            async with clients[1].stream("GET", "/api/v1/events") as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        events.append(json.loads(line[5:]))
                        return

        listener = asyncio.create_task(listen())
        await asyncio.sleep(1.0)  # the stream starts from the newest event
        pump = plant.equipment["P-101"]
        finding = Finding(
            pump.id,
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
        recorded = await asyncio.to_thread(writer.orders.record, finding, pump)
        assert recorded is not None
        await asyncio.wait_for(listener, 15)
        for client in clients:
            orders = (await client.get("/api/v1/work-orders")).json()
            assert [(o["equipment_id"], o["failure_mode_code"]) for o in orders] == [
                ("P-101", "VIB")
            ]
        assert events, "the second replica streamed no event"
        assert "P-101" in json.dumps(events[0])  # the order the other process opened
    finally:
        for client in clients:
            await client.aclose()
        writer.close()
        for replica in replicas:
            if replica.returncode is None:
                replica.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(r.wait(), 30) for r in replicas]
    assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    assert "no pipeline: workers ingest and detect" in logs[0].read_text()
