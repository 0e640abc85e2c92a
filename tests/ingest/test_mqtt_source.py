"""The MQTT source against a real mosquitto: batches, bad input, persistent sessions, restarts."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant, Reading
from ingest import BrokerAddress, MqttSource, RejectReason
from tests.conftest import Mosquitto

TOPIC = "demo/treatment/line-1/P-101/telemetry"


def publisher(broker: Mosquitto) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def publish(client: paho.Client, messages: list[tuple[str, bytes]]) -> None:
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=10)


def telemetry(ts: int, flow: float) -> bytes:
    return json.dumps({"ts": ts, "values": {"flow": flow}}).encode()


def source_for(plant: Plant, broker: Mosquitto, client_id: str) -> MqttSource:
    return MqttSource(plant, BrokerAddress("127.0.0.1", broker.port), client_id=client_id)


async def collect(source: MqttSource, count: int) -> list[Reading]:
    readings: list[Reading] = []
    async with asyncio.timeout(20):
        async for batch in source.batches():
            readings.extend(batch)
            if len(readings) >= count:
                break
    return readings


async def test_readings_arrive_in_batches_and_garbage_is_set_aside(
    demo_plant: Plant, mosquitto: Mosquitto
) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    async with source_for(demo_plant, mosquitto, client_id) as source:
        await asyncio.wait_for(source.connected(), 10)
        pub = publisher(mosquitto)
        good = [(TOPIC, telemetry(1_000 + i, float(i))) for i in range(500)]
        bad = [
            (TOPIC, b"not json"),
            (TOPIC, b'{"values": {"flow": "n/a"}}'),
            ("demo/treatment/line-1/P-999/telemetry", telemetry(1, 1.0)),
        ]
        publish(pub, [*good[:250], *bad, *good[250:]])
        readings = await collect(source, 500)
        pub.loop_stop()
        pub.disconnect()
    assert [r.value for r in readings] == [float(i) for i in range(500)]
    assert {r.equipment_id for r in readings} == {"P-101"}
    assert source.stats.messages == 503
    assert source.stats.dead_letters.counts == {
        RejectReason.PARSE_ERROR: 1,
        RejectReason.WRONG_TYPE: 1,
        RejectReason.UNKNOWN_EQUIPMENT: 1,
    }


async def test_persistent_session_keeps_messages_published_while_away(
    demo_plant: Plant, mosquitto: Mosquitto
) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    async with source_for(demo_plant, mosquitto, client_id) as source:
        await asyncio.wait_for(source.connected(), 10)
    # The ingester is down; the plant keeps talking.
    pub = publisher(mosquitto)
    publish(pub, [(TOPIC, telemetry(2_000 + i, float(i))) for i in range(300)])
    pub.loop_stop()
    pub.disconnect()
    async with source_for(demo_plant, mosquitto, client_id) as source:
        readings = await collect(source, 300)
    assert [r.value for r in readings] == [float(i) for i in range(300)]


async def test_recovers_by_itself_when_the_broker_restarts(
    demo_plant: Plant, private_mosquitto: Mosquitto
) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    counter = itertools.count()
    async with source_for(demo_plant, private_mosquitto, client_id) as source:
        await asyncio.wait_for(source.connected(), 10)
        pub = publisher(private_mosquitto)
        publish(pub, [(TOPIC, telemetry(3_000 + next(counter), 1.0)) for _ in range(50)])
        before = await collect(source, 50)
        pub.loop_stop()
        pub.disconnect()

        private_mosquitto.restart()
        await asyncio.wait_for(source.connected(), 30)  # paho reconnects with backoff
        pub = publisher(private_mosquitto)
        publish(pub, [(TOPIC, telemetry(3_000 + next(counter), 2.0)) for _ in range(50)])
        after = await collect(source, 50)
        pub.loop_stop()
        pub.disconnect()
    assert len(before) == 50
    assert [r.value for r in after] == [2.0] * 50
    assert source.stats.disconnects >= 1
    assert source.stats.connects >= 2


async def test_close_hands_out_what_is_queued(demo_plant: Plant, mosquitto: Mosquitto) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    async with source_for(demo_plant, mosquitto, client_id) as source:
        await asyncio.wait_for(source.connected(), 10)
        pub = publisher(mosquitto)
        publish(pub, [(TOPIC, telemetry(4_000 + i, float(i))) for i in range(200)])
        pub.loop_stop()
        pub.disconnect()
        while source.stats.readings < 200:
            await asyncio.sleep(0.05)
        await source.close_intake()
        readings = [r async for batch in source.batches() for r in batch]
    assert len(readings) == 200


def test_broker_urls() -> None:
    assert BrokerAddress.parse("mqtt://plant-broker") == BrokerAddress("plant-broker", 1883)
    secure = BrokerAddress.parse("mqtts://user:p%40ss@10.0.0.5")
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        8883,
        True,
        "user",
        "p@ss",
    )
    assert BrokerAddress.parse("localhost:1884").port == 1884
    with pytest.raises(ValueError, match="scheme 'http'"):
        BrokerAddress.parse("http://x")


async def test_with_ack_after_commit_only_committed_batches_are_acknowledged(
    demo_plant: Plant, private_mosquitto: Mosquitto
) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    broker = BrokerAddress("127.0.0.1", private_mosquitto.port)

    def source() -> MqttSource:
        return MqttSource(demo_plant, broker, client_id=client_id, ack_after_commit=True)

    async with source() as first:
        await asyncio.wait_for(first.connected(), 10)
        pub = publisher(private_mosquitto)
        publish(pub, [(TOPIC, telemetry(1_000 + i, float(i))) for i in range(10)])
        taken = await collect(first, 10)
        assert first.position >= 1
    assert [r.value for r in taken] == [float(i) for i in range(10)]

    async with source() as second:  # nothing was committed: all of it comes again
        await asyncio.wait_for(second.connected(), 10)
        again = await collect(second, 10)
        second.commit()
    assert [r.value for r in again] == [float(i) for i in range(10)]

    async with source() as third:
        await asyncio.wait_for(third.connected(), 10)
        publish(pub, [(TOPIC, telemetry(2_000, 99.0))])
        after = await collect(third, 1)
        third.commit()
    pub.disconnect()
    assert [r.value for r in after] == [99.0]


async def test_a_full_queue_is_counted_and_warned_about_once_a_minute(
    demo_plant: Plant, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    source = MqttSource(
        demo_plant, BrokerAddress("127.0.0.1", mosquitto.port), client_id=client_id, queue_bytes=1
    )
    values: list[float] = []
    async with source, asyncio.timeout(60):
        await asyncio.wait_for(source.connected(), 10)
        pub = publisher(mosquitto)
        batches = source.batches().__aiter__()
        with caplog.at_level("WARNING", logger="ingest.mqtt"):
            for wave in range(3):  # each wave finds the queue full; the pipeline then takes
                ts = 6_000 + 100 * wave
                publish(pub, [(TOPIC, telemetry(ts + i, float(ts + i))) for i in range(100)])
                while source.stats.queue_full_seconds < wave + 1:
                    await asyncio.sleep(0.05)
                values.extend(r.value for r in await batches.__anext__())
            while len(values) < 300:
                values.extend(r.value for r in await batches.__anext__())
        pub.loop_stop()
        pub.disconnect()
    warnings = [r.getMessage() for r in caplog.records if "queue full" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "the broker holds the rest" in warnings[0]
    assert values == [float(6_000 + i) for i in range(300)]
