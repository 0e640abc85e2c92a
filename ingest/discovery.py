"""The transports of `forewarn discover`: browse an OPC UA server's address space, and listen to
an MQTT broker for a while. What they find goes to `devices.discovery` as plain records."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaError
from paho.mqtt.enums import CallbackAPIVersion

from devices import OpcUaServerSpec
from devices.discovery import BrowsedVariable
from ingest.broker import BrokerAddress
from ingest.errors import IngestError
from ingest.opcua import client_for

log = logging.getLogger(__name__)

_NUMERIC = {ObjectIds.Number, ObjectIds.Integer, ObjectIds.UInteger}
_NUMERIC |= set(range(ObjectIds.SByte, ObjectIds.Double + 1))  # SByte (2) .. Double (11)
_LIMIT_PROPERTIES = {
    "HighHighLimit": "alarm_high",
    "HighLimit": "warn_high",
    "LowLimit": "warn_low",
    "LowLowLimit": "alarm_low",
}


class DiscoveryError(IngestError):
    """A server or broker that cannot be browsed or listened to."""


async def browse_opcua(
    spec: OpcUaServerSpec,
    password: str | None = None,
    *,
    max_depth: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[BrowsedVariable], list[str]]:
    """Every numeric variable below the Objects folder (the server's own `Server` object left
    out), with its unit, EURange and limit properties; and the server's namespace array."""
    client = await client_for(spec, password)
    try:
        await client.connect()
    except (OSError, TimeoutError, UaError) as exc:
        raise DiscoveryError(f"cannot connect to {spec.url}: {exc or type(exc).__name__}") from exc
    try:
        namespaces = await client.get_namespace_array()
        found: list[BrowsedVariable] = []
        seen: set[ua.NodeId] = set()
        visited = 0

        async def walk(node: Node, path: tuple[str, ...]) -> None:
            nonlocal visited
            if len(path) > max_depth:
                return
            for ref in await node.get_references(
                refs=ObjectIds.HierarchicalReferences,
                direction=ua.BrowseDirection.Forward,
                includesubtypes=True,
            ):
                if ref.ReferenceTypeId == ua.NodeId(ua.Int32(ObjectIds.HasProperty)):
                    continue
                if ref.NodeId in seen or (not path and ref.NodeId.NamespaceIndex == 0):
                    continue
                seen.add(ref.NodeId)
                visited += 1
                child = client.get_node(ref.NodeId)
                name = ref.BrowseName.Name
                if ref.NodeClass == ua.NodeClass.Object:
                    await walk(child, (*path, name))
                elif ref.NodeClass == ua.NodeClass.Variable:
                    variable = await _variable(client, child, (*path, name))
                    if variable is not None:
                        found.append(variable)
                if progress is not None and visited % 100 == 0:
                    progress(visited, len(found))

        await walk(client.nodes.objects, ())
        if progress is not None:
            progress(visited, len(found))
        return found, list(namespaces)
    except (OSError, TimeoutError, UaError) as exc:
        raise DiscoveryError(f"browsing {spec.url} failed: {exc or type(exc).__name__}") from exc
    finally:
        await client.disconnect()


async def _variable(client: Client, node: Node, path: tuple[str, ...]) -> BrowsedVariable | None:
    """The variable with its unit, range and limits, in three requests: its attributes, its
    properties, their values."""
    data_type, description, sampling = (
        value.Value.Value if value.Value is not None and _good(value) else None
        for value in await node.read_attributes(
            [AttributeIds.DataType, AttributeIds.Description, AttributeIds.MinimumSamplingInterval]
        )
    )
    if (
        not isinstance(data_type, ua.NodeId)
        or data_type.NamespaceIndex != 0
        or data_type.Identifier not in _NUMERIC
    ):
        return None
    references = await node.get_references(
        refs=ObjectIds.HasProperty, direction=ua.BrowseDirection.Forward
    )
    properties = [ref.BrowseName.Name for ref in references]
    values = (
        await client.read_attributes([client.get_node(ref.NodeId) for ref in references])
        if references
        else []
    )
    unit, eu_range, limits = "", None, {}
    for name, data in zip(properties, values, strict=True):
        value = data.Value.Value if data.Value is not None else None
        if name == "EngineeringUnits" and isinstance(value, ua.EUInformation):
            unit = value.DisplayName.Text or ""
        elif name == "EURange" and isinstance(value, ua.Range):
            if math.isfinite(value.Low) and math.isfinite(value.High) and value.Low < value.High:
                eu_range = (float(value.Low), float(value.High))
        elif name in _LIMIT_PROPERTIES and isinstance(value, int | float):
            limits[_LIMIT_PROPERTIES[name]] = float(value)
    text = description.Text if isinstance(description, ua.LocalizedText) else None
    interval = (
        float(sampling) / 1000 if isinstance(sampling, int | float) and sampling > 0 else None
    )
    return BrowsedVariable(
        path=path,
        node_id=node.nodeid.to_string(),
        namespace_index=node.nodeid.NamespaceIndex,
        unit=unit,
        eu_range=eu_range,
        limits=limits,
        description=text or "",
        minimum_sampling_interval=interval,
    )


def _good(value: ua.DataValue) -> bool:
    return value.StatusCode is None or value.StatusCode.is_good()


@dataclass(frozen=True, slots=True)
class Heard:
    """One MQTT message heard while listening."""

    topic: str
    payload: bytes
    received: float
    """Epoch seconds."""


def listen_mqtt(
    broker: BrokerAddress,
    seconds: float,
    *,
    topics: tuple[str, ...] = ("#",),
    client_id: str | None = None,
    ca_certs: str | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> list[Heard]:
    """Everything published on `topics` for `seconds` (retained messages included); blocking.

    A clean, anonymous-to-the-broker session: nothing is left behind on the broker.
    """
    heard: list[Heard] = []
    lock = threading.Lock()
    connected = threading.Event()
    failure: list[str] = []
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or "",
        clean_session=True,
    )
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=ca_certs)

    def on_connect(
        c: paho.Client, userdata: object, flags: object, reason: object, p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            failure.append(str(reason))
        else:
            c.subscribe([(topic, 0) for topic in topics])
        connected.set()

    def on_message(c: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with lock:
            heard.append(Heard(message.topic, bytes(message.payload), time.time()))

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(broker.host, broker.port, keepalive=30)
    except OSError as exc:
        raise DiscoveryError(f"cannot connect to {broker}: {exc.strerror or exc}") from exc
    client.loop_start()
    try:
        if not connected.wait(10):
            raise DiscoveryError(f"{broker} did not answer the connection within 10 s")
        if failure:
            raise DiscoveryError(f"{broker} refused the connection: {failure[0]}")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))
            if progress is not None:
                with lock:
                    count = len(heard)
                progress(count, max(left - 1.0, 0.0))
    finally:
        client.disconnect()
        client.loop_stop()
    with lock:
        return list(heard)
