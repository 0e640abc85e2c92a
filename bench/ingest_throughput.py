"""Ingest throughput through a real mosquitto, next to what `mosquitto_sub` achieves on the same
broker in the same run.

    python bench/ingest_throughput.py [--scale 1.0] [--rounds 3] [--json results.json]
    python bench/ingest_throughput.py --payload json_batched --rounds 5   # one payload kind

A private mosquitto (forewarn's deployment settings) is started on a free port. For each payload
kind (JSON one value per message, JSON batched, Sparkplug B DDATA), the messages are published at
QoS 1 into two persistent sessions that are offline: forewarn's `MqttSource` (QoS 1, manual ack,
real-plant intake limits) and `mosquitto_sub -c -q 1`. Each then reconnects and drains its session;
the time to the last reading (forewarn) or the last message (mosquitto_sub, output to /dev/null) is
the measure. Both read the same queued messages from the same broker, so the ratio says how much of
the broker's delivery rate forewarn turns into validated readings. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import math
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant, plant_from_dict
from devices.sparkplug import BDSEQ, DataType, Metric, Payload, encode_payload
from ingest import BrokerAddress, IntakeLimits, MqttSource

SIGNALS = ("vibration", "bearing_temp", "motor_current", "discharge_pressure", "flow")
HEALTHY = (2.0, 60.0, 45.0, 6.0, 90.0)
BATCH_SAMPLES = 10
"""Samples per JSON batched message (each with every signal of one pump)."""

Message = tuple[str, bytes]
DEMO_PLANT = resources.files("forewarn").joinpath("demo/plant.yaml")


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Mosquitto:
    """A private mosquitto on a free port with forewarn's deployment settings."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            sys.exit("mosquitto is not installed: apt-get install mosquitto mosquitto-clients")
        conf = resources.files("forewarn").joinpath("deploy/mosquitto.conf").read_text()
        conf = conf.replace("listener 1883", f"listener {self.port} 127.0.0.1")
        conf = conf.replace("/mosquitto/data/", f"{workdir}/")
        conf += f"\nuser {getpass.getuser()}\n"
        (workdir / "mosquitto.conf").write_text(conf)
        self._log = (workdir / "mosquitto.log").open("wb")
        self.process = subprocess.Popen(
            [binary, "-c", str(workdir / "mosquitto.conf")], stdout=self._log, stderr=self._log
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._log.close()


@dataclass(frozen=True)
class Workload:
    name: str
    plant: Plant
    messages: list[Message]
    readings: int
    filters: list[str]
    """What mosquitto_sub subscribes to (the same data topics forewarn reads)."""
    sparkplug: bool = False


@dataclass
class Result:
    workload: str
    messages: int
    readings: int
    readings_per_message: float
    forewarn_seconds: float
    mosquitto_sub_seconds: float
    paho_seconds: float

    @property
    def forewarn_readings_per_s(self) -> float:
        return self.readings / self.forewarn_seconds

    @property
    def mosquitto_sub_messages_per_s(self) -> float:
        return self.messages / self.mosquitto_sub_seconds

    @property
    def paho_messages_per_s(self) -> float:
        return self.messages / self.paho_seconds

    @property
    def ratio(self) -> float:
        return self.mosquitto_sub_seconds / self.forewarn_seconds


ALARM_VIBRATION = 9.0
"""Past the pump type's 7.1 mm/s alarm limit."""
NOISY = [
    {
        s: round(v * (1.0 + random.gauss(0.0, 0.01)), 3)
        for s, v in zip(SIGNALS, HEALTHY, strict=True)
    }
    for _ in range(97)
]
"""Healthy samples to draw from: a publisher must keep up with forewarn on this machine."""


def pump_plant_file(path: Path, pumps: int) -> list[str]:
    """Write a plant file of `pumps` pumps (the demo's pump type, its two lines and teams) to
    `path`, on a site of its own; the pumps' telemetry topics."""
    spec = yaml.safe_load(DEMO_PLANT.read_text())
    spec["site"]["id"] = site = f"pumps{uuid.uuid4().hex[:6]}"
    lines = spec["areas"][0]["lines"]
    topics = []
    for k, line in enumerate(lines):
        team = line["equipment"][0]["team"]
        ids = [f"P-{k}{i:04d}" for i in range(k, pumps, len(lines))]
        line["equipment"] = [{"id": i, "type": "centrifugal_pump", "team": team} for i in ids]
        area = spec["areas"][0]["id"]
        topics += [f"{site}/{area}/{line['id']}/{i}/telemetry" for i in ids]
    path.write_text(yaml.safe_dump(spec))
    return topics


def batched_samples(end_ms: int, alarm: bool = False) -> bytes:
    """A pump's batched JSON message: `BATCH_SAMPLES` healthy samples of its 5 signals a second
    apart, the last at `end_ms`; with `alarm`, every vibration past its alarm limit."""
    entries = []
    for k in range(BATCH_SAMPLES):
        values = NOISY[(end_ms // 1000 + k) % len(NOISY)]
        if alarm:
            values = {**values, "vibration": ALARM_VIBRATION}
        entries.append({"ts": end_ms - (BATCH_SAMPLES - 1 - k) * 1000, "values": values})
    return json.dumps(entries, separators=(",", ":")).encode()


def plant(site: str, value_per_topic: bool = False) -> Plant:
    spec = yaml.safe_load(DEMO_PLANT.read_text())
    spec["site"]["id"] = site
    if value_per_topic:
        spec["mqtt"] = {"format": "value"}
    return plant_from_dict(spec)


def json_single(count: int, start_ms: int) -> Workload:
    site = f"bench{uuid.uuid4().hex[:6]}"
    p = plant(site, value_per_topic=True)
    topics = [eq.signals[s].topic for eq in p for s in SIGNALS]
    messages = []
    for i in range(count):
        topic = topics[i % len(topics)]
        ts = start_ms + (i // len(topics)) * 1000
        value = 50.0 + (i % 97) * 0.1
        messages.append((topic, b'{"ts":%d,"value":%.2f}' % (ts, value)))
    return Workload("JSON, one value per message", p, messages, count, [f"{site}/#"])


def json_batched(count: int, start_ms: int) -> Workload:
    site = f"bench{uuid.uuid4().hex[:6]}"
    p = plant(site)
    equipment = list(p)
    messages = []
    for i in range(count):
        eq = equipment[i % len(equipment)]
        first = start_ms + (i // len(equipment)) * BATCH_SAMPLES * 1000
        entries = [
            {
                "ts": first + k * 1000,
                "values": {s: v + (i % 13) * 0.01 for s, v in zip(SIGNALS, HEALTHY, strict=True)},
            }
            for k in range(BATCH_SAMPLES)
        ]
        topic = f"{site}/{eq.area}/{eq.line}/{eq.id}/telemetry"
        messages.append((topic, json.dumps(entries, separators=(",", ":")).encode()))
    readings = count * BATCH_SAMPLES * len(SIGNALS)
    return Workload(
        f"JSON batched ({BATCH_SAMPLES} samples x {len(SIGNALS)} signals)",
        p,
        messages,
        readings,
        [f"{site}/#"],
    )


def sparkplug(count: int, start_ms: int) -> Workload:
    """Births first, then DDATA by alias, every signal of one pump per message."""
    site = f"bench{uuid.uuid4().hex[:6]}"
    p = plant(site)
    by_node: dict[str, list[str]] = {}
    for eq in p:
        assert eq.sparkplug is not None
        by_node.setdefault(eq.sparkplug.edge_node, []).append(eq.id)

    def alias(device: str, signal: str) -> int:
        """Unique across an edge node and its devices, as the specification asks."""
        return 1 + 100 * int(device.split("-")[1]) + SIGNALS.index(signal)

    messages: list[Message] = []
    seq: dict[str, int] = {}

    def next_seq(node: str) -> int:
        seq[node] = (seq.get(node, -1) + 1) % 256
        return seq[node]

    readings = 0
    for node, devices in by_node.items():
        birth = Payload(
            timestamp=start_ms,
            seq=next_seq(node),
            metrics=(Metric(BDSEQ, datatype=DataType.INT64, value=0),),
        )
        messages.append((f"spBv1.0/{site}/NBIRTH/{node}", encode_payload(birth)))
        for device in devices:
            dbirth = Payload(
                timestamp=start_ms,
                seq=next_seq(node),
                metrics=tuple(
                    Metric(s, alias(device, s), datatype=DataType.DOUBLE, value=v)
                    for s, v in zip(SIGNALS, HEALTHY, strict=True)
                ),
            )
            messages.append((f"spBv1.0/{site}/DBIRTH/{node}/{device}", encode_payload(dbirth)))
            readings += len(SIGNALS)
    targets = [(node, device) for node, devices in by_node.items() for device in devices]
    for i in range(count - len(messages)):
        node, device = targets[i % len(targets)]
        ts = start_ms + 1000 + (i // len(targets)) * 1000
        data = Payload(
            timestamp=ts,
            seq=next_seq(node),
            metrics=tuple(
                Metric(alias=alias(device, s), datatype=DataType.DOUBLE, value=v + (i % 7) * 0.01)
                for s, v in zip(SIGNALS, HEALTHY, strict=True)
            ),
        )
        messages.append((f"spBv1.0/{site}/DDATA/{node}/{device}", encode_payload(data)))
        readings += len(SIGNALS)
    return Workload(
        f"Sparkplug B DDATA ({len(SIGNALS)} metrics by alias)",
        p,
        messages,
        readings,
        [f"spBv1.0/{site}/#"],
        sparkplug=True,
    )


def publish(broker: Mosquitto, messages: list[Message]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for start in range(0, len(messages), 20_000):  # message ids wrap at 65535
            chunk = messages[start : start + 20_000]
            infos = [client.publish(topic, payload, qos=1) for topic, payload in chunk]
            for info in infos:
                info.wait_for_publish(60)
    finally:
        client.loop_stop()
        client.disconnect()


def forewarn_source(workload: Workload, broker: Mosquitto, client_id: str) -> MqttSource:
    return MqttSource(
        workload.plant,
        BrokerAddress("127.0.0.1", broker.port),
        client_id=client_id,
        limits=IntakeLimits(),
        json_topics=not workload.sparkplug,
        sparkplug_host_id=f"{client_id}-host" if workload.sparkplug else None,
    )


async def forewarn_session(workload: Workload, broker: Mosquitto, client_id: str) -> None:
    async with forewarn_source(workload, broker, client_id) as source:
        await asyncio.wait_for(source.connected(), 30)


async def forewarn_drain(workload: Workload, broker: Mosquitto, client_id: str) -> float:
    started = time.perf_counter()
    got = 0
    async with forewarn_source(workload, broker, client_id) as source:
        async with asyncio.timeout(600):
            async for batch in source.batches():
                got += len(batch)
                if got >= workload.readings or source.stats.dead_letters.total:
                    break
        elapsed = time.perf_counter() - started
        rejected = source.stats.dead_letters.counts
    if got != workload.readings or rejected:
        raise RuntimeError(f"{workload.name}: {got} of {workload.readings} readings, {rejected}")
    return elapsed


def paho_alone(broker: Mosquitto, client_id: str, filters: list[str], count: int | None) -> float:
    """The Python MQTT client by itself (QoS 1, persistent session, counting messages): the
    ceiling of any paho-based consumer on this machine."""
    received = 0
    done = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)

    def on_connect(c: paho.Client, u: object, f: object, rc: object, p: object) -> None:
        c.subscribe([(topic, 1) for topic in filters])

    def on_subscribe(c: paho.Client, u: object, mid: int, rc: object, p: object) -> None:
        if count is None:
            done.set()

    def on_message(c: paho.Client, u: object, message: paho.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if count is not None and received >= count:
            done.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    started = time.perf_counter()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        if not done.wait(600):
            raise RuntimeError(f"paho received {received} of {count} messages")
        return time.perf_counter() - started
    finally:
        client.disconnect()
        client.loop_stop()


def mosquitto_sub(
    broker: Mosquitto, client_id: str, filters: list[str], count: int | None
) -> float:
    binary = shutil.which("mosquitto_sub")
    if binary is None:
        sys.exit("mosquitto_sub is not installed: apt-get install mosquitto-clients")
    args = [binary, "-h", "127.0.0.1", "-p", str(broker.port), "-c", "-i", client_id, "-q", "1"]
    for topic in filters:
        args += ["-t", topic]
    args += ["-E"] if count is None else ["-C", str(count), "-W", "600"]
    started = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


async def measure(broker: Mosquitto, workload: Workload) -> Result:
    forewarn_id = f"bench-fw-{uuid.uuid4().hex[:8]}"
    sub_id = f"bench-sub-{uuid.uuid4().hex[:8]}"
    paho_id = f"bench-paho-{uuid.uuid4().hex[:8]}"
    count = len(workload.messages)
    await forewarn_session(workload, broker, forewarn_id)
    mosquitto_sub(broker, sub_id, workload.filters, None)
    paho_alone(broker, paho_id, workload.filters, None)
    await asyncio.to_thread(publish, broker, workload.messages)
    sub_seconds = mosquitto_sub(broker, sub_id, workload.filters, count)
    paho_seconds = await asyncio.to_thread(paho_alone, broker, paho_id, workload.filters, count)
    forewarn_seconds = await forewarn_drain(workload, broker, forewarn_id)
    return Result(
        workload.name,
        count,
        workload.readings,
        workload.readings / count,
        forewarn_seconds,
        sub_seconds,
        paho_seconds,
    )


Builder = Callable[[int, int], Workload]
WORKLOADS: list[tuple[Builder, int]] = [
    (json_single, 200_000),
    (json_batched, 20_000),
    (sparkplug, 100_000),
]


def table(results: list[Result]) -> str:
    rows = [
        "| payload | messages | readings | forewarn readings/s (messages/s) | mosquitto_sub "
        "messages/s (as readings/s) | forewarn / mosquitto_sub | paho alone messages/s | "
        "forewarn / paho |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        sub_readings = r.mosquitto_sub_messages_per_s * r.readings_per_message
        fw_messages = r.messages / r.forewarn_seconds
        rows.append(
            f"| {r.workload} | {r.messages:,} | {r.readings:,} | "
            f"{r.forewarn_readings_per_s:,.0f} ({fw_messages:,.0f}) | "
            f"{r.mosquitto_sub_messages_per_s:,.0f} ({sub_readings:,.0f}) | {r.ratio:.2f} | "
            f"{r.paho_messages_per_s:,.0f} | {fw_messages / r.paho_messages_per_s:.2f} |"
        )
    return "\n".join(rows)


def median_result(rounds: list[Result]) -> Result:
    """Median times over the rounds."""
    first = rounds[0]
    return Result(
        first.workload,
        first.messages,
        first.readings,
        first.readings_per_message,
        statistics.median(r.forewarn_seconds for r in rounds),
        statistics.median(r.mosquitto_sub_seconds for r in rounds),
        statistics.median(r.paho_seconds for r in rounds),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the message counts")
    parser.add_argument("--rounds", type=int, default=3, help="runs per payload; median reported")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--payload",
        choices=[build.__name__ for build, _ in WORKLOADS],
        action="append",
        help="only this payload kind (repeatable; default: all)",
    )
    options = parser.parse_args()
    start_ms = int((time.time() - 12 * 3600) * 1000)  # inside the real-plant timestamp window
    with tempfile.TemporaryDirectory(prefix="forewarn-bench-") as workdir:
        broker = Mosquitto(Path(workdir))
        try:
            results = []
            for build, count in WORKLOADS:
                if options.payload and build.__name__ not in options.payload:
                    continue
                rounds = []
                for _ in range(options.rounds):
                    workload = build(max(100, math.ceil(count * options.scale)), start_ms)
                    rounds.append(await measure(broker, workload))
                    print(f"  {workload.name}: {rounds[-1]}", file=sys.stderr)
                results.append(median_result(rounds))
        finally:
            broker.stop()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load} at the end"
    )
    print(table(results))
    if options.json is not None:
        options.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    asyncio.run(main())
