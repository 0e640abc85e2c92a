"""The whole slice on real parts: a private mosquitto, the simulated fleet with a bearing fault, the
MQTT ingester, the detectors, the SQLite store, and the HTTP API."""

from __future__ import annotations

import asyncio
import math
import uuid
from pathlib import Path

import httpx

from devices import Plant
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, IntakeSettings, MqttSettings, Settings
from simulators import BearingWear, FaultInjection, Fleet, MqttPublisher, SimClock
from simulators import run as run_simulation
from tests.conftest import Mosquitto
from ticketing import Role

START = 1_764_000_000.0
HOUR = 3600.0


async def test_bearing_wear_opens_exactly_one_order_visible_through_the_api(
    demo_plant: Plant, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    onset = START + 70 * 60
    fault = FaultInjection("P-103", BearingWear(onset=onset, time_to_failure=8 * HOUR))
    fleet = Fleet(demo_plant, seed=7, faults=[fault])
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"e2e-{uuid.uuid4().hex[:8]}"),
        intake=IntakeSettings(timestamp_window=False),  # simulated time, ahead of the wall clock
        api=ApiSettings(port=0),
    )
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    service = asyncio.create_task(
        serve(demo_plant, settings, stop=stop, on_started=started.set_result)
    )
    running = await asyncio.wait_for(started, 30)
    await asyncio.wait_for(running.source.connected(), 30)

    until = START + 2.5 * HOUR
    async with MqttPublisher(
        demo_plant,
        host="127.0.0.1",
        port=mosquitto.port,
        client_id=f"e2e-sim-{uuid.uuid4().hex[:8]}",
    ) as publisher:
        await run_simulation(fleet, SimClock(start=START, speed=math.inf), publisher, until=until)
    published = len(demo_plant) * int((until - START) / 1.0)
    readings = published * 5
    async with asyncio.timeout(120):
        while running.pipeline.stats.readings < readings:
            await asyncio.sleep(0.1)

    token = running.store.access.create_token("e2e planner", Role.PLANNER).secret
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=running.api_url, headers=headers) as http:
        response = await http.get("/api/v1/work-orders")
        assert response.status_code == 200
        orders = response.json()
        open_faulty = await http.get("/api/v1/work-orders", params={"equipment": "P-103"})
    stop.set()
    await asyncio.wait_for(service, 60)

    assert [o["equipment_id"] for o in orders] == ["P-103"], orders
    [order] = open_faulty.json()
    assert order["failure_mode_code"] == "VIB"
    assert order["status"] == "open"
    assert order["number"].startswith("WO-")
    assert running.source.stats.dead_letters.total == 0
    assert running.pipeline.stats.readings == readings
