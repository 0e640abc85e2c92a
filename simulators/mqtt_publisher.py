"""Publish samples as JSON telemetry over MQTT with paho-mqtt 2.x.

paho runs its network loop (and its reconnects) in its own thread. Its callbacks only count
acknowledgements and wake the event loop; the asyncio side never blocks. At most `max_inflight`
messages are unacknowledged at a time: `publish` waits for the broker to catch up before handing
over more (overflow policy: block the simulation, never drop). While the connection is down, QoS
1 and 2 messages stay queued in paho and go out after it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from devices import Plant
from simulators.base import Sample
from simulators.errors import SimulatorError

log = logging.getLogger(__name__)

MAX_MQTT_INFLIGHT = 65535
"""Packet identifiers are 16 bits: paho stalls with more QoS > 0 messages in flight."""
WAIT_REPORT_INTERVAL = 10.0
"""Seconds between warnings while the broker does not acknowledge."""

_Binding = tuple[str, tuple[tuple[str, str], ...]]
"""A topic and the (signal, payload field) pairs it carries."""


class MqttPublisher:
    """Publishes each sample as `{"ts": <epoch ms>, "values": {field: value}}` to the topics the
    plant binds its signals to (normally one topic per equipment).

    Use as an async context manager: entering connects (a `SimulatorError` names the broker if
    that fails), leaving waits up to `close_timeout` seconds for outstanding acknowledgements and
    disconnects. Values are rounded to `significant_digits` to keep payloads small.
    """

    def __init__(
        self,
        plant: Plant,
        *,
        host: str,
        port: int,
        client_id: str,
        qos: int = 1,
        max_inflight: int = 1000,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 60,
        connect_timeout: float = 10.0,
        close_timeout: float = 30.0,
        significant_digits: int = 6,
        samples_per_message: int = 1,
    ) -> None:
        if qos not in (0, 1, 2):
            raise SimulatorError(f"qos must be 0, 1 or 2, got {qos}")
        if not 1 <= max_inflight <= MAX_MQTT_INFLIGHT:
            raise SimulatorError(
                f"max_inflight must be between 1 and {MAX_MQTT_INFLIGHT}, got {max_inflight}"
            )
        if samples_per_message < 1:
            raise SimulatorError(
                f"samples_per_message must be at least 1, got {samples_per_message}"
            )
        if not 1 <= significant_digits <= 17:
            raise SimulatorError(
                f"significant_digits must be between 1 and 17, got {significant_digits}"
            )
        self.host = host
        self.port = port
        self.client_id = client_id
        self.qos = qos
        self.max_inflight = max_inflight
        self.published = 0
        """Messages handed to the broker connection."""
        self.acknowledged = 0
        """Messages the broker acknowledged (QoS 1 and 2) or that were written out (QoS 0)."""
        self.dropped = 0
        """QoS 0 messages lost because the connection was down."""
        self.values_published = 0
        """Signal values in the messages handed over."""
        self.samples_per_message = samples_per_message
        self._packed: dict[str, list[dict[str, Any]]] = {}
        self._keepalive = keepalive
        self._connect_timeout = connect_timeout
        self._close_timeout = close_timeout
        self._format = f".{significant_digits}g"
        self._bindings = _bindings(plant)
        self._plant_source = plant.source
        self._resume_below = max_inflight - max(1, max_inflight // 4)

        self._lock = threading.Lock()
        self._unacked = 0
        self._wake_at: int | None = None
        self._room = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connack: asyncio.Future[ReasonCode] | None = None
        self._closing = False

        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=True,
        )
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    @property
    def broker(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pending(self) -> int:
        """Messages handed over but not yet acknowledged."""
        with self._lock:
            return self._unacked

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._connack = loop.create_future()
        log.info("connecting to MQTT broker %s as %r", self.broker, self.client_id)
        try:
            await asyncio.to_thread(
                self._client.connect, self.host, self.port, keepalive=self._keepalive
            )
        except (OSError, ValueError) as exc:
            raise SimulatorError(
                f"cannot connect to the MQTT broker at {self.broker}: {exc} "
                "(is it running, and are host and port right?)"
            ) from exc
        self._client.loop_start()
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
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def publish(self, samples: Sequence[Sample]) -> None:
        """Publish the samples, waiting (without blocking the event loop) while `max_inflight`
        messages are unacknowledged. With `samples_per_message` > 1, each topic's samples are
        held until that many are there and go out as one JSON array (`flush` sends the rest)."""
        if self._loop is None:
            raise SimulatorError("MqttPublisher is not connected: use it as `async with`")
        pack = self.samples_per_message
        for sample in samples:
            binding = self._bindings.get(sample.equipment_id)
            if binding is None:
                raise SimulatorError(
                    f"sample of {sample.equipment_id!r}, which has no MQTT topic in the plant "
                    f"({self._plant_source})"
                )
            stamp = round(sample.ts * 1000.0)
            for topic, fields in binding:
                values = {
                    f: float(format(sample.values[name], self._format))
                    for name, f in fields
                    if name in sample.values
                }
                if not values:
                    continue
                bad = [k for k, v in values.items() if not math.isfinite(v)]
                if bad:
                    raise SimulatorError(
                        f"{sample.equipment_id} at {sample.ts}: values of {bad} are not finite"
                    )
                entry = {"ts": stamp, "values": values}
                self.values_published += len(values)
                if pack == 1:
                    await self._publish_one(topic, _encode(entry))
                    continue
                held = self._packed.setdefault(topic, [])
                held.append(entry)
                if len(held) >= pack:
                    del self._packed[topic]
                    await self._publish_one(topic, _encode(held))

    async def _publish_one(self, topic: str, payload: bytes) -> None:
        if self._unacked >= self.max_inflight:
            await self._wait_for(self._resume_below)
        with self._lock:
            self._unacked += 1
        info = self._client.publish(topic, payload, qos=self.qos)
        if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.published += 1
            return
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and self.qos > 0:
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

    async def flush(self) -> None:
        """Send the samples held for packing, then wait until every message published so far is
        acknowledged (bound it with `asyncio.timeout`)."""
        held, self._packed = self._packed, {}
        for topic, entries in held.items():
            await self._publish_one(topic, _encode(entries))
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
            log.info("connected to MQTT broker %s", self.broker)
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

    def _call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback, *args)


def _encode(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def _bindings(plant: Plant) -> dict[str, tuple[_Binding, ...]]:
    """Per equipment: its topics, each with the (signal, field) pairs it carries."""
    bindings: dict[str, tuple[_Binding, ...]] = {}
    for eq in plant:
        topics: dict[str, list[tuple[str, str]]] = {}
        for signal in eq.signals.values():
            topics.setdefault(signal.topic, []).append((signal.name, signal.field))
        bindings[eq.id] = tuple((topic, tuple(fields)) for topic, fields in topics.items())
    return bindings
