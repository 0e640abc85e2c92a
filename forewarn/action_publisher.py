"""The MQTT publisher handed to ticketing for automatic actions (e.g. asking a line controller to
reduce load when an order opens): its own paho connection and client id, QoS acknowledged before
a publish counts as delivered, so ticketing's outbox retries what the broker did not take."""

from __future__ import annotations

import asyncio
import logging
import ssl
from types import TracebackType
from typing import Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ingest import BrokerAddress

log = logging.getLogger(__name__)


class ActionPublisher:
    def __init__(
        self,
        broker: BrokerAddress,
        *,
        client_id: str,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.broker = broker
        self._timeout = timeout
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls or ca_certs or certfile:
            self._client.tls_set(
                ca_certs=ca_certs, certfile=certfile, keyfile=keyfile, cert_reqs=ssl.CERT_REQUIRED
            )
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)

    async def __aenter__(self) -> Self:
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self._client.loop_start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Publish and wait for the broker to take it; raise if it did not."""
        if not self._client.is_connected():
            raise ConnectionError(f"not connected to the MQTT broker {self.broker}")
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"MQTT publish to {topic} failed: {paho.error_string(info.rc)}")
        await asyncio.to_thread(info.wait_for_publish, self._timeout)
        if not info.is_published():
            raise TimeoutError(f"the broker did not acknowledge {topic} in {self._timeout} s")
        log.info("automatic action published to %s", topic)
