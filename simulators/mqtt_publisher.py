"""Publish samples as JSON telemetry over MQTT (the topic convention of the plant file).

The connection, its flow control and its reconnects are `simulators.mqtt_connection`'s; this
module shapes the payloads: `{"ts": <epoch ms>, "values": {field: value, ...}}` per sample, or a
JSON array of those when several samples are packed into one message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from devices import Plant
from simulators.base import Sample
from simulators.errors import SimulatorError
from simulators.mqtt_connection import MqttConnection

_Binding = tuple[str, tuple[tuple[str, str], ...]]
"""A topic and the (signal, payload field) pairs it carries."""


class MqttPublisher:
    """Publishes each sample as `{"ts": <epoch ms>, "values": {field: value}}` to the topics the
    plant binds its signals to (normally one topic per equipment).

    Use as an async context manager: entering connects (a `SimulatorError` names the broker if
    that fails), leaving sends what is held for packing, waits up to `close_timeout` seconds for
    outstanding acknowledgements and disconnects. Values are rounded to `significant_digits` to
    keep payloads small. With `samples_per_message` > 1, each topic's samples go out in JSON
    arrays of that many (the formats' "list of those").
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
        if samples_per_message < 1:
            raise SimulatorError(
                f"samples_per_message must be at least 1, got {samples_per_message}"
            )
        if not 1 <= significant_digits <= 17:
            raise SimulatorError(
                f"significant_digits must be between 1 and 17, got {significant_digits}"
            )
        self.connection = MqttConnection(
            host=host,
            port=port,
            client_id=client_id,
            max_inflight=max_inflight,
            username=username,
            password=password,
            keepalive=keepalive,
            connect_timeout=connect_timeout,
            close_timeout=close_timeout,
        )
        self.qos = qos
        self.samples_per_message = samples_per_message
        self.values_published = 0
        """Signal values in the messages handed over."""
        self._packed: dict[str, list[dict[str, Any]]] = {}
        self._format = f".{significant_digits}g"
        self._bindings = _bindings(plant)
        self._plant_source = plant.source
        self._open = False

    @property
    def broker(self) -> str:
        return self.connection.broker

    @property
    def published(self) -> int:
        """Messages handed to the broker connection."""
        return self.connection.published

    @property
    def acknowledged(self) -> int:
        """Messages the broker acknowledged (QoS 1 and 2) or that were written out (QoS 0)."""
        return self.connection.acknowledged

    @property
    def dropped(self) -> int:
        """QoS 0 messages lost because the connection was down."""
        return self.connection.dropped

    @property
    def pending(self) -> int:
        """Messages handed over but not yet acknowledged."""
        return self.connection.pending

    async def __aenter__(self) -> Self:
        await self.connection.__aenter__()
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and self._packed:
            await self._send_packed()
        self._open = False
        await self.connection.__aexit__(exc_type, exc, tb)

    async def publish(self, samples: Sequence[Sample]) -> None:
        """Publish the samples, waiting (without blocking the event loop) while `max_inflight`
        messages are unacknowledged. With `samples_per_message` > 1, each topic's samples are
        held until that many are there and go out as one JSON array (`flush` sends the rest)."""
        if not self._open:
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
                    await self.connection.publish(topic, _encode(entry), self.qos)
                    continue
                held = self._packed.setdefault(topic, [])
                held.append(entry)
                if len(held) >= pack:
                    del self._packed[topic]
                    await self.connection.publish(topic, _encode(held), self.qos)

    async def flush(self) -> None:
        """Send the samples held for packing, then wait until every message published so far is
        acknowledged (bound it with `asyncio.timeout`)."""
        await self._send_packed()
        await self.connection.flush()

    async def _send_packed(self) -> None:
        held, self._packed = self._packed, {}
        for topic, entries in held.items():
            await self.connection.publish(topic, _encode(entries), self.qos)


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
