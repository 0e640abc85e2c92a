"""The Sparkplug B edge nodes against a real mosquitto, read back by forewarn's own host
application: births with aliases, sequenced data, rebirth on request, NDEATH as the will."""

from __future__ import annotations

import socket
import uuid

from devices import Plant, Quality, Reading
from devices.sparkplug import (
    BDSEQ,
    REBIRTH,
    DataType,
    MessageType,
    Metric,
    Payload,
    Topic,
    decode_payload,
    encode_payload,
)
from ingest.rejects import Reject
from ingest.sparkplug import SparkplugHost
from simulators import Fleet
from simulators.sparkplug_publisher import SparkplugPublisher
from tests.conftest import Mosquitto
from tests.simulators.mqtt_helpers import raw_subscribed

START = 1_767_225_600.0


def publisher_for(plant: Plant, broker: Mosquitto, **kwargs: object) -> SparkplugPublisher:
    return SparkplugPublisher(
        plant,
        host="127.0.0.1",
        port=broker.port,
        client_id_prefix=f"sp-{uuid.uuid4().hex[:6]}",
        **kwargs,  # type: ignore[arg-type]
    )


def host_reads(
    plant: Plant, messages: list[tuple[str, bytes]]
) -> tuple[list[Reading], list[Reject]]:
    rejects: list[Reject] = []
    host = SparkplugHost(plant, rejects.append, host_id="test-host")
    readings: list[Reading] = []
    for topic, payload in messages:
        got, _ = host.handle(topic, payload, START)
        readings.extend(got)
    assert host.stats.sequence_gaps == 0
    return readings, rejects


def kinds(messages: list[tuple[str, bytes]]) -> list[MessageType]:
    return [Topic.parse(topic).message_type for topic, _ in messages]


async def test_the_host_reads_every_value_through_births_and_aliased_data(
    demo_plant: Plant, mosquitto: Mosquitto
) -> None:
    fleet = Fleet(demo_plant, seed=5)
    ticks = 20
    with raw_subscribed(mosquitto.port, ["spBv1.0/#"]) as sub:
        async with publisher_for(demo_plant, mosquitto, samples_per_message=3) as publisher:
            samples = []
            for k in range(ticks):
                batch = fleet.tick(START + 10 * k, 10.0)
                samples.extend(batch)
                await publisher.publish(batch)
        expected = ticks * sum(len(eq.signals) for eq in demo_plant)
        await sub.wait_until(lambda m: kinds(m).count(MessageType.NDEATH) == 2)
        messages = sub.snapshot()

    assert set(publisher.nodes) == {("demo", "treatment-line-1"), ("demo", "treatment-line-2")}
    assert kinds(messages).count(MessageType.NBIRTH) == 2
    assert kinds(messages).count(MessageType.DBIRTH) == len(demo_plant)
    readings, rejects = host_reads(demo_plant, messages)
    assert rejects == []
    good = [r for r in readings if r.quality is Quality.GOOD]
    stale = [r for r in readings if r.quality is Quality.BAD]
    assert len(good) == expected
    assert len(stale) == sum(len(eq.signals) for eq in demo_plant)  # the closing NDEATHs
    want = {
        (s.equipment_id, name, s.ts, round(v, 9)) for s in samples for name, v in s.values.items()
    }
    got = {(r.equipment_id, r.signal, r.ts, round(r.value, 9)) for r in good}
    assert got == want

    for topic, payload in messages:
        kind = Topic.parse(topic).message_type
        decoded = decode_payload(payload)
        if kind is MessageType.NBIRTH:
            assert decoded.seq == 0
            names = {m.name: m.value for m in decoded.metrics}
            assert names[BDSEQ] == 0
            assert names[REBIRTH] is False
        elif kind is MessageType.DBIRTH:
            assert all(
                m.name and m.alias and m.datatype == DataType.DOUBLE for m in decoded.metrics
            )
        elif kind is MessageType.DDATA:
            assert all(m.name is None and m.alias is not None for m in decoded.metrics)
            assert len(decoded.metrics) in (5, 3 * 5)  # the first sample went in the DBIRTH
        elif kind is MessageType.NDEATH:
            assert decoded.seq is None
            assert [(m.name, m.value) for m in decoded.metrics] == [(BDSEQ, 0)]
    per_node: dict[str, list[int]] = {}
    for topic, payload in messages:
        t = Topic.parse(topic)
        if t.message_type is not MessageType.NDEATH:
            per_node.setdefault(t.edge_node, []).append(decode_payload(payload).seq or 0)
    for seqs in per_node.values():
        assert seqs == [k % 256 for k in range(len(seqs))]


def rebirth_command() -> bytes:
    return encode_payload(
        Payload(timestamp=0, metrics=(Metric(REBIRTH, datatype=DataType.BOOLEAN, value=True),))
    )


async def test_a_rebirth_request_republishes_the_births_with_current_values(
    demo_plant: Plant, mosquitto: Mosquitto
) -> None:
    fleet = Fleet(demo_plant, seed=5)
    with raw_subscribed(mosquitto.port, ["spBv1.0/demo/+/treatment-line-1/#"]) as sub:
        async with publisher_for(demo_plant, mosquitto) as publisher:
            last = []
            for k in range(3):
                last = fleet.tick(START + k, 1.0)
                await publisher.publish(last)
            await publisher.flush()
            sub.publish("spBv1.0/demo/NCMD/treatment-line-1", rebirth_command())
            await sub.wait_until(lambda m: kinds(m).count(MessageType.NBIRTH) == 2)
            await sub.wait_until(lambda m: kinds(m).count(MessageType.DBIRTH) == 10)
            node = publisher.nodes[("demo", "treatment-line-1")]
            assert node.rebirth_requests == 1
            assert node.births == 2
        messages = sub.snapshot()
    rebirth = kinds(messages).index(MessageType.NBIRTH, 1)
    assert decode_payload(messages[rebirth][1]).seq == 0
    reborn = [decode_payload(p) for t, p in messages[rebirth + 1 : rebirth + 6]]
    assert [p.seq for p in reborn] == [1, 2, 3, 4, 5]
    p101 = next(s for s in last if s.equipment_id == "P-101")
    values = {m.name: m.value for m in reborn[0].metrics}
    assert values == dict(p101.values)
    _, rejects = host_reads(demo_plant, messages)
    assert rejects == []


async def test_a_lost_connection_announces_the_death_and_the_next_session_a_new_bdseq(
    demo_plant: Plant, mosquitto: Mosquitto
) -> None:
    fleet = Fleet(demo_plant, seed=5)
    with raw_subscribed(mosquitto.port, ["spBv1.0/demo/+/treatment-line-2/#"]) as sub:
        async with publisher_for(demo_plant, mosquitto) as publisher:
            await publisher.publish(fleet.tick(START, 1.0))
            await publisher.flush()
            node = publisher.nodes[("demo", "treatment-line-2")]
            connection = node.connection.client.socket()
            assert isinstance(connection, socket.socket)
            connection.shutdown(socket.SHUT_RDWR)
            await sub.wait_until(lambda m: MessageType.NDEATH in kinds(m))
            await sub.wait_until(lambda m: kinds(m).count(MessageType.NBIRTH) == 2)
            assert node.bdseq == 1
            await publisher.publish(fleet.tick(START + 1, 1.0))
            await publisher.flush()
            await sub.wait_until(lambda m: kinds(m).count(MessageType.DBIRTH) == 10)
        await sub.wait_until(lambda m: kinds(m).count(MessageType.NDEATH) == 2)
        messages = sub.snapshot()
    deaths = [
        decode_payload(p) for t, p in messages if Topic.parse(t).message_type is MessageType.NDEATH
    ]
    births = [
        decode_payload(p) for t, p in messages if Topic.parse(t).message_type is MessageType.NBIRTH
    ]
    bdseq = [next(m.value for m in d.metrics if m.name == BDSEQ) for d in deaths]
    assert bdseq == [0, 1]
    assert [next(m.value for m in b.metrics if m.name == BDSEQ) for b in births] == [0, 1]
    readings, rejects = host_reads(demo_plant, messages)
    assert rejects == []
    good = [r for r in readings if r.quality is Quality.GOOD]
    assert len({(r.equipment_id, r.signal, r.ts) for r in good}) == 2 * 5 * 5
    assert len(good) == 3 * 5 * 5  # the births of the new session repeat the last values
