"""The Sparkplug B host: pure state machine tests, arbitrary input, and a real broker run."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Sequence

import paho.mqtt.client as paho
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant, Quality, Reading
from devices.sparkplug import (
    BDSEQ,
    REBIRTH,
    DataType,
    Metric,
    Payload,
    decode_payload,
    encode_payload,
)
from ingest import BrokerAddress, DeadLetters, MqttSource, RejectReason, SparkplugHost
from tests.conftest import Mosquitto

GROUP, EDGE = "demo", "treatment-line-1"
NODE = f"spBv1.0/{GROUP}/{{}}/{EDGE}"
DEVICE = f"spBv1.0/{GROUP}/{{}}/{EDGE}/P-101"
T0 = 1_764_000_000_000


def nbirth(bdseq: int = 0) -> bytes:
    return encode_payload(
        Payload(
            timestamp=T0,
            seq=0,
            metrics=(
                Metric(BDSEQ, datatype=DataType.INT64, value=bdseq),
                Metric(REBIRTH, 0, datatype=DataType.BOOLEAN, value=False),
            ),
        )
    )


def dbirth(seq: int = 1) -> bytes:
    return encode_payload(
        Payload(
            timestamp=T0,
            seq=seq,
            metrics=(
                Metric("flow", 10, datatype=DataType.DOUBLE, value=90.0),
                Metric("vibration", 11, datatype=DataType.FLOAT, value=2.5),
                Metric("label", 12, datatype=DataType.STRING, value="pump"),
            ),
        )
    )


def ddata(seq: int, flow: float, ts: int | None = None, alias: int = 10) -> bytes:
    return encode_payload(
        Payload(
            timestamp=ts or T0 + seq * 1000,
            seq=seq,
            metrics=(Metric(alias=alias, datatype=DataType.DOUBLE, value=flow),),
        )
    )


@pytest.fixture
def letters() -> DeadLetters:
    return DeadLetters()


@pytest.fixture
def host(demo_plant: Plant, letters: DeadLetters) -> SparkplugHost:
    return SparkplugHost(demo_plant, letters.add, host_id="forewarn", reorder_timeout=2.0)


def born(host: SparkplugHost) -> list[Reading]:
    readings = host.handle(NODE.format("NBIRTH"), nbirth(), 0.0)[0]
    readings += host.handle(DEVICE.format("DBIRTH"), dbirth(), 0.0)[0]
    return readings


def flows(readings: Sequence[Reading]) -> list[float]:
    return [r.value for r in readings if r.signal == "flow"]


def rebirths(outgoing: Sequence[object]) -> int:
    count = 0
    for out in outgoing:
        topic, payload = out.topic, out.payload  # type: ignore[attr-defined]
        if topic == NODE.format("NCMD"):
            [metric] = decode_payload(payload).metrics
            assert (metric.name, metric.value) == (REBIRTH, True)
            count += 1
    return count


def test_births_then_data_by_alias(host: SparkplugHost, letters: DeadLetters) -> None:
    readings = born(host)
    assert sorted((r.signal, r.value) for r in readings) == [("flow", 90.0), ("vibration", 2.5)]
    assert {r.equipment_id for r in readings} == {"P-101"}
    readings, outgoing = host.handle(DEVICE.format("DDATA"), ddata(2, 91.0), 1.0)
    assert readings == [Reading("P-101", "flow", (T0 + 2000) / 1000, 91.0)]
    assert outgoing == []
    assert letters.total == 0
    assert host.subscriptions() == ["spBv1.0/demo/#", "spBv1.0/STATE/forewarn"]


def test_out_of_order_messages_are_reordered_within_the_timeout(host: SparkplugHost) -> None:
    born(host)
    assert host.handle(DEVICE.format("DDATA"), ddata(3, 3.0), 1.0) == ([], [])
    assert host.handle(DEVICE.format("DDATA"), ddata(4, 4.0), 1.1) == ([], [])
    readings, outgoing = host.handle(DEVICE.format("DDATA"), ddata(2, 2.0), 1.5)
    assert flows(readings) == [2.0, 3.0, 4.0]
    assert outgoing == []
    assert host.tick(10.0) == ([], [])
    assert host.stats.sequence_gaps == 0


def test_a_gap_beyond_the_timeout_asks_for_a_rebirth(
    host: SparkplugHost, letters: DeadLetters
) -> None:
    born(host)
    host.handle(DEVICE.format("DDATA"), ddata(3, 3.0), 1.0)
    assert host.tick(2.9) == ([], [])
    readings, outgoing = host.tick(3.0)
    assert flows(readings) == [3.0]  # what did arrive is kept
    assert rebirths(outgoing) == 1
    assert host.stats.sequence_gaps == 1
    readings, _ = host.handle(DEVICE.format("DDATA"), ddata(4, 4.0), 3.5)
    assert flows(readings) == [4.0]
    readings, _ = host.handle(DEVICE.format("DDATA"), ddata(4, 4.0), 3.6)
    assert readings == []
    assert letters.counts == {RejectReason.OUT_OF_ORDER: 1}


def test_sequence_numbers_wrap_at_256(host: SparkplugHost) -> None:
    born(host)
    values = []
    for i in range(2, 300):
        readings, outgoing = host.handle(DEVICE.format("DDATA"), ddata(i % 256, float(i)), i)
        assert outgoing == []
        values += flows(readings)
    assert values == [float(i) for i in range(2, 300)]


def test_unknown_alias_and_missing_birth_ask_for_a_rebirth(
    host: SparkplugHost, letters: DeadLetters
) -> None:
    readings, outgoing = host.handle(DEVICE.format("DDATA"), ddata(5, 1.0), 0.0)
    assert (readings, rebirths(outgoing)) == ([], 1)
    assert letters.counts == {RejectReason.NO_BIRTH: 1}
    born(host)
    readings, outgoing = host.handle(DEVICE.format("DDATA"), ddata(2, 1.0, alias=99), 10.0)
    assert (readings, rebirths(outgoing)) == ([], 1)
    assert letters.counts[RejectReason.UNKNOWN_SIGNAL] == 1
    # a second problem right after does not flood the edge node with requests
    _, outgoing = host.handle(DEVICE.format("DDATA"), ddata(3, 1.0, alias=98), 11.0)
    assert rebirths(outgoing) == 0


def test_deaths_turn_metrics_stale(host: SparkplugHost) -> None:
    born(host)
    death = encode_payload(Payload(timestamp=T0 + 9000, seq=2))
    readings, _ = host.handle(DEVICE.format("DDEATH"), death, 1.0)
    assert {r.signal for r in readings} == {
        "vibration",
        "bearing_temp",
        "motor_current",
        "discharge_pressure",
        "flow",
    }
    assert all(r.quality is Quality.BAD and math.isnan(r.value) for r in readings)
    assert all(r.ts == (T0 + 9000) / 1000 for r in readings)
    host.handle(DEVICE.format("DBIRTH"), dbirth(seq=3), 2.0)
    stale_death = encode_payload(
        Payload(timestamp=T0, metrics=(Metric(BDSEQ, datatype=DataType.INT64, value=7),))
    )
    assert host.handle(NODE.format("NDEATH"), stale_death, 3.0) == ([], [])
    death = encode_payload(
        Payload(timestamp=T0, metrics=(Metric(BDSEQ, datatype=DataType.INT64, value=0),))
    )
    readings, _ = host.handle(NODE.format("NDEATH"), death, 3.0)
    assert {r.equipment_id for r in readings} == {"P-101"}
    assert len(readings) == 5
    readings, outgoing = host.handle(DEVICE.format("DDATA"), ddata(4, 1.0), 4.0)
    assert readings == []
    assert rebirths(outgoing) == 1


def test_values_that_are_not_numbers_are_counted(host: SparkplugHost, letters: DeadLetters) -> None:
    born(host)
    payload = encode_payload(
        Payload(
            timestamp=T0,
            seq=2,
            metrics=(
                Metric(alias=10, datatype=DataType.DOUBLE, value=math.nan),
                Metric("vibration", datatype=DataType.STRING, value="high"),
                Metric("speed", datatype=DataType.DOUBLE, value=1.0),
                Metric("bearing_temp", datatype=DataType.DOUBLE, is_null=True),
                Metric("motor_current", datatype=DataType.BOOLEAN, value=True),
            ),
        )
    )
    readings, _ = host.handle(DEVICE.format("DDATA"), payload, 1.0)
    assert [(r.signal, r.quality) for r in readings] == [
        ("bearing_temp", Quality.BAD),
        ("motor_current", Quality.GOOD),
    ]
    assert letters.counts == {
        RejectReason.NOT_FINITE: 1,
        RejectReason.WRONG_TYPE: 1,
        RejectReason.UNKNOWN_SIGNAL: 1,
    }
    host.handle("spBv1.0/demo/DDATA/unknown-edge/x", payload, 1.0)
    host.handle("spBv1.0/demo/XDATA/e", payload, 1.0)
    host.handle(DEVICE.format("DDATA"), b"\xff\x00garbage", 1.0)
    assert letters.counts[RejectReason.NO_BIRTH] == 1
    assert letters.counts[RejectReason.PARSE_ERROR] == 2


message_types = st.sampled_from(["NBIRTH", "NDEATH", "DBIRTH", "DDEATH", "NDATA", "DDATA"])
metrics = st.builds(
    Metric,
    name=st.none() | st.sampled_from(["flow", "vibration", BDSEQ, "x"]),
    alias=st.none() | st.integers(0, 20),
    datatype=st.sampled_from([DataType.DOUBLE]),
    value=st.floats() | st.none(),
)


@given(
    messages=st.lists(
        st.tuples(
            message_types,
            st.one_of(
                st.binary(max_size=40),
                st.builds(
                    Payload,
                    timestamp=st.integers(0, 2**40),
                    seq=st.none() | st.integers(0, 255),
                    metrics=st.lists(metrics, max_size=4).map(tuple),
                ).map(encode_payload),
            ),
        ),
        max_size=30,
    )
)
def test_any_message_sequence_is_accepted_or_counted(
    demo_plant: Plant, messages: list[tuple[str, bytes]]
) -> None:
    letters = DeadLetters()
    host = SparkplugHost(demo_plant, letters.add, host_id="h")
    for i, (kind, payload) in enumerate(messages):
        topic = (DEVICE if kind.startswith("D") else NODE).format(kind)
        readings, _ = host.handle(topic, payload, float(i))
        assert all(isinstance(r.value, float) for r in readings)
    host.tick(1e9)


class EdgeNode:
    """A minimal Sparkplug edge node publishing over a real broker."""

    def __init__(self, broker: Mosquitto) -> None:
        self.commands: list[bytes] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"edge-{uuid.uuid4().hex}")
        death = encode_payload(
            Payload(timestamp=T0, metrics=(Metric(BDSEQ, datatype=DataType.INT64, value=0),))
        )
        self.client.will_set(NODE.format("NDEATH"), death, qos=1)
        self.client.on_message = lambda c, u, m: self.commands.append(bytes(m.payload))
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe(NODE.format("NCMD"), qos=1)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)


async def test_host_over_a_real_broker(demo_plant: Plant, private_mosquitto: Mosquitto) -> None:
    source = MqttSource(
        demo_plant,
        BrokerAddress("127.0.0.1", private_mosquitto.port),
        client_id=f"fw-{uuid.uuid4().hex[:8]}",
        json_topics=False,
        sparkplug_host_id="forewarn-test",
        reorder_timeout=0.5,
    )
    readings: list[Reading] = []
    async with source:
        await asyncio.wait_for(source.connected(), 10)
        state = await asyncio.to_thread(retained, private_mosquitto, "spBv1.0/STATE/forewarn-test")
        assert json.loads(state)["online"] is True
        edge = EdgeNode(private_mosquitto)
        edge.publish(NODE.format("NBIRTH"), nbirth())
        edge.publish(DEVICE.format("DBIRTH"), dbirth())
        for seq in (2, 3, 5, 6):  # 4 never comes
            edge.publish(DEVICE.format("DDATA"), ddata(seq, float(seq)))
        async with asyncio.timeout(20):
            async for batch in source.batches():
                readings += batch
                if len(flows(readings)) >= 5:
                    break
            while not edge.commands:
                await asyncio.sleep(0.05)
        # the edge node dies without a word: the broker sends its NDEATH
        edge.client.loop_stop()
        edge.client.socket().close()  # type: ignore[union-attr]
        async with asyncio.timeout(30):
            async for batch in source.batches():
                readings += batch
                if any(r.quality is Quality.BAD for r in batch):
                    break
    assert flows(readings)[:5] == [90.0, 2.0, 3.0, 5.0, 6.0]
    [command] = decode_payload(edge.commands[0]).metrics
    assert command.name == REBIRTH
    assert source.sparkplug is not None
    assert source.sparkplug.stats.sequence_gaps == 1
    stale = [r for r in readings if r.quality is Quality.BAD]
    assert {r.signal for r in stale} >= {"flow", "vibration"}
    await asyncio.sleep(0)
    offline = await asyncio.to_thread(retained, private_mosquitto, "spBv1.0/STATE/forewarn-test")
    assert json.loads(offline)["online"] is False  # the host's own will, after it closed


def retained(broker: Mosquitto, topic: str) -> bytes:
    got: list[bytes] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"peek-{uuid.uuid4().hex}")
    client.on_message = lambda c, u, m: got.append(bytes(m.payload))
    client.connect("127.0.0.1", broker.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    try:
        for _ in range(100):
            if got:
                return got[-1]
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    raise AssertionError(f"nothing retained on {topic}")
