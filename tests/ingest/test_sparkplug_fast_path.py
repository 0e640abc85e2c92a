"""`SparkplugHost` (cached topics and routes, readings of plain metrics built inline) against the
host it replaced (`sparkplug_reference.py`): fed the same messages, generated hostile ones
included, both return the same readings and messages to publish, reject the same way and keep the
same statistics and deaths."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import Plant, Reading
from devices.sparkplug import BDSEQ, REBIRTH, DataType, Metric, Payload, encode_payload
from devices.sparkplug import sparkplug_b_pb2 as pb
from ingest import Reject, RejectReason, SparkplugHost
from tests.ingest.sparkplug_reference import SparkplugHost as ReferenceHost

GROUP = "demo"
NODES = ["treatment-line-1", "treatment-line-2", "nowhere"]
DEVICES = ["P-101", "P-102", "P-201", "X-1"]
NAMES = ["flow", "vibration", "bearing_temp", "label", BDSEQ, REBIRTH, "bogus", ""]
ALIASES = [10, 11, 12, 13, 99]


def _exact(reading: Reading) -> tuple[object, ...]:
    fields = (reading.equipment_id, reading.signal, reading.ts, reading.value, reading.quality)
    return (type(reading), *map(repr, fields), *map(type, fields))


class Pair:
    """The host and the reference host, side by side."""

    def __init__(self, plant: Plant) -> None:
        self.rejects: list[Reject] = []
        self.reference_rejects: list[Reject] = []
        self.host = SparkplugHost(plant, self.rejects.append, host_id="fw", reorder_timeout=2.0)
        self.reference = ReferenceHost(
            plant, self.reference_rejects.append, host_id="fw", reorder_timeout=2.0
        )

    def check(self, result: Any, reference: Any) -> None:
        readings, outgoing = result
        reference_readings, reference_outgoing = reference
        assert [_exact(r) for r in readings] == [_exact(r) for r in reference_readings]
        assert [dataclasses.astuple(o) for o in outgoing] == [
            dataclasses.astuple(o) for o in reference_outgoing
        ]
        assert self.rejects == self.reference_rejects
        assert dataclasses.asdict(self.host.stats) == dataclasses.asdict(self.reference.stats)
        assert self.host.dead() == self.reference.dead()

    def handle(self, topic: str, raw: bytes, now: float) -> None:
        self.check(self.host.handle(topic, raw, now), self.reference.handle(topic, raw, now))

    def tick(self, now: float) -> None:
        self.check(self.host.tick(now), self.reference.tick(now))


values = st.one_of(
    st.tuples(st.just(DataType.DOUBLE), st.floats(allow_nan=True, allow_infinity=True)),
    st.tuples(st.just(DataType.FLOAT), st.floats(width=32, allow_nan=True)),
    st.tuples(st.just(DataType.INT64), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(DataType.INT8), st.integers(-128, 127)),
    st.tuples(st.just(DataType.UINT64), st.integers(0, 2**64 - 1)),
    st.tuples(st.just(DataType.BOOLEAN), st.booleans()),
    st.tuples(st.just(DataType.STRING), st.text(max_size=4)),
    st.tuples(st.just(DataType.BYTES), st.binary(max_size=4)),
    st.tuples(st.sampled_from([DataType.DOUBLE, DataType.INT32]), st.none()),
)


@st.composite
def metric(draw: Any) -> Metric:
    datatype, value = draw(values)
    by_name = draw(st.booleans())
    return Metric(
        name=draw(st.sampled_from(NAMES)) if by_name else None,
        alias=draw(st.none() | st.sampled_from(ALIASES)),
        timestamp=draw(st.none() | st.integers(0, 2_000_000_000_000)),
        datatype=datatype,
        value=value,
        is_null=draw(st.booleans()) if value is None else False,
    )


@st.composite
def step(draw: Any, seqs: dict[str, int]) -> tuple[str, str, bytes, float]:
    """A message (or a tick) and how many seconds later it comes."""
    later = draw(st.sampled_from([0.0, 0.1, 0.5, 2.5, 6.0]))
    kind = draw(
        st.sampled_from(
            ["DDATA"] * 6
            + ["NDATA", "NBIRTH", "DBIRTH", "DBIRTH", "DDEATH", "NDEATH", "tick"]
            + ["NCMD", "STATE", "bad topic", "bad payload"]
        )
    )
    node = draw(st.sampled_from(NODES[:2]) | st.sampled_from(NODES))
    device = draw(st.sampled_from(DEVICES))
    if kind == "tick":
        return "tick", "", b"", later
    if kind == "STATE":
        return "msg", "spBv1.0/STATE/other", b'{"online": true, "timestamp": 1}', later
    if kind == "bad topic":
        return "msg", draw(st.sampled_from(["spBv1.0/demo/XDATA/n", "spBv1.0/demo", "a/b"])), b"", 0
    topic = f"spBv1.0/{GROUP}/{kind}/{node}" + (f"/{device}" if kind.startswith("D") else "")
    if kind == "bad payload":
        topic = f"spBv1.0/{GROUP}/DDATA/{node}/{device}"
        return "msg", topic, draw(st.binary(max_size=20)), later
    if kind == "NBIRTH":
        seqs[node] = 0
        seq: int | None = 0
    elif kind == "NDEATH":
        seq = None
    else:
        seqs[node] = (seqs.get(node, 0) + 1) % 256
        seq = draw(st.sampled_from([seqs[node]] * 8 + [None, (seqs[node] + 2) % 256, 0, 255]))
    metrics = draw(st.lists(metric(), max_size=6))
    if kind in ("NBIRTH", "NDEATH"):
        bdseq = draw(st.sampled_from([0, 0, 1]))
        metrics.insert(0, Metric(BDSEQ, datatype=DataType.INT64, value=bdseq))
    if kind == "DBIRTH":
        metrics[:0] = [
            Metric("flow", 10, datatype=DataType.DOUBLE, value=1.0),
            Metric("vibration", 11, datatype=DataType.FLOAT, value=2.5),
            Metric("label", 12, datatype=DataType.STRING, value="x"),
        ]
    timestamp = draw(st.none() | st.just(1_764_000_000_000) | st.integers(0, 2**63))
    payload = encode_payload(Payload(timestamp, tuple(metrics), seq=seq))
    return "msg", topic, payload, later


@st.composite
def scripts(draw: Any) -> list[tuple[str, str, bytes, float]]:
    seqs: dict[str, int] = {}
    return [draw(step(seqs)) for _ in range(draw(st.integers(1, 40)))]


@given(script=scripts())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_message_sequence_is_handled_as_the_reference_host_does(
    demo_plant: Plant, script: list[tuple[str, str, bytes, float]]
) -> None:
    pair = Pair(demo_plant)
    now = 1_764_000_000.0
    for what, topic, raw, later in script:
        now += later
        if what == "tick":
            pair.tick(now)
        else:
            pair.handle(topic, raw, now)


def test_a_born_device_streaming_plain_and_unusual_metrics_matches(demo_plant: Plant) -> None:
    """Not left to chance: births, then data whose metrics take the inline path and every
    other one (a metric timestamp, NaN, null, an int, a string, an unknown alias or name)."""
    pair = Pair(demo_plant)
    node, device = "spBv1.0/demo/{}/treatment-line-1", "spBv1.0/demo/{}/treatment-line-1/P-101"
    nbirth = Payload(1, (Metric(BDSEQ, datatype=DataType.INT64, value=0),), seq=0)
    pair.handle(node.format("NBIRTH"), encode_payload(nbirth), 1.0)
    dbirth = Payload(
        2,
        (
            Metric("flow", 10, datatype=DataType.DOUBLE, value=90.0),
            Metric("vibration", 11, datatype=DataType.FLOAT, value=2.5),
            Metric("label", 12, datatype=DataType.STRING, value="pump"),
        ),
        seq=1,
    )
    pair.handle(device.format("DBIRTH"), encode_payload(dbirth), 1.0)
    data = [
        Metric(alias=10, datatype=DataType.DOUBLE, value=91.5),
        Metric(alias=11, datatype=DataType.FLOAT, value=2.75),
        Metric(alias=10, timestamp=1_764_000_000_500, datatype=DataType.DOUBLE, value=92.0),
        Metric(alias=10, datatype=DataType.DOUBLE, value=math.nan),
        Metric(alias=10, datatype=DataType.DOUBLE, value=-math.inf),
        Metric(alias=10, datatype=DataType.DOUBLE, is_null=True),
        Metric(alias=10, datatype=DataType.INT64, value=-3),
        Metric(alias=10, datatype=DataType.BOOLEAN, value=True),
        Metric(alias=10, datatype=DataType.STRING, value="high"),
        Metric(alias=99, datatype=DataType.DOUBLE, value=1.0),
        Metric("bogus", datatype=DataType.DOUBLE, value=1.0),
        Metric("flow", datatype=DataType.DOUBLE, value=93.0),
    ]
    raw = encode_payload(Payload(1_764_000_001_000, tuple(data), seq=2))
    readings, _ = pair.host.handle(device.format("DDATA"), raw, 2.0)
    pair.check((readings, _), pair.reference.handle(device.format("DDATA"), raw, 2.0))
    assert [r.value for r in readings][:3] == [91.5, 2.75, 92.0]
    assert len(readings) == 7  # 91.5, 2.75, 92 (own ts), null (stale), -3, True, 93
    assert {r.reason for r in pair.rejects} == {
        RejectReason.NOT_FINITE,
        RejectReason.WRONG_TYPE,
        RejectReason.UNKNOWN_SIGNAL,
    }


def test_a_datatype_beyond_the_enum_is_labelled_by_number(demo_plant: Plant) -> None:
    pair = Pair(demo_plant)
    node, device = "spBv1.0/demo/{}/treatment-line-1", "spBv1.0/demo/{}/treatment-line-1/P-101"
    pair.handle(node.format("NBIRTH"), encode_payload(Payload(1, (), seq=0)), 1.0)
    birth = pb.Payload(seq=1, metrics=[pb.Payload.Metric(name="flow", alias=10, datatype=10)])
    pair.handle(device.format("DBIRTH"), birth.SerializeToString(), 1.0)
    data = pb.Payload(seq=2, metrics=[pb.Payload.Metric(alias=10, datatype=77, string_value="x")])
    pair.handle(device.format("DDATA"), data.SerializeToString(), 2.0)
    assert "77 'x' is not a number" in pair.rejects[-1].detail
