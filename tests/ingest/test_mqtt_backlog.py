"""A backlog through a broker that drops what it cannot queue (mosquitto's
`max_queued_messages`): the source must acknowledge messages as it reads them, not after a long
burst of reads, or the broker's count of unacknowledged messages outgrows its queue and the
newest messages are dropped while the publisher believes them delivered."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant
from ingest import BrokerAddress, MqttSource
from tests.conftest import Mosquitto, free_port

TOPICS = [
    f"demo/treatment/line-{n // 5 + 1}/P-{n // 5 + 1}0{n % 5 + 1}/telemetry" for n in range(10)
]
QUEUE = 400
"""The broker's queue per client, beyond the messages in flight."""
AHEAD = 250
"""Messages the publisher may run ahead of what the source has received (as `forewarn replay`
does): less than the queue, so nothing is dropped as long as the source acknowledges what it
has received."""
MESSAGES = 6000
SAMPLES = 20
"""Samples per message (4 signals each): decoding makes the source slower than the publisher,
so the broker always has a backlog for it."""


def payload(k: int) -> bytes:
    ts = 1_700_000_000_000 + k * SAMPLES * 1000
    return json.dumps(
        [
            {
                "ts": ts + i * 1000,
                "values": {
                    "flow": 95.0,
                    "vibration": 2.0,
                    "bearing_temp": 60.0,
                    "motor_current": 30,
                },
            }
            for i in range(SAMPLES)
        ]
    ).encode()


def detect(readings: int) -> None:
    """Stands for the engine: pure Python work that holds the GIL against the network thread,
    as the detectors do, so that the source reads in long bursts."""
    deadline = time.perf_counter() + readings * 2e-6
    while time.perf_counter() < deadline:
        pass


async def test_no_message_is_dropped_by_a_broker_with_a_short_queue(
    demo_plant: Plant, tmp_path: Path
) -> None:
    broker = Mosquitto(
        tmp_path,
        free_port(),
        settings={"max_queued_messages": str(QUEUE), "max_inflight_messages": "20"},
    )
    broker.start()
    try:
        source = MqttSource(
            demo_plant,
            BrokerAddress("127.0.0.1", broker.port),
            client_id=f"fw-{uuid.uuid4().hex[:8]}",
        )
        readings = 0
        async with source:
            await asyncio.wait_for(source.connected(), 10)

            async def consume() -> None:
                nonlocal readings
                async for batch in source.batches():
                    readings += len(batch)
                    await asyncio.to_thread(detect, len(batch))
                    source.commit()

            consumer = asyncio.create_task(consume())
            pub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
            pub.max_inflight_messages_set(1000)
            pub.connect("127.0.0.1", broker.port)
            pub.loop_start()
            try:
                bodies = [payload(k) for k in range(MESSAGES)]
                for k, body in enumerate(bodies):
                    while k - source.stats.messages > AHEAD:
                        await asyncio.sleep(0.001)
                    pub.publish(TOPICS[k % len(TOPICS)], body, qos=1)
                last, since = source.stats.messages, time.monotonic()
                while source.stats.messages < MESSAGES and time.monotonic() - since < 10:
                    await asyncio.sleep(0.05)
                    if source.stats.messages != last:
                        last, since = source.stats.messages, time.monotonic()
            finally:
                pub.loop_stop()
                pub.disconnect()
            async with asyncio.timeout(20):
                while readings < source.stats.readings:
                    await asyncio.sleep(0.01)
            consumer.cancel()
    finally:
        broker.stop()
    log = (tmp_path / "mosquitto.log").read_text()
    assert "Outgoing messages are being dropped" not in log
    assert source.stats.messages == MESSAGES
    assert readings == MESSAGES * SAMPLES * 4
