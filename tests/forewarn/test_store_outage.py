"""The service against a private PostgreSQL that stops for a few seconds while a bearing fault
develops: the service stays up, its status says the store is degraded while findings wait on
disk, and once the server is back every finding is in the database and the fault has exactly
one order. About two minutes: set FOREWARN_SLOW_TESTS=1 to run it."""

from __future__ import annotations

import asyncio
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from devices import Plant
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, IntakeSettings, MqttSettings, Settings
from simulators import BearingWear, FaultInjection, Fleet, MqttPublisher, SimClock
from simulators import run as run_simulation
from tests.conftest import Mosquitto
from tests.private_postgres import PrivatePostgres, private_postgres  # noqa: F401

START = 1_764_000_000.0
HOUR = 3600.0


def _database(url: str) -> tuple[int, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        findings = connection.execute(text("SELECT count(*) FROM findings")).scalar_one()
        orders = [
            tuple(row)
            for row in connection.execute(
                text("SELECT equipment_id, failure_mode_code FROM work_orders ORDER BY id")
            )
        ]
    engine.dispose()
    return findings, orders


@pytest.mark.slow  # about 2 minutes
async def test_a_postgres_outage_mid_fault_loses_no_finding_and_duplicates_no_order(
    demo_plant: Plant,
    mosquitto: Mosquitto,
    private_postgres: PrivatePostgres,  # noqa: F811
    tmp_path: Path,
) -> None:
    onset = START + 70 * 60
    fault = FaultInjection("P-103", BearingWear(onset=onset, time_to_failure=3 * HOUR))
    fleet = Fleet(demo_plant, seed=7, faults=[fault])
    settings = Settings(
        database=private_postgres.url,
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"outage-{uuid.uuid4().hex[:8]}"),
        intake=IntakeSettings(timestamp_window=False),
        api=ApiSettings(port=0),
    )
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    service = asyncio.create_task(
        serve(demo_plant, settings, stop=stop, on_started=started.set_result)
    )
    running = await asyncio.wait_for(started, 60)
    await asyncio.wait_for(running.source.connected(), 30)
    recorder = running.recorder
    assert recorder is not None
    degraded: list[dict[str, Any]] = []

    async def outage_once_findings_flow() -> None:
        while running.pipeline.stats.findings == 0:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(private_postgres.stop)
        async with asyncio.timeout(120):
            while recorder.spool.pending == 0:
                await asyncio.sleep(0.05)
        degraded.append(running.pipeline.status() | {"store": recorder.status().to_json()})
        await asyncio.sleep(3)
        assert not service.done(), "the service exited while the database was down"
        await asyncio.to_thread(private_postgres.start)

    until = START + 4 * HOUR
    outage = asyncio.create_task(outage_once_findings_flow())
    async with MqttPublisher(
        demo_plant, host="127.0.0.1", port=mosquitto.port, client_id=f"outage-sim-{uuid.uuid4()}"
    ) as publisher:
        await run_simulation(fleet, SimClock(start=START, speed=math.inf), publisher, until=until)
    readings = len(demo_plant) * int((until - START) / 1.0) * 5
    async with asyncio.timeout(180):
        while running.pipeline.stats.readings < readings:
            await asyncio.sleep(0.1)
        await outage
        while recorder.spool.pending:
            await asyncio.sleep(0.1)
    assert not service.done()
    status = recorder.status()
    stop.set()
    await asyncio.wait_for(service, 60)

    [during] = degraded
    assert during["store"]["state"] == "degraded"
    assert "could not record a finding" in during["store"]["last_error"]
    assert (status.state, status.dropped, status.refused) == ("ok", 0, 0)
    assert status.replayed >= 1
    findings, orders = _database(private_postgres.url)
    assert findings == running.pipeline.stats.findings, "findings lost or recorded twice"
    assert orders == [("P-103", "VIB")]
