"""Sparkplug B topics and the host application's STATE message (Sparkplug 3.0, chapter 4)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from devices.errors import SparkplugError

NAMESPACE = "spBv1.0"
REBIRTH = "Node Control/Rebirth"
"""The NCMD metric that asks an edge node to publish its births again."""
BDSEQ = "bdSeq"
"""The birth/death sequence metric that ties an NDEATH to the NBIRTH it ends."""


class MessageType(enum.StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    NDATA = "NDATA"
    DDATA = "DDATA"
    NCMD = "NCMD"
    DCMD = "DCMD"


_DEVICE_TYPES = {
    MessageType.DBIRTH,
    MessageType.DDEATH,
    MessageType.DDATA,
    MessageType.DCMD,
}


@dataclass(frozen=True, slots=True)
class Topic:
    """`spBv1.0/{group}/{message_type}/{edge_node}[/{device}]`."""

    group: str
    message_type: MessageType
    edge_node: str
    device: str | None = None

    @classmethod
    def parse(cls, topic: str) -> Topic:
        parts = topic.split("/")
        if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
            raise SparkplugError(
                f"topic {topic!r} is not {NAMESPACE}/group/type/edge_node[/device]"
            )
        try:
            message_type = MessageType(parts[2])
        except ValueError:
            raise SparkplugError(f"topic {topic!r}: unknown message type {parts[2]!r}") from None
        device = parts[4] if len(parts) == 5 else None
        if (device is not None) != (message_type in _DEVICE_TYPES):
            raise SparkplugError(
                f"topic {topic!r}: {message_type} "
                + ("needs a device id" if device is None else "takes no device id")
            )
        if not all(parts[1:]):
            raise SparkplugError(f"topic {topic!r} has an empty level")
        return cls(parts[1], message_type, parts[3], device)

    def __str__(self) -> str:
        tail = f"/{self.device}" if self.device is not None else ""
        return f"{NAMESPACE}/{self.group}/{self.message_type}/{self.edge_node}{tail}"


def state_topic(host_id: str) -> str:
    """Where a host application announces whether it is online (retained, QoS 1)."""
    return f"{NAMESPACE}/STATE/{host_id}"


def encode_state(online: bool, timestamp_ms: int) -> bytes:
    """The STATE payload: the birth says online, the will (same timestamp) says offline."""
    return json.dumps({"online": online, "timestamp": timestamp_ms}).encode()


def decode_state(payload: bytes) -> tuple[bool, int]:
    """`(online, timestamp_ms)` of a STATE payload; `SparkplugError` if it is not one."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise SparkplugError(f"STATE payload is not JSON: {exc}") from exc
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("online"), bool)
        or isinstance(document.get("timestamp"), bool)
        or not isinstance(document.get("timestamp"), int)
    ):
        raise SparkplugError('STATE payload must be {"online": bool, "timestamp": int}')
    return document["online"], document["timestamp"]
