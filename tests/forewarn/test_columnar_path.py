"""The columnar path from a payload to the decision gives what the `Reading` path gives.

The same MQTT payloads of a simulated plant with developing faults (JSON batched and Sparkplug B
DDATA, hostile ones mixed in) through both: decoders building `Reading`s, `Validator.admit` and
`Engine.process`; and decoders appending to a `ColumnSink`, `Validator.admit_columns` and
`Engine.process_columns` on the sink's batch. Findings, rejects, counters and snapshots equal.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator

import pytest

from detectors import Engine
from devices import ColumnSink, Finding, Plant, Reading
from devices.sparkplug import BDSEQ, DataType, Metric, Payload, encode_payload
from forewarn import snapshots
from ingest import IntakeLimits, JsonDecoder, Reject, SparkplugHost, Validator
from simulators import Fleet
from simulators import faults as library
from simulators import sensor_faults as sensors
from simulators.fleet import FaultInjection, SensorFaultInjection

HOUR = 3600.0
PERIOD = 10.0
T0 = 1_764_000_000.0
SAMPLES_PER_MESSAGE = 3
MESSAGES_PER_READ = 7
"""Messages that arrive together, as in one network read: one batch for the engine."""
LIMITS = IntakeLimits(max_future=60.0, max_past=HOUR, out_of_order_tolerance=5.0)
Message = tuple[str, bytes, float]


def simulated(plant: Plant) -> list[Reading]:
    fleet = Fleet(
        plant,
        seed=5,
        faults=[
            FaultInjection("P-103", library.BearingWear(T0 + 0.5 * HOUR, 2 * HOUR)),
            SensorFaultInjection("P-204", sensors.StuckSensor("flow", T0 + HOUR, HOUR)),
            SensorFaultInjection("P-101", sensors.SensorDropout("vibration", T0 + HOUR, HOUR)),
        ],
    )
    readings: list[Reading] = []
    ts = T0
    while ts < T0 + 3 * HOUR:
        for sample in fleet.tick(ts, PERIOD):
            readings += sample.readings()
        ts += PERIOD
    return readings


def by_equipment(readings: list[Reading]) -> dict[str, list[list[Reading]]]:
    """Each equipment's samplings, oldest first."""
    samplings: dict[str, dict[float, list[Reading]]] = defaultdict(dict)
    for reading in readings:
        samplings[reading.equipment_id].setdefault(reading.ts, []).append(reading)
    return {eq: list(times.values()) for eq, times in samplings.items()}


def hostile(topic: str, ts: float) -> Iterator[Message]:
    """A wrong type, a value beyond a float, a timestamp an hour and a half old, one older
    than the signal's last by more than the tolerance, a NaN (which only the reference parser
    reads), and garbage."""
    received = ts + 1.0
    huge = b"1" + b"0" * 400
    yield topic, b'{"ts": %r, "values": {"flow": "high", "vibration": %s}}' % (ts, huge), received
    yield topic, b'{"ts": %r, "values": {"flow": 90.0}}' % (ts - 1.5 * HOUR), received
    yield topic, b'{"ts": %r, "values": {"flow": 90.0}}' % (ts - 60.0), received
    yield topic, b'{"ts": %r, "values": {"flow": NaN}}' % ts, received
    yield topic, b"{not json", received


def json_messages(plant: Plant, readings: list[Reading]) -> list[Message]:
    """Every equipment's samplings, `SAMPLES_PER_MESSAGE` to a `{"ts", "values"}` list, in time
    order across the plant, `hostile` ones mixed in."""
    messages: list[tuple[float, str, bytes]] = []
    for eq_id, samplings in by_equipment(readings).items():
        signals = plant.equipment[eq_id].signals
        topic = next(iter(signals.values())).topic
        for k in range(0, len(samplings), SAMPLES_PER_MESSAGE):
            group = samplings[k : k + SAMPLES_PER_MESSAGE]
            entries = [
                {"ts": s[0].ts, "values": {signals[r.signal].field: r.value for r in s}}
                for s in group
            ]
            messages.append((group[-1][0].ts, topic, json.dumps(entries).encode()))
    messages.sort(key=lambda m: m[0])
    out: list[Message] = []
    for n, (ts, topic, payload) in enumerate(messages):
        out.append((topic, payload, ts + 1.0))
        if n % 97 == 0:
            out += hostile(topic, ts)
    return out


def sparkplug_messages(plant: Plant, readings: list[Reading]) -> list[Message]:
    """Births, then each sampling of a device as DDATA by alias (NaN as a null metric)."""
    samplings = by_equipment(readings)
    aliases: dict[tuple[str, str], int] = {}
    seq: dict[str, int] = defaultdict(lambda: -1)
    out: list[Message] = []
    births: dict[str, list[str]] = defaultdict(list)
    for eq in plant:
        assert eq.sparkplug is not None
        births[eq.sparkplug.edge_node].append(eq.id)

    def payload(node: str, ts: float, metrics: tuple[Metric, ...]) -> bytes:
        seq[node] = (seq[node] + 1) % 256
        return encode_payload(Payload(timestamp=round(ts * 1000), seq=seq[node], metrics=metrics))

    group = next(iter(plant)).sparkplug
    assert group is not None
    for node, devices in births.items():
        birth = (Metric(BDSEQ, datatype=DataType.INT64, value=0),)
        out.append((f"spBv1.0/{group.group}/NBIRTH/{node}", payload(node, T0, birth), T0))
        for device in devices:
            metrics = []
            for signal in plant.equipment[device].signals.values():
                alias = aliases[device, signal.name] = len(aliases) + 1
                metrics.append(
                    Metric(signal.sparkplug_metric, alias, datatype=DataType.DOUBLE, value=0.0)
                )
            topic = f"spBv1.0/{group.group}/DBIRTH/{node}/{device}"
            out.append((topic, payload(node, T0 - 1, tuple(metrics)), T0))
    node_of = {device: node for node, devices in births.items() for device in devices}
    data = sorted(
        ((s[0].ts, device, s) for device, times in samplings.items() for s in times),
        key=lambda d: d[0],
    )
    for ts, device, sampling in data:
        metrics = tuple(
            Metric(
                alias=aliases[device, r.signal],
                datatype=DataType.DOUBLE,
                value=None if math.isnan(r.value) else r.value,
                is_null=math.isnan(r.value),
            )
            for r in sampling
        )
        node = node_of[device]
        out.append((f"spBv1.0/{group.group}/DDATA/{node}/{device}", payload(node, ts, metrics), ts))
    return out


def by_readings(
    plant: Plant, messages: list[Message]
) -> tuple[list[Finding], list[Reject], Engine]:
    rejects: list[Reject] = []
    decoder, host = JsonDecoder(plant, rejects.append), sparkplug_host(plant, rejects)
    validator, engine = Validator(LIMITS, rejects.append), Engine(plant)
    findings: list[Finding] = []
    for start in range(0, len(messages), MESSAGES_PER_READ):
        batch: list[Reading] = []
        for topic, payload, received in messages[start : start + MESSAGES_PER_READ]:
            if topic.startswith("spBv1.0/"):
                decoded = host.handle(topic, payload, received)[0]
            else:
                decoded = decoder.decode(topic, payload, received)
            batch += validator.admit(decoded, topic, payload, received)
        findings += engine.process(batch)
    return findings, rejects, engine


def by_columns(plant: Plant, messages: list[Message]) -> tuple[list[Finding], list[Reject], Engine]:
    rejects: list[Reject] = []
    decoder, host = JsonDecoder(plant, rejects.append), sparkplug_host(plant, rejects)
    validator, engine = Validator(LIMITS, rejects.append), Engine(plant)
    findings: list[Finding] = []
    sink = ColumnSink(plant.streams)
    for start in range(0, len(messages), MESSAGES_PER_READ):
        for topic, payload, received in messages[start : start + MESSAGES_PER_READ]:
            first = len(sink)
            if topic.startswith("spBv1.0/"):
                host.handle_into(sink, topic, payload, received)
            else:
                decoder.decode_into(sink, topic, payload, received)
            validator.admit_columns(sink, first, topic, payload, received)
        findings += engine.process_columns(sink.take())
    return findings, rejects, engine


def sparkplug_host(plant: Plant, rejects: list[Reject]) -> SparkplugHost:
    return SparkplugHost(plant, rejects.append, host_id="equivalence")


@pytest.mark.parametrize("kind", ["json", "sparkplug"])
def test_the_columnar_path_gives_the_engine_what_the_reading_path_gives(
    demo_plant: Plant, kind: str
) -> None:
    readings = simulated(demo_plant)
    build = json_messages if kind == "json" else sparkplug_messages
    messages = build(demo_plant, readings)
    expected, expected_rejects, reference = by_readings(demo_plant, messages)
    got, rejects, engine = by_columns(demo_plant, messages)
    assert got == expected
    assert {f.detector for f in got} >= {"limits", "flatline"}
    assert rejects == expected_rejects
    if kind == "json":
        reasons = {r.reason.value for r in rejects}
        assert reasons == {
            "wrong_type",
            "number_out_of_range",
            "timestamp_out_of_range",
            "out_of_order",
            "parse_error",
            "not_finite",
        }
    assert engine.stats == reference.stats
    assert engine.stats.readings > 0.9 * len(readings)
    assert snapshots.encode(engine.snapshot()) == snapshots.encode(reference.snapshot())
