"""A plain paho subscriber that keeps every message as bytes, for the publisher tests."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


class RawSubscriber:
    """Subscribes (QoS 1) and records `(topic, payload)` of every message in arrival order."""

    def __init__(self, port: int, topics: list[str]) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._topics = topics
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"raw-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_connect = lambda client, *args: client.subscribe(
            [(topic, 1) for topic in self._topics]
        )
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("no SUBACK from the broker")

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    async def wait_until(self, done: Callable[[list[tuple[str, bytes]]], bool]) -> None:
        """Wait (at most 30 s) until `done(messages so far)`."""
        async with asyncio.timeout(30):
            while not done(self.snapshot()):
                await asyncio.sleep(0.02)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=0)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def raw_subscribed(port: int, topics: list[str]) -> Iterator[RawSubscriber]:
    subscriber = RawSubscriber(port, topics)
    try:
        yield subscriber
    finally:
        subscriber.close()
