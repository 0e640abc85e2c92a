"""`decode_payload` (built with drafts and table look-ups) against the straightforward decoder it
replaced, kept here as the reference: the same records, or the same error, for any protobuf."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st

from devices.sparkplug import DataType, Metric, MetricValue, Payload, SparkplugError, decode_payload
from devices.sparkplug import sparkplug_b_pb2 as pb

_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}


def reference_decode(data: bytes) -> Payload:
    try:
        message = pb.Payload.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise SparkplugError(f"not a Sparkplug B payload: {exc}") from exc
    return Payload(
        timestamp=message.timestamp if message.HasField("timestamp") else None,
        metrics=tuple(_reference_metric(m) for m in message.metrics),
        seq=message.seq if message.HasField("seq") else None,
        uuid=message.uuid if message.HasField("uuid") else None,
        body=message.body if message.HasField("body") else None,
    )


def _reference_metric(m: pb.Payload.Metric) -> Metric:
    raw_type = m.datatype
    try:
        datatype: DataType | int = DataType(raw_type)
    except ValueError:
        datatype = raw_type
    field = m.WhichOneof("value")
    value: MetricValue = None
    if field is not None and not m.is_null:
        value = getattr(m, field)
        if field in ("dataset_value", "template_value", "extension_value"):
            value = None
        elif isinstance(value, int) and not isinstance(value, bool):
            bits = _SIGNED_BITS.get(datatype) if isinstance(datatype, DataType) else None
            if bits is not None:
                value = _signed(value, bits, 32 if field == "int_value" else 64)
    return Metric(
        name=m.name if m.HasField("name") else None,
        alias=m.alias if m.HasField("alias") else None,
        timestamp=m.timestamp if m.HasField("timestamp") else None,
        datatype=datatype,
        value=value,
        is_null=m.is_null,
        is_historical=m.is_historical,
        is_transient=m.is_transient,
    )


def _signed(value: int, bits: int, field_bits: int) -> int:
    if value >= 1 << (field_bits - 1):
        return value - (1 << field_bits)
    if bits < field_bits and (1 << (bits - 1)) <= value < (1 << bits):
        return value - (1 << bits)
    return value


def _exact(payload: Payload) -> object:
    """Comparable, NaN included, with every field's type."""
    return (
        repr(payload),
        [[type(getattr(m, f)) for f in Metric.__slots__] for m in payload.metrics],
        type(payload),
    )


def outcome(decode: Any, data: bytes) -> object:
    try:
        return _exact(decode(data))
    except SparkplugError as exc:
        return ("error", str(exc))


values = st.one_of(
    st.tuples(st.just("int_value"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("long_value"), st.integers(0, 2**64 - 1)),
    st.tuples(st.just("float_value"), st.floats(width=32)),
    st.tuples(st.just("double_value"), st.floats()),
    st.tuples(st.just("boolean_value"), st.booleans()),
    st.tuples(st.just("string_value"), st.text(max_size=5)),
    st.tuples(st.just("bytes_value"), st.binary(max_size=5)),
    st.tuples(st.just("dataset_value"), st.just({"num_of_columns": 1})),
    st.tuples(st.just("template_value"), st.just({"version": "1"})),
    st.tuples(st.just("extension_value"), st.just({})),
    st.none(),
)
metric_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["", "flow", "bdSeq", "Node Control/Rebirth"]),
        "alias": st.integers(0, 2**64 - 1),
        "timestamp": st.integers(0, 2**64 - 1),
        "datatype": st.one_of(st.integers(0, 40), st.integers(0, 2**32 - 1)),
        "is_null": st.booleans(),
        "is_historical": st.booleans(),
        "is_transient": st.booleans(),
    },
)


@st.composite
def payloads(draw: Any) -> bytes:
    message = pb.Payload()
    for name, strategy in (
        ("timestamp", st.integers(0, 2**64 - 1)),
        ("seq", st.integers(0, 2**64 - 1)),
        ("uuid", st.text(max_size=4)),
        ("body", st.binary(max_size=4)),
    ):
        if draw(st.booleans()):
            setattr(message, name, draw(strategy))
    for _ in range(draw(st.integers(0, 6))):
        fields = dict(draw(metric_fields))
        value = draw(values)
        if value is not None:
            fields[value[0]] = value[1]
        message.metrics.append(pb.Payload.Metric(**fields))
    return message.SerializeToString()


@given(data=payloads())
def test_any_payload_decodes_as_the_reference_decoder_has_it(data: bytes) -> None:
    assert outcome(decode_payload, data) == outcome(reference_decode, data)


@given(data=st.binary(max_size=200))
def test_any_bytes_decode_or_fail_alike(data: bytes) -> None:
    assert outcome(decode_payload, data) == outcome(reference_decode, data)


@pytest.mark.parametrize(
    ("datatype", "field", "raw", "value"),
    [
        (DataType.INT8, "int_value", 0xFF, -1),
        (DataType.INT8, "int_value", 0xFFFFFFFF, -1),
        (DataType.INT16, "int_value", 0x8000, -32768),
        (DataType.INT32, "int_value", 2**31, -(2**31)),
        (DataType.INT64, "long_value", 2**64 - 1, -1),
        (DataType.UINT64, "long_value", 2**64 - 1, 2**64 - 1),
        (DataType.UINT8, "int_value", 0xFF, 255),
        (33, "long_value", 2**64 - 1, 2**64 - 1),
    ],
)
def test_signed_types_are_twos_complement(datatype: int, field: str, raw: int, value: int) -> None:
    metric = pb.Payload.Metric(alias=1, datatype=datatype, **{field: raw})
    data = pb.Payload(metrics=[metric]).SerializeToString()
    [decoded] = decode_payload(data).metrics
    assert (decoded.value, decoded.datatype) == (value, datatype)
    assert type(decoded) is Metric
    assert decode_payload(data) == reference_decode(data)
