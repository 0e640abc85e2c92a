"""Where a signal's values come from besides the default JSON topic: other JSON shapes, OPC UA
nodes on a server, Sparkplug B metrics of an edge node or device.

The `*Spec` models are what a plant file says (validated by pydantic, errors located by the
loader); the dataclasses are what `devices.loader` resolves them into for the sources.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

_PLACEHOLDERS = {"site", "area", "line", "equipment", "signal", "ns"}
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

PathPart = str | int
FieldPath = tuple[PathPart, ...]


def parse_path(text: str) -> FieldPath:
    """`a.b[0].c` -> ("a", "b", 0, "c"): where a value sits in a JSON document."""
    parts: list[PathPart] = []
    position = 0
    while position < len(text):
        if parts and text[position] == ".":
            position += 1
        match = _PATH_PART.match(text, position)
        if match is None:
            raise ValueError(
                f"{text!r} is not a field path; write keys separated by '.', list indexes as [0] "
                "(e.g. data.pump[0].vibration)"
            )
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts:
        raise ValueError("a field path must not be empty")
    return tuple(parts)


def _check_template(text: str) -> str:
    unknown = set(re.findall(r"{([^}]*)}", text)) - _PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {sorted(unknown)}; use "
            "{site}, {area}, {line}, {equipment}, {signal} (and {ns} in OPC UA node ids)"
        )
    return text


def fill(template: str, **values: str) -> str:
    """A template with the placeholders it has filled; `{ns}` is left for the OPC UA source."""
    return re.sub(r"{([^}]*)}", lambda m: values.get(m.group(1), m.group(0)), template)


def _non_negative_duration(value: Any) -> Any:
    from devices.schema import _parse_duration

    return _parse_duration(value)


Template = Annotated[str, Field(min_length=1), BeforeValidator(_check_template)]
Interval = Annotated[
    float,
    BeforeValidator(_non_negative_duration),
    Field(ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$"},
            ]
        }
    ),
]
"""A duration in seconds that may be 0 (OPC UA: the server's fastest practical rate)."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# ---- JSON shapes over MQTT ----


class PayloadFormat(enum.StrEnum):
    VALUES = "values"
    """{"ts": ..., "values": {field: number, ...}}, or a list of those."""
    VALUE = "value"
    """One signal per topic: a bare number, or {"ts": ..., "value": number} (`field`: the key)."""
    PATHS = "paths"
    """Any JSON document (or a list of them): each signal's `field` is a path such as
    data.pump[0].vibration; the timestamp is at `timestamp_field`."""


class TimestampUnit(enum.StrEnum):
    AUTO = "auto"
    """Numbers above 1e11 are milliseconds, others seconds; strings are ISO 8601."""
    MS = "ms"
    S = "s"
    ISO = "iso"


class PayloadSpec(_Spec):
    """How an equipment's JSON payloads are shaped; the plant's `mqtt:` sets the default."""

    topic: str | None = None
    """Topic template of the equipment's payloads; default: the plant's `mqtt.topic`."""
    format: PayloadFormat | None = None
    timestamp_field: str | None = None
    timestamp_unit: TimestampUnit | None = None

    @field_validator("timestamp_field")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)
        return value


@dataclass(frozen=True, slots=True)
class TopicFormat:
    """How to read the payloads of one topic."""

    format: PayloadFormat
    timestamp_path: FieldPath
    timestamp_unit: TimestampUnit


# ---- OPC UA ----


class SecurityPolicy(enum.StrEnum):
    NONE = "None"
    BASIC256SHA256 = "Basic256Sha256"


class SecurityMode(enum.StrEnum):
    NONE = "None"
    SIGN = "Sign"
    SIGN_AND_ENCRYPT = "SignAndEncrypt"


class DeadbandType(enum.StrEnum):
    ABSOLUTE = "absolute"
    PERCENT = "percent"
    """Percent of the variable's EURange (the server must define one)."""


class Deadband(_Spec):
    type: DeadbandType = DeadbandType.ABSOLUTE
    value: float = Field(ge=0)


class SubscriptionMode(enum.StrEnum):
    SUBSCRIBE = "subscribe"
    """Monitored items in a subscription; falls back to polling if the server refuses them."""
    POLL = "poll"


class OpcUaServerSpec(_Spec):
    """One OPC UA server the plant's equipment is read from."""

    url: str = Field(pattern=r"^opc\.tcp://", description="opc.tcp://host:port[/path]")
    security_policy: SecurityPolicy = SecurityPolicy.NONE
    """`Basic256Sha256` (with `certificate` and `private_key`) or `None`."""
    security_mode: SecurityMode = SecurityMode.NONE
    """`Sign` or `SignAndEncrypt` with a security policy; `None` without."""
    certificate: str | None = None
    """Client certificate (DER or PEM); `forewarn opcua-gen-cert` makes a self-signed one."""
    private_key: str | None = None
    server_certificate: str | None = None
    """Pin the server's certificate; default: take it from the server's endpoint."""
    username: str | None = None
    password_env: str | None = None
    """Environment variable holding the password (secrets never go in a plant file)."""
    anonymous: bool = False
    """Log in anonymously; only when set, so a missing username is an error, not a silent login."""
    namespace: str | None = None
    """Namespace URI whose index replaces {ns} in node ids and browse paths."""
    publishing_interval: Interval = 1.0
    mode: SubscriptionMode = SubscriptionMode.SUBSCRIBE
    poll_interval: Interval | None = None
    """Polling period; default: the publishing interval."""
    node: Template | None = None
    """Node id template of each signal, e.g. 'ns={ns};s={equipment}.{signal}'."""
    browse_path: Template | None = None
    """Browse path template, e.g. '0:Objects/{ns}:{line}/{ns}:{equipment}/{ns}:{signal}'."""
    sampling_interval: Interval | None = None
    """Default sampling interval; default: each signal's sample_period."""
    queue_size: int = Field(default=10, ge=1)
    deadband: Deadband | None = None
    timeout: Interval = 4.0

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        secured = self.security_policy is not SecurityPolicy.NONE
        if secured != (self.security_mode is not SecurityMode.NONE):
            raise ValueError(
                "security_policy and security_mode go together: Basic256Sha256 with Sign or "
                "SignAndEncrypt, or None with None"
            )
        if secured and (self.certificate is None or self.private_key is None):
            raise ValueError(
                f"security_policy {self.security_policy} needs 'certificate' and 'private_key' "
                "(forewarn opcua-gen-cert makes a self-signed pair)"
            )
        if self.username is None and not self.anonymous:
            raise ValueError(
                "give 'username' (and 'password_env'), or set 'anonymous: true' to log in "
                "anonymously"
            )
        if self.username is not None and self.anonymous:
            raise ValueError("'anonymous: true' and 'username' exclude each other")
        return self


class OpcUaSpec(_Spec):
    servers: dict[str, OpcUaServerSpec] = {}
    """OPC UA servers by the name equipment and signals give as their `server`."""

    @field_validator("servers", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if isinstance(value, list):
            names = [
                str(item.get("name", i)) if isinstance(item, dict) else str(i)
                for i, item in enumerate(value, start=1)
            ]
            example = " ".join(f"{name}: {{url: opc.tcp://..., ...}}" for name in names)
            raise ValueError(
                "servers is a mapping of a server name to its settings, not a list; write "
                f"'servers: {{{example}}}' and name the server in each equipment's or signal's "
                "'opcua: {server: NAME}'"
            )
        return value


class EquipmentOpcUa(_Spec):
    """Read every signal of an equipment from an OPC UA server."""

    server: str
    node: Template | None = None
    browse_path: Template | None = None


class OpcUaBinding(_Spec):
    """Where one signal sits on an OPC UA server, and how it is sampled."""

    server: str | None = None
    node: Template | None = None
    browse_path: Template | None = None
    sampling_interval: Interval | None = None
    queue_size: int | None = Field(default=None, ge=1)
    deadband: Deadband | None = None


@dataclass(frozen=True, slots=True)
class OpcUaNode:
    """A signal's resolved OPC UA monitored item."""

    server: str
    node_id: str | None
    browse_path: str | None
    sampling_interval: float
    queue_size: int
    deadband: Deadband | None


# ---- Sparkplug B ----

_SPARKPLUG_ID = re.compile(r"^[^/+#]+$")


class SparkplugSpec(_Spec):
    """Which Sparkplug group, edge node and device carry each equipment's metrics."""

    group: Template = "{site}"
    """Template of the group id (spBv1.0/{group}/...)."""
    edge_node: Template = "{area}-{line}"
    """Template of the edge node id."""
    device: str = "{equipment}"
    """Template of the device id; empty: the edge node itself carries the metrics (NBIRTH/NDATA)."""

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        return _check_template(value)


class EquipmentSparkplug(_Spec):
    group: str | None = None
    edge_node: str | None = None
    device: str | None = None


class SparkplugBinding(_Spec):
    metric: str | None = Field(default=None, min_length=1)
    """Metric name in the births; default: the signal name."""


@dataclass(frozen=True, slots=True)
class SparkplugAddress:
    group: str
    edge_node: str
    device: str | None
    """None: the metrics are the edge node's own."""

    def problems(self) -> list[str]:
        return [
            f"Sparkplug {what} {value!r} must not be empty or contain '/', '+' or '#'"
            for what, value in (("group", self.group), ("edge node", self.edge_node))
            + ((("device", self.device),) if self.device is not None else ())
            if not _SPARKPLUG_ID.match(value)
        ]
