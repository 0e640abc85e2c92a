"""The MQTT publisher against a real mosquitto: topics, payloads, flow control, errors, restarts."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant
from simulators import Fleet, MqttPublisher, SimClock, SimulatorError, run
from tests.conftest import Mosquitto, free_port

START = 1_767_225_600.0


class Subscriber:
    """A plain paho client that records every message it gets (QoS 1)."""

    def __init__(self, port: int, topics: list[str], *, client_id: str | None = None) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._topics = topics
        persistent = client_id is not None
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"sub-{uuid.uuid4().hex[:8]}",
            clean_session=not persistent,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("no SUBACK from the broker")

    def _on_connect(self, client: paho.Client, *args: Any) -> None:
        client.subscribe([(topic, 1) for topic in self._topics])

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, json.loads(msg.payload)))

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    async def wait_for(self, count: int) -> None:
        """Wait until `count` messages arrived (at most 30 s)."""
        async with asyncio.timeout(30):
            while self.count() < count:
                await asyncio.sleep(0.02)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def subscribed(port: int, topics: list[str], **kwargs: Any) -> Iterator[Subscriber]:
    subscriber = Subscriber(port, topics, **kwargs)
    try:
        yield subscriber
    finally:
        subscriber.close()


def publisher_for(plant: Plant, broker: Mosquitto, **kwargs: Any) -> MqttPublisher:
    return MqttPublisher(
        plant,
        host="127.0.0.1",
        port=broker.port,
        client_id=f"sim-{uuid.uuid4().hex[:8]}",
        **kwargs,
    )


async def test_every_sample_arrives_on_its_topic_with_a_ms_timestamp_and_all_values(
    demo_plant: Plant, mosquitto: Mosquitto
) -> None:
    with subscribed(mosquitto.port, demo_plant.subscriptions()) as subscriber:
        async with publisher_for(demo_plant, mosquitto) as publisher:
            stats = await run(
                Fleet(demo_plant, seed=42),
                SimClock(START, math.inf),
                publisher,
                until=START + 30,
            )
        assert publisher.published == 30 * len(demo_plant)
        assert publisher.acknowledged == publisher.published
        assert publisher.pending == 0
        await subscriber.wait_for(publisher.published)
        await asyncio.sleep(0.2)
        messages = list(subscriber.messages)

    assert stats.samples == len(messages) == 300
    twin = Fleet(demo_plant, seed=42)
    expected = {
        (demo_plant.signal(s.equipment_id, "flow").topic, round(s.ts * 1000)): s
        for k in range(30)
        for s in twin.tick(START + k, 1.0)
    }
    seen = set()
    for topic, payload in messages:
        assert isinstance(payload["ts"], int)
        key = (topic, payload["ts"])
        assert key not in seen
        seen.add(key)
        sample = expected[key]
        assert topic == f"demo/treatment/{demo_plant.equipment[sample.equipment_id].line}/" + (
            f"{sample.equipment_id}/telemetry"
        )
        assert set(payload["values"]) == {
            "vibration",
            "bearing_temp",
            "motor_current",
            "discharge_pressure",
            "flow",
        }
        for name, value in payload["values"].items():
            assert isinstance(value, float)
            assert value == pytest.approx(sample.values[name], rel=1e-5)
    assert seen == set(expected)


async def test_values_are_rounded_to_significant_digits(
    make_plant: Callable[..., Plant], mosquitto: Mosquitto
) -> None:
    plant = make_plant("P-1", site=f"round-{uuid.uuid4().hex[:6]}")
    with subscribed(mosquitto.port, plant.subscriptions()) as subscriber:
        async with publisher_for(plant, mosquitto, significant_digits=3) as publisher:
            samples = Fleet(plant, seed=1).tick(START, 1.0)
            await publisher.publish(samples)
        await subscriber.wait_for(1)
    (_, payload) = subscriber.messages[0]
    assert payload["values"] == {
        name: float(f"{value:.3g}") for name, value in samples[0].values.items()
    }


async def test_never_more_than_max_inflight_unacknowledged(
    make_plant: Callable[..., Plant], mosquitto: Mosquitto
) -> None:
    plant = make_plant("P-1", "P-2", "P-3", site=f"inflight-{uuid.uuid4().hex[:6]}")
    fleet = Fleet(plant, seed=1)
    with subscribed(mosquitto.port, plant.subscriptions()) as subscriber:
        async with publisher_for(plant, mosquitto, max_inflight=2) as publisher:
            for k in range(200):
                await publisher.publish(fleet.tick(START + k, 1.0))
                assert publisher.pending <= 2
        await subscriber.wait_for(600)
    assert publisher.published == 600


async def test_an_unreachable_broker_is_a_simulator_error_naming_it(demo_plant: Plant) -> None:
    port = free_port()
    publisher = MqttPublisher(demo_plant, host="127.0.0.1", port=port, client_id="sim-nobody")
    with pytest.raises(SimulatorError, match=rf"MQTT broker at 127\.0\.0\.1:{port}"):
        async with publisher:
            pass


async def test_publishing_before_connecting_is_an_error(demo_plant: Plant) -> None:
    publisher = MqttPublisher(demo_plant, host="127.0.0.1", port=1, client_id="sim-early")
    with pytest.raises(SimulatorError, match="use it as `async with`"):
        await publisher.publish(Fleet(demo_plant, seed=1).tick(START, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"qos": 3}, "qos must be 0, 1 or 2"),
        ({"max_inflight": 0}, "max_inflight must be between 1 and 65535"),
        ({"max_inflight": 70_000}, "max_inflight must be between 1 and 65535"),
    ],
)
def test_bad_options_are_errors(demo_plant: Plant, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SimulatorError, match=message):
        MqttPublisher(demo_plant, host="127.0.0.1", port=1883, client_id="x", **kwargs)


async def test_messages_published_while_the_broker_is_down_go_out_after_it_returns(
    make_plant: Callable[..., Plant], private_mosquitto: Mosquitto
) -> None:
    plant = make_plant("P-1", site=f"restart-{uuid.uuid4().hex[:6]}")
    fleet = Fleet(plant, seed=1)
    sub_id = f"sub-{uuid.uuid4().hex[:8]}"
    with subscribed(private_mosquitto.port, plant.subscriptions(), client_id=sub_id) as sub:
        async with publisher_for(plant, private_mosquitto) as publisher:
            for k in range(10):
                await publisher.publish(fleet.tick(START + k, 1.0))
            await sub.wait_for(10)
            await asyncio.to_thread(private_mosquitto.stop)
            for k in range(10, 20):
                await publisher.publish(fleet.tick(START + k, 1.0))
            assert publisher.pending == 10
            await asyncio.to_thread(private_mosquitto.start)
            async with asyncio.timeout(30):
                await publisher.flush()
        await sub.wait_for(20)
        stamps = sorted({payload["ts"] for _, payload in sub.messages})
    assert stamps == [round((START + k) * 1000) for k in range(20)]
