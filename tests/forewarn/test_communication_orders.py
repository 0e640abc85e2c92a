"""A lost link is a communication order, not stale sensors: a Sparkplug B edge node's NDEATH and a
stopped OPC UA server each open one COM order per equipment behind them, and the order closes by
itself, with the recovery in its findings, once the node is born again or the session is back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from devices import FindingKind, Plant, plant_from_dict
from forewarn.service import Running, serve
from forewarn.settings import (
    ApiSettings,
    HealthSettings,
    IntakeSettings,
    MqttSettings,
    Settings,
    SparkplugSettings,
)
from simulators import MqttPublisher, OpcUaServer
from simulators.base import Sample
from simulators.sparkplug_publisher import SparkplugPublisher
from tests.conftest import Mosquitto, free_port
from ticketing import WorkOrderView

NORMAL = {
    "vibration": 2.0,
    "bearing_temp": 60.0,
    "motor_current": 45.0,
    "discharge_pressure": 6.0,
    "flow": 80.0,
}
LINES = {"P-1": "line-1", "P-2": "line-2"}


def sparkplug_plant(pumps: tuple[str, ...] = ("P-1", "P-2")) -> Plant:
    """Each pump a device of its own edge node (one per line)."""
    return plant_from_dict(
        {
            "site": {"id": "works"},
            "sparkplug": {"group": "works", "edge_node": "{line}", "device": "{equipment}"},
            "areas": [
                {
                    "id": "pumping",
                    "lines": [
                        {
                            "id": LINES[pump],
                            "equipment": [
                                {"id": pump, "type": "centrifugal_pump", "team": "mechanical"}
                            ],
                        }
                        for pump in pumps
                    ],
                }
            ],
        }
    )


def opcua_plant(url: str) -> Plant:
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
                                    "id": "P-1",
                                    "type": "centrifugal_pump",
                                    "team": "mechanical",
                                    "opcua": {"server": "sim"},
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        api=ApiSettings(port=0),
        health=HealthSettings(link_grace=2.0, link_check=0.2),
        **extra,
    )


@asynccontextmanager
async def service(plant: Plant, config: Settings) -> AsyncIterator[Running]:
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(plant, config, stop=stop, on_started=started.set_result))
    try:
        yield await asyncio.wait_for(started, 30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


def samples(pumps: tuple[str, ...]) -> list[Sample]:
    now = time.time()
    return [Sample(pump, now, NORMAL) for pump in pumps]


async def orders_until(
    running: Running,
    done: Callable[[list[WorkOrderView]], bool],
    feed: Callable[[], Any] | None = None,
    within: float = 60,
) -> list[WorkOrderView]:
    async with asyncio.timeout(within):
        while True:
            if feed is not None:
                await feed()
            orders = await asyncio.to_thread(running.store.orders.list)
            if done(orders):
                return orders
            await asyncio.sleep(0.2)


def com(orders: list[WorkOrderView]) -> list[WorkOrderView]:
    return [o for o in orders if o.failure_mode_code == "COM"]


def publisher(plant: Plant, broker: Mosquitto) -> SparkplugPublisher:
    return SparkplugPublisher(
        plant, host="127.0.0.1", port=broker.port, client_id_prefix=f"sp-{uuid.uuid4().hex[:6]}"
    )


async def test_an_ndeath_opens_one_communication_order_and_the_nbirth_closes_it(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    plant = sparkplug_plant()
    config = settings(
        tmp_path,
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"com-{uuid.uuid4().hex[:8]}"),
        sparkplug=SparkplugSettings(host_id=f"host-{uuid.uuid4().hex[:6]}"),
        intake=IntakeSettings(timestamp_window=False),
    )
    async with (
        service(plant, config) as running,
        publisher(sparkplug_plant(("P-2",)), mosquitto) as p2,
    ):

        async def feed_p2() -> None:
            await p2.publish(samples(("P-2",)))

        async with publisher(sparkplug_plant(("P-1",)), mosquitto) as p1:
            async with asyncio.timeout(30):
                while running.pipeline.stats.readings < 20:
                    await p1.publish(samples(("P-1",)))
                    await feed_p2()
                    await asyncio.sleep(0.1)
        # P-1's edge node said NDEATH on leaving; P-2's keeps sending.
        opened = await orders_until(running, lambda o: bool(com(o)), feed_p2)
        assert running.pipeline.status()["links_down"] == {"P-1": "NDEATH of works/line-1"}
        async with httpx.AsyncClient() as http:
            health = (await http.get(f"{running.api_url}/api/v1/health")).json()
        assert health["status"] == "degraded"
        assert "no data from P-1: NDEATH of works/line-1" in health["reasons"]
        await asyncio.sleep(1.0)  # more looks at the dead link open nothing more
        orders = await orders_until(running, lambda o: True, feed_p2)
        assert [(o.equipment_id, o.failure_mode_code) for o in orders] == [("P-1", "COM")]
        order = opened[0]
        assert order.team == "mechanical"
        assert order.status.value == "open"

        async with publisher(sparkplug_plant(("P-1",)), mosquitto) as p1:  # NBIRTH again
            closed = await orders_until(
                running,
                lambda o: all(x.status.value == "closed" for x in com(o)),
                lambda: p1.publish(samples(("P-1",))),
            )
            assert running.pipeline.status()["links_down"] == {}
        findings = await asyncio.to_thread(running.store.orders.findings, order.number)
    assert [(f.kind, f.active) for f in findings] == [
        (FindingKind.COMMUNICATION, True),
        (FindingKind.COMMUNICATION, False),
    ]
    assert "NDEATH of works/line-1" in findings[0].summary
    assert [(o.equipment_id, o.failure_mode_code) for o in closed] == [("P-1", "COM")]


async def test_a_short_loss_opens_nothing(mosquitto: Mosquitto, tmp_path: Path) -> None:
    plant = sparkplug_plant(("P-1",))
    config = settings(
        tmp_path,
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"com-{uuid.uuid4().hex[:8]}"),
        sparkplug=SparkplugSettings(host_id=f"host-{uuid.uuid4().hex[:6]}"),
        intake=IntakeSettings(timestamp_window=False),
    )
    config.health.link_grace = 30.0
    async with service(plant, config) as running:
        for _ in range(2):  # born, dead for a moment, born again
            async with publisher(plant, mosquitto) as p1:
                await p1.publish(samples(("P-1",)))
            async with asyncio.timeout(10):
                while "P-1" not in running.pipeline.status()["links_down"]:
                    await asyncio.sleep(0.05)
        async with publisher(plant, mosquitto) as p1:
            async with asyncio.timeout(10):
                while running.pipeline.status()["links_down"]:
                    await p1.publish(samples(("P-1",)))
                    await asyncio.sleep(0.1)
        orders = await asyncio.to_thread(running.store.orders.list)
    assert orders == []


async def test_a_stopped_opcua_server_opens_a_communication_order_until_it_is_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"opc.tcp://127.0.0.1:{port}/forewarn/simulator"
    server = OpcUaServer(opcua_plant(url), port=port)
    plant = opcua_plant(server.endpoint)
    await server.start()
    try:
        async with service(plant, settings(tmp_path)) as running:
            opcua = running.intake.sources["opcua:sim"]

            async def feed() -> None:
                if server._server is not None:
                    await server.publish(samples(("P-1",)))

            async with asyncio.timeout(30):
                while running.pipeline.stats.readings < 10:
                    await feed()
                    await asyncio.sleep(0.1)
            await server.stop()
            opened = await orders_until(running, lambda o: bool(com(o)))
            assert "OPC UA server sim unreachable" in running.pipeline.status()["links_down"]["P-1"]
            await server.start()
            closed = await orders_until(
                running,
                lambda o: opcua.stats.connected and all(x.status.value == "closed" for x in com(o)),
                feed,
                within=90,
            )
            findings = await asyncio.to_thread(running.store.orders.findings, opened[0].number)
    finally:
        await server.stop()
    assert [(o.equipment_id, o.failure_mode_code) for o in closed] == [("P-1", "COM")]
    assert [f.active for f in findings] == [True, False]
    assert "data returns" in findings[1].summary


def mqtt_plant() -> Plant:
    return plant_from_dict(
        {
            "site": {"id": "works"},
            "areas": [
                {
                    "id": "pumping",
                    "lines": [
                        {
                            "id": "line-1",
                            "equipment": [
                                {"id": "P-1", "type": "centrifugal_pump", "team": "mechanical"}
                            ],
                        }
                    ],
                }
            ],
        }
    )


async def test_a_broker_down_past_the_grace_opens_a_communication_order_closed_on_reconnect(
    private_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    plant = mqtt_plant()
    config = settings(
        tmp_path,
        mqtt=MqttSettings(url=private_mosquitto.url, client_id=f"com-{uuid.uuid4().hex[:8]}"),
        intake=IntakeSettings(timestamp_window=False),
    )
    async with service(plant, config) as running:
        source = running.source
        async with (
            asyncio.timeout(30),
            MqttPublisher(
                plant, host="127.0.0.1", port=private_mosquitto.port, client_id="com-pub"
            ) as publisher,
        ):
            while running.pipeline.stats.readings < 10:
                await publisher.publish(samples(("P-1",)))
                await asyncio.sleep(0.1)
        private_mosquitto.stop()
        opened = await orders_until(running, lambda o: bool(com(o)))
        assert running.pipeline.status()["links_down"] == {"P-1": "MQTT broker unreachable"}
        private_mosquitto.start()
        closed = await orders_until(
            running, lambda o: source.stats.connected and o[0].status.value == "closed"
        )
        findings = await asyncio.to_thread(running.store.orders.findings, opened[0].number)
    assert [(o.equipment_id, o.failure_mode_code) for o in closed] == [("P-1", "COM")]
    assert [f.active for f in findings] == [True, False]
