"""No input stops a source: hostile payloads are counted, dead-lettered and acknowledged, and a
network loop that dies anyway is started again. Property tests over the pure decoders, then a real
broker fed by the real `mosquitto_pub`."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import time
import uuid
from typing import Any

import paho.mqtt.client as paho
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import ColumnSink, Plant, Reading
from ingest import (
    BrokerAddress,
    DeadLetters,
    IntakeLimits,
    JsonDecoder,
    MqttSource,
    RejectReason,
    SparkplugHost,
    Validator,
)
from tests.conftest import Mosquitto

TOPIC = "demo/treatment/line-1/P-101/telemetry"
HUGE = 10**399
POISON = ('{"ts": %d, "values": {"vibration": 1' + "0" * 399 + "}}").encode()

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([HUGE, -HUGE, 2**1024, 10**4000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_doc = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["ts", "values", "value", "flow", "vibration"]), children)
    ),
    max_leaves=20,
)
literals = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", str(HUGE), "1" * 4400, '"x"', "[]", "{}"]
)


def hostile_text(draw: Any) -> bytes:
    ts = draw(st.one_of(st.integers(), st.sampled_from(["1e400", "NaN", "-1", str(HUGE)])))
    value = draw(literals)
    depth = draw(st.sampled_from([0, 1, 5, 900, 3000]))
    wrapped = "[" * depth + value + "]" * depth
    return f'{{"ts": {ts}, "values": {{"vibration": {wrapped}, "flow": 1.5}}}}'.encode()


@st.composite
def hostile_payload(draw: Any) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return hostile_text(draw)
    if kind == 1:
        return json.dumps(draw(json_doc)).encode()
    if kind == 2:
        raw: bytes = draw(st.binary(max_size=200))
        return raw
    text: str = draw(st.text(max_size=50))
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture
def letters() -> DeadLetters:
    return DeadLetters(capacity=5)


@given(payload=hostile_payload())
@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_json_payload_raises_and_every_value_is_a_finite_float(
    demo_plant: Plant, payload: bytes
) -> None:
    letters = DeadLetters(capacity=5)
    decoder = JsonDecoder(demo_plant, letters.add)
    validator = Validator(IntakeLimits(), letters.add)
    readings = decoder.decode(TOPIC, payload, received_at=1_764_000_000.0)
    readings = validator.admit(readings, TOPIC, payload, 1_764_000_000.0)
    for reading in readings:
        assert isinstance(reading.value, float)
        assert math.isfinite(reading.value)
        assert math.isfinite(reading.ts)


@pytest.mark.parametrize("text", ["1" + "0" * 399, "-1" + "0" * 399])
def test_an_integer_beyond_a_float_is_number_out_of_range(
    demo_plant: Plant, letters: DeadLetters, text: str
) -> None:
    payload = f'{{"ts": 1764000000000, "values": {{"vibration": {text}, "flow": 2}}}}'.encode()
    readings = JsonDecoder(demo_plant, letters.add).decode(TOPIC, payload, received_at=0.0)
    assert readings == [Reading("P-101", "flow", 1_764_000_000.0, 2.0)]
    assert letters.counts == {RejectReason.NUMBER_OUT_OF_RANGE: 1}
    assert (
        "400 digits" in letters.samples()[0].detail or "401 digits" in letters.samples()[0].detail
    )


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_literals_are_not_finite(
    demo_plant: Plant, letters: DeadLetters, literal: str
) -> None:
    payload = f'{{"ts": 1764000000000, "values": {{"vibration": {literal}}}}}'.encode()
    assert JsonDecoder(demo_plant, letters.add).decode(TOPIC, payload, received_at=0.0) == []
    assert letters.counts == {RejectReason.NOT_FINITE: 1}


def test_deep_nesting_is_a_parse_error_or_wrong_type(
    demo_plant: Plant, letters: DeadLetters
) -> None:
    decoder = JsonDecoder(demo_plant, letters.add)
    deep = b'{"values": {"vibration": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    assert decoder.decode(TOPIC, deep, received_at=0.0) == []
    medium = b'{"values": {"vibration": ' + b"[" * 900 + b"]" * 900 + b"}}"
    assert decoder.decode(TOPIC, medium, received_at=0.0) == []
    assert letters.counts == {RejectReason.PARSE_ERROR: 1, RejectReason.WRONG_TYPE: 1}
    assert len(letters.samples()[1].detail) < 200


@given(
    kind=st.sampled_from(["NBIRTH", "NDATA", "NDEATH", "DBIRTH", "DDATA", "DDEATH", "STATE", "X"]),
    raw=st.binary(max_size=300),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_bytes_on_sparkplug_topics_never_raise(
    demo_plant: Plant, kind: str, raw: bytes
) -> None:
    letters = DeadLetters(capacity=5)
    host = SparkplugHost(demo_plant, letters.add, host_id="forewarn")
    suffix = "/P-101" if kind.startswith("D") else ""
    for topic in (f"spBv1.0/demo/{kind}/treatment-line-1{suffix}", f"spBv1.0/{kind}", "spBv1.0/"):
        readings, _ = host.handle(topic, raw, received_at=1_764_000_000.0)
        assert all(math.isfinite(r.value) or r.quality.name == "BAD" for r in readings)
    host.tick(1_764_000_100.0)


# ---- a real broker ----


def mosquitto_pub(broker: Mosquitto, payload: bytes) -> None:
    subprocess.run(
        ["mosquitto_pub", "-p", str(broker.port), "-t", TOPIC, "-q", "1", "-s"],
        input=payload,
        check=True,
        timeout=10,
    )


async def readings_until(source: MqttSource, count: int) -> list[Reading]:
    readings: list[Reading] = []
    async with asyncio.timeout(20):
        async for batch in source.batches():
            readings.extend(batch)
            if len(readings) >= count:
                return readings
    return readings


async def test_the_poison_payload_from_mosquitto_pub_is_dead_lettered_and_acknowledged(
    demo_plant: Plant, private_mosquitto: Mosquitto
) -> None:
    client_id = f"fw-{uuid.uuid4().hex[:8]}"
    now_ms = int(time.time() * 1000)
    broker = BrokerAddress("127.0.0.1", private_mosquitto.port)
    async with MqttSource(demo_plant, broker, client_id=client_id) as source:
        await asyncio.wait_for(source.connected(), 10)
        await asyncio.to_thread(mosquitto_pub, private_mosquitto, POISON % now_ms)
        for i in range(5):
            good = json.dumps({"ts": now_ms + 1 + i, "values": {"flow": float(i)}}).encode()
            await asyncio.to_thread(mosquitto_pub, private_mosquitto, good)
        readings = await readings_until(source, 5)
    assert [r.value for r in readings] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert source.stats.dead_letters.counts == {RejectReason.NUMBER_OUT_OF_RANGE: 1}
    assert source.stats.messages == 6

    # acknowledged: the persistent session does not hand the poison out again
    async with MqttSource(demo_plant, broker, client_id=client_id) as again:
        await asyncio.wait_for(again.connected(), 10)
        await asyncio.sleep(1.0)
    assert again.stats.messages == 0


async def test_a_handler_error_is_dead_lettered_and_a_dead_network_loop_restarts(
    demo_plant: Plant, private_mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    broker = BrokerAddress("127.0.0.1", private_mosquitto.port)
    source = MqttSource(demo_plant, broker, client_id=f"fw-{uuid.uuid4().hex[:8]}")
    decode = source._decoder.decode_into

    def buggy_decode(sink: ColumnSink, topic: str, payload: bytes, received_at: float) -> None:
        sink.append(0, received_at, 99.0)  # half way through: nothing of it may be kept
        if b"boom" in payload:
            raise KeyError("a bug in a decoder")
        sink.truncate(len(sink) - 1)
        decode(sink, topic, payload, received_at)

    source._decoder.decode_into = buggy_decode  # type: ignore[method-assign]
    on_message = source._client.on_message
    assert on_message is not None
    died: list[int] = []

    def dies_once(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if b"kill" in message.payload and not died:
            died.append(message.mid)
            raise RuntimeError("the network loop dies")
        on_message(client, userdata, message)

    source._client.on_message = dies_once
    now_ms = int(time.time() * 1000)
    async with source:
        await asyncio.wait_for(source.connected(), 10)
        for text in ("boom", "kill"):
            payload = {"ts": now_ms, "values": {"flow": 1.0}, "note": text}
            await asyncio.to_thread(mosquitto_pub, private_mosquitto, json.dumps(payload).encode())
        for i in range(3):
            good = {"ts": now_ms + 1 + i, "values": {"flow": 10.0 + i}}
            await asyncio.to_thread(mosquitto_pub, private_mosquitto, json.dumps(good).encode())
        readings = await readings_until(source, 4)
    # the message the loop died on was not acknowledged: the broker hands it out again
    assert sorted(r.value for r in readings) == [1.0, 10.0, 11.0, 12.0]
    assert source.stats.dead_letters.counts == {RejectReason.HANDLER_ERROR: 1}
    assert "KeyError" in source.stats.dead_letters.samples()[0].detail
    assert source.stats.loop_restarts == 1
    assert "network loop died (restart 1)" in caplog.text
