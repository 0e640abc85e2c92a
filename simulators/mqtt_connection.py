"""One MQTT connection of a simulated device, on paho-mqtt 2.x, with flow control.

paho runs its network loop (and its reconnects) in its own thread. Its callbacks only count
acknowledgements, wake the event loop and hand incoming messages to `on_message`; the asyncio
side never blocks. At most `max_inflight` messages are unacknowledged at a time: `publish` waits
for the broker to catch up before handing over more (overflow policy: block the simulation, never
drop). While the connection is down, QoS 1 and 2 messages stay queued in paho and go out after it
reconnects; QoS 0 messages are dropped (and counted).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from simulators.errors import SimulatorError

log = logging.getLogger(__name__)

MAX_MQTT_INFLIGHT = 65535
"""Packet identifiers are 16 bits: paho stalls with more QoS > 0 messages in flight."""
WAIT_REPORT_INTERVAL = 10.0
"""Seconds between warnings while the broker does not acknowledge."""


@dataclass(frozen=True, slots=True)
class Will:
    """The message the broker publishes when the connection dies without a goodbye."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class MqttConnection:
    """An async context manager around one paho client: entering connects (a `SimulatorError`
    names the broker if that fails), leaving waits up to `close_timeout` seconds for outstanding
    acknowledgements and disconnects.

    `on_connected` runs in paho's thread after every successful connection (the first and each
    reconnect), before anything else is sent on it: the place to subscribe and publish births.
    `on_disconnected` runs when the connection is lost (not when closed): the place to change the
    will before paho reconnects. `on_message` gets `(topic, payload)` of every message of the
    subscriptions, in paho's thread.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        client_id: str,
        max_inflight: int = 1000,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 60,
        connect_timeout: float = 10.0,
        close_timeout: float = 30.0,
        will: Will | None = None,
        on_connected: Callable[[MqttConnection], None] | None = None,
        on_disconnected: Callable[[MqttConnection], None] | None = None,
        on_message: Callable[[str, bytes], None] | None = None,
    ) -> None:
        if not 1 <= max_inflight <= MAX_MQTT_INFLIGHT:
            raise SimulatorError(
                f"max_inflight must be between 1 and {MAX_MQTT_INFLIGHT}, got {max_inflight}"
            )
        self.host = host
        self.port = port
        self.client_id = client_id
        self.max_inflight = max_inflight
        self.published = 0
        """Messages handed to the broker connection."""
        self.acknowledged = 0
        """Messages the broker acknowledged (QoS 1 and 2) or that were written out (QoS 0)."""
        self.dropped = 0
        """QoS 0 messages lost because the connection was down."""
        self.connects = 0
        self._keepalive = keepalive
        self._connect_timeout = connect_timeout
        self._close_timeout = close_timeout
        self._resume_below = max_inflight - max(1, max_inflight // 4)
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_message_cb = on_message

        self._lock = threading.Lock()
        self._unacked = 0
        self._wake_at: int | None = None
        self._room = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connack: asyncio.Future[ReasonCode] | None = None
        self._closing = False

        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=True,
        )
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        if username is not None:
            self.client.username_pw_set(username, password)
        if will is not None:
            self.set_will(will)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    @property
    def broker(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pending(self) -> int:
        """Messages handed over but not yet acknowledged."""
        with self._lock:
            return self._unacked

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    def set_will(self, will: Will) -> None:
        """The will for the next (re)connection."""
        self.client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._connack = loop.create_future()
        log.info("connecting to MQTT broker %s as %r", self.broker, self.client_id)
        try:
            await asyncio.to_thread(
                self.client.connect, self.host, self.port, keepalive=self._keepalive
            )
        except (OSError, ValueError) as exc:
            raise SimulatorError(
                f"cannot connect to the MQTT broker at {self.broker}: {exc} "
                "(is it running, and are host and port right?)"
            ) from exc
        self.client.loop_start()
        try:
            async with asyncio.timeout(self._connect_timeout):
                reason = await self._connack
        except TimeoutError:
            await self._stop_loop()
            raise SimulatorError(
                f"the MQTT broker at {self.broker} did not answer the connection within "
                f"{self._connect_timeout:g} s"
            ) from None
        if reason.is_failure:
            await self._stop_loop()
            raise SimulatorError(
                f"the MQTT broker at {self.broker} refused the connection: {reason} "
                "(check username and password)"
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            try:
                async with asyncio.timeout(self._close_timeout):
                    await self.flush()
            except TimeoutError:
                log.warning(
                    "closing the connection to %s with %d messages not acknowledged after %g s",
                    self.broker,
                    self.pending,
                    self._close_timeout,
                )
        await self._stop_loop()
        log.info("disconnected from %s after publishing %d messages", self.broker, self.published)

    async def _stop_loop(self) -> None:
        self._closing = True
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    async def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Hand one message over, first waiting (without blocking the event loop) while
        `max_inflight` messages are unacknowledged."""
        if self._loop is None:
            raise SimulatorError("the MQTT connection is not open: use it as `async with`")
        await self.room()
        self.send(topic, payload, qos, retain)

    async def room(self) -> None:
        """Wait (without blocking the event loop) while `max_inflight` messages are
        unacknowledged."""
        if self._unacked >= self.max_inflight:
            await self._wait_for(self._resume_below)

    def send(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Hand one message over now, without flow control (safe from paho's thread, e.g. in
        `on_connected` or `on_message`)."""
        with self._lock:
            self._unacked += 1
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.published += 1
            return
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos > 0:
            self.published += 1  # queued in paho; sent after the reconnect
            return
        with self._lock:
            self._unacked -= 1
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            self.dropped += 1
            return
        raise SimulatorError(
            f"publishing to {topic!r} on {self.broker} failed: {paho.error_string(info.rc)}"
        )

    def subscribe(self, topics: list[tuple[str, int]]) -> None:
        self.client.subscribe(topics)

    async def flush(self) -> None:
        """Wait until every message published so far is acknowledged (bound it with
        `asyncio.timeout`)."""
        await self._wait_for(0)

    async def _wait_for(self, at_most: int) -> None:
        """Wait until at most `at_most` messages are unacknowledged."""
        waited = 0.0
        while True:
            self._room.clear()
            with self._lock:
                if self._unacked <= at_most:
                    self._wake_at = None
                    return
                self._wake_at = at_most
            try:
                async with asyncio.timeout(WAIT_REPORT_INTERVAL):
                    await self._room.wait()
            except TimeoutError:
                waited += WAIT_REPORT_INTERVAL
                log.warning(
                    "%d messages to %s unacknowledged for %.0f s; waiting for the broker",
                    self.pending,
                    self.broker,
                    waited,
                )

    # paho callbacks: they run in paho's network thread (or in `publish` for QoS 0).

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker %s refused the connection: %s", self.broker, reason_code)
        else:
            self.connects += 1
            log.info("connected to MQTT broker %s", self.broker)
            if self._on_connected is not None:
                try:
                    self._on_connected(self)
                except Exception:
                    log.exception("announcing the connection to %s failed", self.broker)
        self._call_soon(self._resolve_connack, reason_code)

    def _resolve_connack(self, reason_code: ReasonCode) -> None:
        if self._connack is not None and not self._connack.done():
            self._connack.set_result(reason_code)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._closing:
            log.warning(
                "lost the connection to MQTT broker %s (%s); reconnecting, %d messages wait",
                self.broker,
                reason_code,
                self.pending,
            )
            if self._on_disconnected is not None:
                self._on_disconnected(self)

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        with self._lock:
            self._unacked -= 1
            self.acknowledged += 1
            wake = self._wake_at is not None and self._unacked <= self._wake_at
            if wake:
                self._wake_at = None
        if wake:
            self._call_soon(self._room.set)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if self._on_message_cb is not None:
            try:
                self._on_message_cb(message.topic, bytes(message.payload))
            except Exception:
                log.exception("handling a message on %s failed", message.topic)

    def _call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback, *args)
