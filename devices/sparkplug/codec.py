"""Sparkplug B payloads <-> plain records, as the Sparkplug 3.0 specification encodes them.

The protobuf schema is `sparkplug_b.proto` beside this module; `sparkplug_b_pb2` is generated from
it. Edge nodes (simulators) and the host application (ingest) both speak through `encode_payload`
and `decode_payload`, so neither touches protobuf objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError, EncodeError

from devices.drafts import draft_type
from devices.errors import SparkplugError
from devices.sparkplug import sparkplug_b_pb2 as pb

MetricValue = int | float | bool | str | bytes | None


class DataType(enum.IntEnum):
    """Metric data types (Sparkplug 3.0, 6.4.16)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19

    @property
    def is_numeric(self) -> bool:
        return DataType.INT8 <= self <= DataType.BOOLEAN


_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
_INT_FIELD = {
    DataType.INT8,
    DataType.INT16,
    DataType.INT32,
    DataType.UINT8,
    DataType.UINT16,
    DataType.UINT32,
}
_LONG_FIELD = {DataType.INT64, DataType.UINT64, DataType.DATETIME}
_STRING_FIELD = {DataType.STRING, DataType.TEXT, DataType.UUID}
_BYTES_FIELD = {DataType.BYTES, DataType.FILE}
_DATATYPES: dict[int, DataType] = {int(t): t for t in DataType}
_SIGNED_WIDTH: dict[int, int] = {int(t): bits for t, bits in _SIGNED_BITS.items()}
_COMPOSITE_FIELDS = frozenset({"dataset_value", "template_value", "extension_value"})
"""Value fields that decode to no scalar value."""
_UNSIGNED_FIELDS = frozenset({"int_value", "long_value"})
"""uint32 / uint64 fields, which carry signed types in two's complement."""


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric of a payload. A birth names it and gives its alias; data may carry the alias
    only. `timestamp` is epoch milliseconds (UTC)."""

    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None
    datatype: DataType | int = DataType.UNKNOWN
    value: MetricValue = None
    is_null: bool = False
    is_historical: bool = False
    is_transient: bool = False


@dataclass(frozen=True, slots=True)
class Payload:
    """A Sparkplug B payload. `timestamp` is epoch milliseconds (UTC); `seq` is 0..255."""

    timestamp: int | None = None
    metrics: tuple[Metric, ...] = ()
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None


_MetricDraft = draft_type(Metric)
_PayloadDraft = draft_type(Payload)


def encode_payload(payload: Payload) -> bytes:
    """The protobuf bytes of `payload`; `SparkplugError` names the metric that cannot be encoded."""
    message = pb.Payload()
    if payload.timestamp is not None:
        message.timestamp = payload.timestamp
    if payload.seq is not None:
        message.seq = payload.seq
    if payload.uuid is not None:
        message.uuid = payload.uuid
    if payload.body is not None:
        message.body = payload.body
    for metric in payload.metrics:
        out = message.metrics.add()
        try:
            _encode_metric(metric, out)
        except (TypeError, ValueError, OverflowError) as exc:
            raise SparkplugError(f"cannot encode metric {_label(metric)}: {exc}") from exc
    try:
        return message.SerializeToString()
    except EncodeError as exc:
        raise SparkplugError(f"cannot encode the payload: {exc}") from exc


def decode_payload(data: bytes) -> Payload:
    """The payload in `data`; `SparkplugError` if it is not a Sparkplug B protobuf payload."""
    try:
        message = pb.Payload.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise SparkplugError(f"not a Sparkplug B payload: {exc}") from exc
    has = message.HasField
    payload: Any = _PayloadDraft()
    payload.timestamp = message.timestamp if has("timestamp") else None
    payload.metrics = tuple(map(_decode_metric, message.metrics))
    payload.seq = message.seq if has("seq") else None
    payload.uuid = message.uuid if has("uuid") else None
    payload.body = message.body if has("body") else None
    payload.__class__ = Payload
    decoded: Payload = payload
    return decoded


def datatype_for(value: MetricValue) -> DataType:
    """The natural Sparkplug type of a Python value (float -> Double, int -> Int64, ...)."""
    if isinstance(value, bool):
        return DataType.BOOLEAN
    if isinstance(value, int):
        return DataType.INT64
    if isinstance(value, float):
        return DataType.DOUBLE
    if isinstance(value, str):
        return DataType.STRING
    if isinstance(value, bytes):
        return DataType.BYTES
    return DataType.UNKNOWN


def _label(metric: Metric) -> str:
    return repr(metric.name) if metric.name is not None else f"alias {metric.alias}"


def _encode_metric(metric: Metric, out: pb.Payload.Metric) -> None:
    if metric.name is not None:
        out.name = metric.name
    if metric.alias is not None:
        out.alias = metric.alias
    if metric.timestamp is not None:
        out.timestamp = metric.timestamp
    out.datatype = int(metric.datatype)
    if metric.is_historical:
        out.is_historical = True
    if metric.is_transient:
        out.is_transient = True
    value = metric.value
    if metric.is_null or value is None:
        out.is_null = True
        return
    try:
        datatype = DataType(metric.datatype)
    except ValueError as exc:
        raise ValueError(f"data type {metric.datatype} has no scalar encoding") from exc
    if datatype in _SIGNED_BITS or datatype in _INT_FIELD or datatype in _LONG_FIELD:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{datatype.name} needs an int, got {value!r}")
        bits = _SIGNED_BITS.get(datatype)
        if bits is not None and value < 0:
            if value < -(1 << (bits - 1)):
                raise ValueError(f"{value} does not fit {datatype.name}")
            value += 1 << bits
        if datatype in _INT_FIELD:
            out.int_value = value
        else:
            out.long_value = value
    elif datatype is DataType.FLOAT:
        out.float_value = _number(value, datatype)
    elif datatype is DataType.DOUBLE:
        out.double_value = _number(value, datatype)
    elif datatype is DataType.BOOLEAN:
        if not isinstance(value, bool):
            raise TypeError(f"Boolean needs a bool, got {value!r}")
        out.boolean_value = value
    elif datatype in _STRING_FIELD:
        if not isinstance(value, str):
            raise TypeError(f"{datatype.name} needs a str, got {value!r}")
        out.string_value = value
    elif datatype in _BYTES_FIELD:
        if not isinstance(value, bytes):
            raise TypeError(f"{datatype.name} needs bytes, got {value!r}")
        out.bytes_value = value
    else:
        raise ValueError(f"data type {datatype.name} has no scalar encoding")


def _number(value: MetricValue, datatype: DataType) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{datatype.name} needs a number, got {value!r}")
    return float(value)


def _decode_metric(m: pb.Payload.Metric) -> Metric:
    raw_type = m.datatype
    datatype = _DATATYPES.get(raw_type, raw_type)
    field = m.WhichOneof("value")
    is_null = m.is_null
    value: MetricValue = None
    if field is not None and not is_null and field not in _COMPOSITE_FIELDS:
        if field in _UNSIGNED_FIELDS:
            number: int = getattr(m, field)
            bits = _SIGNED_WIDTH.get(raw_type)
            value = (
                number
                if bits is None
                else _signed(number, bits, 32 if field == "int_value" else 64)
            )
        else:
            value = getattr(m, field)
    has = m.HasField
    metric: Any = _MetricDraft()
    metric.name = m.name if has("name") else None
    metric.alias = m.alias if has("alias") else None
    metric.timestamp = m.timestamp if has("timestamp") else None
    metric.datatype = datatype
    metric.value = value
    metric.is_null = is_null
    metric.is_historical = m.is_historical
    metric.is_transient = m.is_transient
    metric.__class__ = Metric
    decoded: Metric = metric
    return decoded


def _signed(value: int, bits: int, field_bits: int) -> int:
    """Two's complement of the type's width (as Eclipse Tahu writes it) or of the field's width."""
    if value >= 1 << (field_bits - 1):
        return value - (1 << field_bits)
    if bits < field_bits and (1 << (bits - 1)) <= value < (1 << bits):
        return value - (1 << bits)
    return value
