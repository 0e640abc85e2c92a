"""The Sparkplug B codec: round trips, the wire format of the specification, bad bytes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.sparkplug import (
    DataType,
    MessageType,
    Metric,
    Payload,
    SparkplugError,
    Topic,
    datatype_for,
    decode_payload,
    decode_state,
    encode_payload,
    encode_state,
    state_topic,
)
from devices.sparkplug import sparkplug_b_pb2 as pb


def test_round_trip_of_every_scalar_type() -> None:
    metrics = (
        Metric("i8", 1, 1_700_000_000_000, DataType.INT8, -128),
        Metric("i16", 2, None, DataType.INT16, -2),
        Metric("i32", 3, None, DataType.INT32, -(2**31)),
        Metric("i64", 4, None, DataType.INT64, -(2**63)),
        Metric("u8", 5, None, DataType.UINT8, 255),
        Metric("u32", 6, None, DataType.UINT32, 2**32 - 1),
        Metric("u64", 7, None, DataType.UINT64, 2**64 - 1),
        Metric("f", 8, None, DataType.FLOAT, 0.5),
        Metric("d", 9, None, DataType.DOUBLE, 1.0e-300),
        Metric("b", 10, None, DataType.BOOLEAN, False),
        Metric("s", 11, None, DataType.STRING, "héllo"),
        Metric("dt", 12, None, DataType.DATETIME, 1_700_000_000_000),
        Metric("raw", 13, None, DataType.BYTES, b"\x00\xff"),
        Metric("nothing", 14, None, DataType.DOUBLE, None, is_null=True),
        Metric("old", 15, 5, DataType.DOUBLE, 1.5, is_historical=True, is_transient=True),
    )
    payload = Payload(timestamp=1_700_000_000_001, metrics=metrics, seq=255, uuid="u", body=b"x")
    assert decode_payload(encode_payload(payload)) == payload


def test_wire_format_is_the_specifications() -> None:
    """Field numbers and int encoding as another implementation (protobuf directly) sees them."""
    data = encode_payload(
        Payload(
            timestamp=10,
            seq=3,
            metrics=(
                Metric("vibration", 7, datatype=DataType.DOUBLE, value=2.5),
                Metric(alias=8, datatype=DataType.INT16, value=-1),
            ),
        )
    )
    message = pb.Payload.FromString(data)
    assert (message.timestamp, message.seq) == (10, 3)
    first, second = message.metrics
    assert (first.name, first.alias, first.datatype, first.double_value) == (
        "vibration",
        7,
        10,
        2.5,
    )
    assert (second.alias, second.datatype, second.int_value) == (8, 2, 65535)
    assert data.startswith(b"\x08\x0a")  # field 1 (timestamp), varint 10


def test_signed_ints_written_as_32_bit_twos_complement_are_read_too() -> None:
    message = pb.Payload(timestamp=1, seq=0)
    metric = message.metrics.add(name="x", datatype=DataType.INT16)
    metric.int_value = 2**32 - 3
    [decoded] = decode_payload(message.SerializeToString()).metrics
    assert decoded.value == -3


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (Metric("x", datatype=DataType.INT8, value=-129), "does not fit INT8"),
        (Metric("x", datatype=DataType.DOUBLE, value="2"), "needs a number"),
        (Metric("x", datatype=DataType.BOOLEAN, value=1), "needs a bool"),
        (Metric("x", datatype=DataType.DATASET, value=1), "no scalar encoding"),
        (Metric("x", datatype=DataType.UINT8, value=-1), "out of range"),
    ],
)
def test_unencodable_metrics_name_the_metric(metric: Metric, message: str) -> None:
    with pytest.raises(SparkplugError, match=message) as raised:
        encode_payload(Payload(timestamp=1, metrics=(metric,)))
    assert "metric 'x'" in str(raised.value)


def test_natural_types() -> None:
    assert [datatype_for(v) for v in (True, 1, 1.0, "s", b"b", None)] == [
        DataType.BOOLEAN,
        DataType.INT64,
        DataType.DOUBLE,
        DataType.STRING,
        DataType.BYTES,
        DataType.UNKNOWN,
    ]


def test_topics() -> None:
    topic = Topic.parse("spBv1.0/plant/DDATA/line-1/P-101")
    assert topic == Topic("plant", MessageType.DDATA, "line-1", "P-101")
    assert str(topic) == "spBv1.0/plant/DDATA/line-1/P-101"
    assert str(Topic("g", MessageType.NCMD, "e")) == "spBv1.0/g/NCMD/e"
    for bad in (
        "spBv1.0/g/NDATA/e/d",
        "spBv1.0/g/DDATA/e",
        "spBv1.0/g/XDATA/e",
        "spAv1.0/g/NDATA/e",
        "spBv1.0//NDATA/e",
        "a/b",
    ):
        with pytest.raises(SparkplugError):
            Topic.parse(bad)


def test_state_message() -> None:
    assert state_topic("forewarn") == "spBv1.0/STATE/forewarn"
    payload = encode_state(True, 123)
    assert json.loads(payload) == {"online": True, "timestamp": 123}
    assert decode_state(payload) == (True, 123)
    for bad in (b"{", b"[]", b'{"online": 1, "timestamp": 1}', b'{"online": true}'):
        with pytest.raises(SparkplugError):
            decode_state(bad)


scalars = st.one_of(
    st.tuples(st.just(DataType.INT8), st.integers(-(2**7), 2**7 - 1)),
    st.tuples(st.just(DataType.INT32), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(DataType.INT64), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(DataType.UINT16), st.integers(0, 2**16 - 1)),
    st.tuples(st.just(DataType.UINT64), st.integers(0, 2**64 - 1)),
    st.tuples(st.just(DataType.DOUBLE), st.floats(allow_nan=False)),
    st.tuples(st.just(DataType.BOOLEAN), st.booleans()),
    st.tuples(st.just(DataType.STRING), st.text()),
)


@given(
    timestamp=st.integers(0, 2**64 - 1),
    seq=st.integers(0, 255),
    metrics=st.lists(
        st.tuples(st.text(max_size=20), st.integers(0, 2**64 - 1), scalars), max_size=8
    ),
)
def test_any_payload_round_trips(
    timestamp: int, seq: int, metrics: list[tuple[str, int, tuple[DataType, object]]]
) -> None:
    payload = Payload(
        timestamp=timestamp,
        seq=seq,
        metrics=tuple(
            Metric(name, alias, datatype=datatype, value=value)  # type: ignore[arg-type]
            for name, alias, (datatype, value) in metrics
        ),
    )
    assert decode_payload(encode_payload(payload)) == payload


@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_sparkplug_error(data: bytes) -> None:
    try:
        payload = decode_payload(data)
    except SparkplugError:
        return
    assert isinstance(payload.metrics, tuple)
