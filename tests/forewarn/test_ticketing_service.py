"""forewarn's wiring of ticketing, on real parts: a private mosquitto, the service (`serve`), the
detectors, the store, the ticketing workers and a real HTTP receiver. A reading past its alarm
limit on a critical pump becomes an urgent order whose first notification reaches its target
within 3 seconds, and whose automatic action is published on MQTT."""

from __future__ import annotations

import asyncio
import json
import queue
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from devices import Finding
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, MqttSettings, Settings
from tests.conftest import Mosquitto, free_port
from tests.ticketing.receiver import Receiver
from tests.ticketing.workorder_helpers import plant_notifying
from ticketing import Recorded


def _subscriber(mosquitto: Mosquitto, topic: str) -> tuple[paho.Client, queue.Queue[Any]]:
    got: queue.Queue[Any] = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:6]}")
    client.on_message = lambda _c, _u, message: got.put((message.topic, message.payload))
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client, got


async def test_an_urgent_order_notifies_within_three_seconds_and_runs_its_action(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    receiver = Receiver(free_port())
    receiver.start()
    plant = plant_notifying(
        receiver.url(""),
        actions=[
            {
                "failure_mode": "VIB",
                "mqtt": {
                    "topic": "{site}/{area}/{line}/{equipment}/cmd",
                    "payload": {"command": "reduce_load", "order": "{order}"},
                },
            }
        ],
    )
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"svc-{uuid.uuid4().hex[:8]}"),
        api=ApiSettings(port=0),
    )
    recorded_at: dict[str, float] = {}

    def on_recorded(finding: Finding, recorded: Recorded) -> None:
        if recorded.created:
            recorded_at[recorded.order.number] = time.monotonic()

    subscriber, commands = _subscriber(mosquitto, "demo/treatment/line-1/P-101/cmd")
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    service = asyncio.create_task(
        serve(plant, settings, stop=stop, on_recorded=on_recorded, on_started=started.set_result)
    )
    try:
        running = await asyncio.wait_for(started, 30)
        await asyncio.wait_for(running.source.connected(), 30)
        publisher = paho.Client(CallbackAPIVersion.VERSION2, client_id="svc-test-device")
        publisher.connect("127.0.0.1", mosquitto.port)
        publisher.loop_start()
        payload = {"ts": int(time.time() * 1000), "values": {"vibration": 9.5}}
        sent = time.monotonic()
        publisher.publish(
            "demo/treatment/line-1/P-101/telemetry", json.dumps(payload), qos=1
        ).wait_for_publish(5)
        async with asyncio.timeout(20):
            while not receiver.on("/people/alice"):
                await asyncio.sleep(0.01)
        publisher.loop_stop()
        publisher.disconnect()
        [(number, at)] = recorded_at.items()
        note = receiver.on("/people/alice")[0]
        latency = note.at - at
        print(f"\nreading -> order {at - sent:.3f} s; order -> first notification {latency:.3f} s")
        assert latency < 3.0
        assert note.json["work_order"]["priority"] == "urgent"
        assert note.json["work_order"]["number"] == number
        topic, command = await asyncio.to_thread(commands.get, True, 20)
        assert topic == "demo/treatment/line-1/P-101/cmd"
        assert json.loads(command) == {"command": "reduce_load", "order": number}
        history = running.store.orders.history(number)
        async with asyncio.timeout(10):
            while not any(e.action == "action_delivered" for e in history):
                await asyncio.sleep(0.05)
                history = running.store.orders.history(number)
    finally:
        stop.set()
        await asyncio.wait_for(service, 60)
        subscriber.loop_stop()
        subscriber.disconnect()
        receiver.stop()
