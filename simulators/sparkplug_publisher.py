"""The simulated plant as Sparkplug B edge nodes (Sparkplug 3.0).

Each edge node of the plant (the equipment's `sparkplug` address: group, edge node, device) is one
MQTT session of its own:

- Its will is an NDEATH carrying `bdSeq`, the birth/death sequence of the session; a new session
  (a reconnect) increments it, and the will is renewed before paho reconnects.
- On every connection it publishes an NBIRTH (seq 0, `bdSeq`, `Node Control/Rebirth`, and the
  node's own metrics if equipment sits on the node itself), subscribes to its NCMD and DCMD
  topics, and births again every device it has seen (DBIRTH, each metric with its name, its alias
  and its current value).
- A device's first samples go out in its DBIRTH; later ones as DDATA (NDATA for the node's own
  metrics) carrying aliases only, each metric with the sample's timestamp. Every message but the
  NDEATH carries `seq`, 0..255 and round again.
- An NCMD `Node Control/Rebirth` = true makes it publish its births again.
- Closing publishes the NDEATH itself before disconnecting.

Data messages are QoS 0, as the specification asks; the births, the will and the commands too,
except the will which is QoS 1. A reading a faulty sensor does not give is left out of its
message.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from devices import Equipment, Plant, SparkplugAddress
from devices.sparkplug import (
    BDSEQ,
    REBIRTH,
    DataType,
    MessageType,
    Metric,
    Payload,
    SparkplugError,
    Topic,
    decode_payload,
    encode_payload,
)
from simulators.base import Sample
from simulators.errors import SimulatorError
from simulators.mqtt_connection import MqttConnection, Will

log = logging.getLogger(__name__)

_SEQ_MODULO = 256


@dataclass(frozen=True, slots=True)
class _Binding:
    device: str | None
    signal: str
    metric: str
    alias: int


class EdgeNode:
    """One Sparkplug edge node: its session, its sequence numbers, its births."""

    def __init__(
        self,
        group: str,
        edge_node: str,
        equipment: Sequence[Equipment],
        *,
        host: str,
        port: int,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        max_inflight: int = 1000,
        connect_timeout: float = 10.0,
        close_timeout: float = 30.0,
        samples_per_message: int = 1,
    ) -> None:
        self.group = group
        self.edge_node = edge_node
        self.samples_per_message = samples_per_message
        self.births = 0
        """NBIRTHs published (the first, reconnects and rebirth requests)."""
        self.rebirth_requests = 0
        self._bdseq = 0
        self._seq = 0
        self._lock = threading.RLock()
        self._bindings: dict[str, list[_Binding]] = {}
        self._devices: dict[str | None, list[_Binding]] = {}
        alias = 1
        for eq in equipment:
            address = eq.sparkplug
            device = address.device if address is not None else eq.id
            for signal in eq.signals.values():
                binding = _Binding(device, signal.name, signal.sparkplug_metric, alias)
                alias += 1
                self._bindings.setdefault(eq.id, []).append(binding)
                self._devices.setdefault(device, []).append(binding)
        self._born: set[str] = set()
        """Devices whose DBIRTH went out in this session."""
        self._last: dict[tuple[str | None, str], tuple[int, float]] = {}
        """(device, metric) -> (timestamp ms, value) last published, for births."""
        self._held: dict[str | None, list[Metric]] = {}
        self._held_samples: dict[str | None, int] = {}
        self.connection = MqttConnection(
            host=host,
            port=port,
            client_id=client_id,
            max_inflight=max_inflight,
            username=username,
            password=password,
            connect_timeout=connect_timeout,
            close_timeout=close_timeout,
            will=self._will(),
            on_connected=self._on_connected,
            on_disconnected=self._on_disconnected,
            on_message=self._on_command,
        )

    @property
    def bdseq(self) -> int:
        return self._bdseq

    def _topic(self, kind: MessageType, device: str | None = None) -> str:
        return str(Topic(self.group, kind, self.edge_node, device))

    def _will(self) -> Will:
        payload = Payload(
            timestamp=_now_ms(),
            metrics=(Metric(BDSEQ, datatype=DataType.INT64, value=self._bdseq),),
        )
        return Will(self._topic(MessageType.NDEATH), encode_payload(payload), qos=1)

    # ---- session: births, deaths, commands (paho's thread, or the closing task) ----

    def _on_connected(self, connection: MqttConnection) -> None:
        connection.subscribe(
            [
                (self._topic(MessageType.NCMD), 0),
                (f"{self._topic(MessageType.DCMD, '+')}", 0),
            ]
        )
        self._birth()

    def _on_disconnected(self, connection: MqttConnection) -> None:
        with self._lock:
            self._bdseq = (self._bdseq + 1) % _SEQ_MODULO
            connection.set_will(self._will())
            self._born.clear()

    def _birth(self) -> None:
        """NBIRTH, then a DBIRTH for every device that has published values."""
        with self._lock:
            self._seq = 0
            self._born.clear()
            metrics = [
                Metric(BDSEQ, datatype=DataType.INT64, value=self._bdseq),
                Metric(REBIRTH, datatype=DataType.BOOLEAN, value=False),
                *self._birth_metrics(None),
            ]
            self._send(MessageType.NBIRTH, None, metrics, next_seq=False)
            self.births += 1
            for device in self._devices:
                if device is not None and any(
                    (device, b.metric) in self._last for b in self._devices[device]
                ):
                    self._send(MessageType.DBIRTH, device, self._birth_metrics(device))
                    self._born.add(device)

    def _birth_metrics(self, device: str | None) -> list[Metric]:
        metrics = []
        for binding in self._devices.get(device, ()):
            last = self._last.get((device, binding.metric))
            metrics.append(
                Metric(
                    name=binding.metric,
                    alias=binding.alias,
                    timestamp=last[0] if last is not None else None,
                    datatype=DataType.DOUBLE,
                    value=last[1] if last is not None else None,
                    is_null=last is None,
                )
            )
        return metrics

    def _on_command(self, topic: str, payload: bytes) -> None:
        try:
            command = decode_payload(payload)
        except SparkplugError as exc:
            log.warning(
                "%s/%s: ignoring a command that is not Sparkplug B: %s",
                self.group,
                self.edge_node,
                exc,
            )
            return
        if any(m.name == REBIRTH and m.value is True for m in command.metrics):
            log.info("%s/%s: rebirth requested", self.group, self.edge_node)
            self.rebirth_requests += 1
            self._birth()

    def _send(
        self,
        kind: MessageType,
        device: str | None,
        metrics: Sequence[Metric],
        *,
        timestamp: int | None = None,
        next_seq: bool = True,
    ) -> None:
        """Publish one sequenced message (the caller holds the lock)."""
        if next_seq:
            self._seq = (self._seq + 1) % _SEQ_MODULO
        payload = Payload(
            timestamp=timestamp if timestamp is not None else _now_ms(),
            metrics=tuple(metrics),
            seq=self._seq,
        )
        self.connection.send(self._topic(kind, device), encode_payload(payload), qos=0)

    # ---- data (the event loop) ----

    async def data(self, sample: Sample) -> None:
        """Publish one machine's sample: in its device's DBIRTH if it is the first, else in a
        DDATA (NDATA for the node's own metrics)."""
        bindings = self._bindings[sample.equipment_id]
        stamp = round(sample.ts * 1000.0)
        by_device: dict[str | None, list[Metric]] = {}
        for binding in bindings:
            value = sample.values.get(binding.signal)
            if value is None:
                continue
            if not math.isfinite(value):
                raise SimulatorError(
                    f"{sample.equipment_id} at {sample.ts}: {binding.signal}={value} is not finite"
                )
            by_device.setdefault(binding.device, []).append(
                Metric(alias=binding.alias, timestamp=stamp, datatype=DataType.DOUBLE, value=value)
            )
            self._last[(binding.device, binding.metric)] = (stamp, value)
        for device, metrics in by_device.items():
            await self.connection.room()
            with self._lock:
                if device is not None and device not in self._born:
                    self._send(
                        MessageType.DBIRTH, device, self._birth_metrics(device), timestamp=stamp
                    )
                    self._born.add(device)
                    continue
                held = self._held.setdefault(device, [])
                held.extend(metrics)
                self._held_samples[device] = self._held_samples.get(device, 0) + 1
                if self._held_samples[device] >= self.samples_per_message:
                    self._send_held(device)

    def _send_held(self, device: str | None) -> None:
        metrics = self._held.pop(device, [])
        self._held_samples.pop(device, None)
        if metrics:
            kind = MessageType.NDATA if device is None else MessageType.DDATA
            self._send(kind, device, metrics, timestamp=metrics[-1].timestamp)

    async def flush(self) -> None:
        with self._lock:
            for device in list(self._held):
                self._send_held(device)
        await self.connection.flush()

    async def __aenter__(self) -> Self:
        await self.connection.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.flush()
        with self._lock, contextlib.suppress(SimulatorError):
            will = self._will()
            self.connection.send(will.topic, will.payload, qos=1)
        await self.connection.__aexit__(exc_type, exc, tb)


class SparkplugPublisher:
    """Publishes the plant's samples as its Sparkplug B edge nodes (one MQTT session each); use
    as an async context manager. `nodes` maps (group, edge node) to its `EdgeNode`."""

    def __init__(
        self,
        plant: Plant,
        *,
        host: str,
        port: int,
        client_id_prefix: str = "forewarn-sim",
        username: str | None = None,
        password: str | None = None,
        max_inflight: int = 1000,
        connect_timeout: float = 10.0,
        close_timeout: float = 30.0,
        samples_per_message: int = 1,
    ) -> None:
        if samples_per_message < 1:
            raise SimulatorError(
                f"samples_per_message must be at least 1, got {samples_per_message}"
            )
        grouped: dict[tuple[str, str], list[Equipment]] = {}
        for eq in plant:
            address = eq.sparkplug or SparkplugAddress(plant.site, f"{eq.area}-{eq.line}", eq.id)
            grouped.setdefault((address.group, address.edge_node), []).append(eq)
        self.nodes: dict[tuple[str, str], EdgeNode] = {}
        self._by_equipment: dict[str, EdgeNode] = {}
        for key, equipment in grouped.items():
            node = self.nodes[key] = EdgeNode(
                key[0],
                key[1],
                equipment,
                host=host,
                port=port,
                client_id=f"{client_id_prefix}-{key[0]}-{key[1]}",
                username=username,
                password=password,
                max_inflight=max_inflight,
                connect_timeout=connect_timeout,
                close_timeout=close_timeout,
                samples_per_message=samples_per_message,
            )
            self._by_equipment.update((eq.id, node) for eq in equipment)
        self._stack = contextlib.AsyncExitStack()

    @property
    def published(self) -> int:
        return sum(node.connection.published for node in self.nodes.values())

    async def __aenter__(self) -> Self:
        async with contextlib.AsyncExitStack() as stack:
            for node in self.nodes.values():
                await stack.enter_async_context(node)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.__aexit__(exc_type, exc, tb)

    async def publish(self, samples: Sequence[Sample]) -> None:
        for sample in samples:
            node = self._by_equipment.get(sample.equipment_id)
            if node is None:
                raise SimulatorError(
                    f"sample of {sample.equipment_id!r}, which is not in the plant"
                )
            await node.data(sample)

    async def flush(self) -> None:
        for node in self.nodes.values():
            await node.flush()


def _now_ms() -> int:
    return int(time.time() * 1000)
