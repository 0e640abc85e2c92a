"""The running service reads a simulated plant from the simulators' OPC UA server: a pump whose
bearing wears gets a work order, its healthy neighbour none, every sample reaches the pipeline."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from devices import Plant, plant_from_dict
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, IntakeSettings, MqttSettings, Settings
from simulators import BearingWear, FaultInjection, Fleet, OpcUaServer, SimClock
from simulators import run as run_simulation
from tests.conftest import Mosquitto, free_port

START = 1_767_225_600.0
MINUTE = 60.0


def plant(url: str) -> Plant:
    """Two pumps read over OPC UA by node id, as the simulator's server names them."""
    return plant_from_dict(
        {
            "site": {"id": "works"},
            "opcua": {
                "servers": {
                    "sim": {
                        "url": url,
                        "anonymous": True,
                        "namespace": "urn:forewarn:simulator:works",
                        "node": "ns={ns};s={equipment}.{signal}",
                        "publishing_interval": "100ms",
                        "sampling_interval": 0,
                        "queue_size": 1000,
                    }
                }
            },
            "areas": [
                {
                    "id": "pumping",
                    "lines": [
                        {
                            "id": "line-1",
                            "equipment": [
                                {
                                    "id": pump,
                                    "type": "centrifugal_pump",
                                    "team": "mechanical",
                                    "opcua": {"server": "sim"},
                                }
                                for pump in ("P-1", "P-2")
                            ],
                        }
                    ],
                }
            ],
        }
    )


async def test_a_wearing_bearing_read_over_opcua_opens_one_order(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    port = free_port()
    server = OpcUaServer(plant(f"opc.tcp://127.0.0.1:{port}/forewarn/simulator"), port=port)
    machines = plant(server.endpoint)
    onset, to_failure = START + 2 * MINUTE, 10 * MINUTE
    fleet = Fleet(machines, seed=11, faults=[FaultInjection("P-1", BearingWear(onset, to_failure))])
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"opcua-sim-{uuid.uuid4().hex[:8]}"),
        intake=IntakeSettings(timestamp_window=False),  # simulated time
        api=ApiSettings(port=0),
    )
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    async with server:
        service = asyncio.create_task(
            serve(machines, settings, stop=stop, on_started=started.set_result)
        )
        running = await asyncio.wait_for(started, 30)
        opcua = running.intake.sources["opcua:sim"]
        async with asyncio.timeout(30):
            while not opcua.stats.connected:
                await asyncio.sleep(0.05)
        stats = await run_simulation(
            fleet, SimClock(start=START, speed=120), server, until=onset + to_failure
        )
        deadline = asyncio.get_running_loop().time() + 60
        while running.pipeline.stats.readings < server.writes:
            assert asyncio.get_running_loop().time() < deadline, (
                f"{running.pipeline.stats.readings} readings of {server.writes} samples; "
                f"OPC UA source: {opcua.stats}, rejected {dict(opcua.stats.dead_letters.counts)}"
            )
            await asyncio.sleep(0.1)
        orders = await asyncio.to_thread(running.store.orders.list)
        stop.set()
        await asyncio.wait_for(service, 60)
    assert [(o.equipment_id, o.failure_mode_code) for o in orders] == [("P-1", "VIB")]
    assert stats.samples * 5 == server.writes
    truth = {t.equipment_id: t for t in fleet.ground_truth()}
    assert truth["P-1"].alarm_crossed_at is not None  # the wear did reach the alarm limit
    assert opcua.stats.gaps == 0
    assert opcua.stats.dead_letters.total == 0
    assert running.pipeline.stats.readings >= server.writes  # every sample, repeated values too
