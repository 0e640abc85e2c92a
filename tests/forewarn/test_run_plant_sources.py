"""`forewarn run` as an engineer runs it, with a plant file that reads one pump over OPC UA, one
over Sparkplug B and two over JSON (batched and value-per-topic), all at once: a private mosquitto,
an asyncua server, a private victoria-metrics as the historian. Readings of every source reach the
pipeline and the history; a limit crossing opens a work order; rejects are counted in /metrics and
readable with `forewarn dead-letters` while the service runs; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from asyncua import ua
from asyncua.server.server import Server
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from devices.sparkplug import BDSEQ, DataType, Metric, Payload, encode_payload
from tests.conftest import Mosquitto, free_port
from tests.forewarn.run_helpers import wait_until
from tests.ingest.ingest_servers import VictoriaMetrics

NAMESPACE = "urn:forewarn:it-plant"
HEALTHY = {
    "flow": 90.0,
    "vibration": 2.0,
    "bearing_temp": 60.0,
    "motor_current": 45.0,
    "discharge_pressure": 6.0,
}


class PumpServer:
    """An asyncua server with one pump: Objects/P-101/{signal}, node ids ns=N;s=P-101.{signal}."""

    def __init__(self, port: int) -> None:
        self.url = f"opc.tcp://127.0.0.1:{port}/forewarn-it"
        self.server = Server()
        self.variables: dict[str, Any] = {}

    async def start(self) -> None:
        await self.server.init()
        self.server.set_endpoint(self.url)
        ns = await self.server.register_namespace(NAMESPACE)
        pump = await self.server.nodes.objects.add_object(ns, "P-101")
        for name, value in HEALTHY.items():
            node_id = ua.NodeId(ua.String(f"P-101.{name}"), ua.Int16(ns))
            self.variables[name] = await pump.add_variable(
                node_id, ua.QualifiedName(name, ns), value
            )
        await self.server.start()

    async def write(self, name: str, value: float) -> None:
        await self.variables[name].write_value(value)
        await asyncio.sleep(0)


@pytest.fixture
async def pump_server() -> AsyncIterator[PumpServer]:
    server = PumpServer(free_port())
    await server.start()
    yield server
    await server.server.stop()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    (tmp_path / "vm").mkdir()
    server = VictoriaMetrics(tmp_path / "vm", free_port())
    server.start()
    yield server
    server.stop()


def plant_file(path: Path, site: str, opcua_url: str) -> None:
    path.write_text(
        f"""\
site: {{id: {site}}}
mqtt: {{topic: "{{site}}/{{area}}/{{line}}/{{equipment}}/telemetry"}}
opcua:
  servers:
    plc:
      url: {opcua_url}
      anonymous: true
      namespace: {NAMESPACE}
      node: "ns={{ns}};s={{equipment}}.{{signal}}"
      publishing_interval: 100ms
      sampling_interval: 50ms
areas:
  - id: treatment
    lines:
      - id: line-1
        equipment:
          - {{id: P-101, type: centrifugal_pump, team: mechanical, opcua: {{server: plc}}}}
          - {{id: P-102, type: centrifugal_pump, team: mechanical}}
          - {{id: P-103, type: centrifugal_pump, team: mechanical}}
          - {{id: P-104, type: centrifugal_pump, team: mechanical, mqtt: {{format: value}}}}
"""
    )


class Mqtt:
    def __init__(self, broker: Mosquitto) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"it-{uuid.uuid4().hex}")
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sparkplug(seq: int, metrics: list[Metric]) -> bytes:
    """A payload stamped now plus `seq` tens of milliseconds (an order the history can show)."""
    ts = int(time.time() * 1000) + 10 * seq
    return encode_payload(Payload(timestamp=ts, seq=seq, metrics=tuple(metrics)))


async def dead_letters(state: Path, *args: str) -> Any:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "forewarn",
        "dead-letters",
        "--state-dir",
        str(state),
        "--json",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return json.loads(out)


async def planner_token(settings: Path) -> str:
    """A planner token from `forewarn tokens create`, as an operator would make one."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "forewarn",
        "tokens",
        "create",
        "--name",
        "it",
        "--role",
        "planner",
        "--settings",
        str(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "FOREWARN_HISTORIAN__TOKEN": "it-token"},
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().split()[-1]


async def test_forewarn_run_with_opcua_sparkplug_and_json_at_once(
    private_mosquitto: Mosquitto, pump_server: PumpServer, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    mosquitto = private_mosquitto  # the host leaves its retained STATE behind
    site = f"it{uuid.uuid4().hex[:8]}"
    plant = tmp_path / "plant.yaml"
    plant_file(plant, site, pump_server.url)
    state = tmp_path / "state"
    port = free_port()
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"""\
database: sqlite:///{tmp_path / "orders.db"}
state_dir: {state}
mqtt: {{url: "{mosquitto.url}", client_id: fw-{site}}}
sparkplug: {{host_id: fw-{site}, reorder_timeout: 0.5}}
historian: {{url: "{victoria.url}", org: plant, bucket: telemetry}}
api: {{port: {port}}}
"""
    )
    log = (tmp_path / "forewarn.log").open("wb")
    service = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "forewarn",
        "run",
        "--config",
        str(plant),
        "--settings",
        str(settings),
        stdout=log,
        stderr=log,
        env={**os.environ, "FOREWARN_HISTORIAN__TOKEN": "it-token"},
    )
    mqtt = Mqtt(mosquitto)
    api = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:

        async def health() -> dict[str, Any] | None:
            if service.returncode is not None:
                raise AssertionError((tmp_path / "forewarn.log").read_text())
            try:
                response = await api.get("/api/v1/health")
            except httpx.TransportError:
                return None
            status: dict[str, Any] = response.json()
            sources = status["sources"]
            ready = sources["mqtt"]["connected"] and sources["opcua:plc"]["connected"]
            return status if ready else None

        await wait_until(health, "the service and both sources", 60)
        await asyncio.sleep(0.5)  # let the Sparkplug host's STATE birth go out after SUBACK

        base = f"{site}/treatment/line-1"
        now_ms = int(time.time() * 1000)
        for i in range(10):
            values = {**HEALTHY, "flow": 80.0 + i}
            if i == 9:
                values["vibration"] = 8.0  # past the alarm limit (7.1 mm/s)
            mqtt.publish(
                f"{base}/P-102/telemetry",
                json.dumps({"ts": now_ms - (10 - i) * 1000, "values": values}),
            )
        for i in range(3):
            mqtt.publish(f"{base}/P-104/flow", json.dumps({"ts": now_ms + i, "value": 70.0 + i}))

        node = f"spBv1.0/{site}/{{}}/treatment-line-1"
        mqtt.publish(
            node.format("NBIRTH"),
            sparkplug(0, [Metric(BDSEQ, datatype=DataType.INT64, value=0)]),
        )
        aliases = {name: 100 + i for i, name in enumerate(HEALTHY)}
        mqtt.publish(
            node.format("DBIRTH") + "/P-103",
            sparkplug(
                1,
                [
                    Metric(name, alias, datatype=DataType.DOUBLE, value=HEALTHY[name])
                    for name, alias in aliases.items()
                ],
            ),
        )
        for seq in range(2, 6):
            mqtt.publish(
                node.format("DDATA") + "/P-103",
                sparkplug(
                    seq,
                    [Metric(alias=aliases["flow"], datatype=DataType.DOUBLE, value=60.0 + seq)],
                ),
            )
        for value in (91.0, 92.0, 93.0):
            await pump_server.write("flow", value)
            await asyncio.sleep(0.2)

        # bad input, each of a different kind
        mqtt.publish(f"{base}/P-102/telemetry", b"\xffnot json")
        future = json.dumps({"ts": now_ms + 3_600_000, "values": {"flow": 1.0}})
        mqtt.publish(f"{base}/P-102/telemetry", future)
        mqtt.publish(f"{base}/P-999/telemetry", json.dumps({"values": {"flow": 1.0}}))
        mqtt.publish(node.format("DDATA") + "/P-103", b"\x80\x81garbage")

        json_readings = 10 * 5 + 3
        sparkplug_readings = 5 + 4
        opcua_readings = 5 + 3  # the values on subscribing, then the three writes

        async def all_processed() -> dict[str, Any] | None:
            status = await health()
            if status is None:
                return None
            sources = status["sources"]
            done = (
                sources["mqtt"]["readings"] >= json_readings + sparkplug_readings
                and sources["opcua:plc"]["readings"] >= opcua_readings
                and status["pipeline"]["readings"]
                == sources["mqtt"]["readings"] + sources["opcua:plc"]["readings"]
                and sum(sources["mqtt"]["rejected"].values()) >= 4
            )
            return status if done else None

        status = await wait_until(all_processed, "every reading and reject", 60)
        assert status["sources"]["mqtt"]["readings"] == json_readings + sparkplug_readings
        assert status["sources"]["mqtt"]["rejected"] == {
            "parse_error": 2,
            "timestamp_out_of_range": 1,
            "unknown_equipment": 1,
        }

        token = await planner_token(settings)
        orders = (
            await api.get("/api/v1/work-orders", headers={"Authorization": f"Bearer {token}"})
        ).json()
        assert [(o["equipment_id"], o["failure_mode_code"]) for o in orders] == [("P-102", "VIB")]

        response = await api.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain")
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }
        assert samples[("forewarn_ingest_connected", (("source", "opcua:plc"),))] == 1.0
        assert samples[("forewarn_ingest_readings_total", (("source", "opcua:plc"),))] >= 8
        key = (
            "forewarn_ingest_rejected_total",
            (("reason", "timestamp_out_of_range"), ("source", "mqtt")),
        )
        assert samples[key] == 1
        assert samples[("forewarn_ingest_merged_queue_batches", ())] >= 0

        async def kept() -> Any:
            letters = await dead_letters(state)
            return letters if len(letters) >= 4 else None

        letters = await wait_until(kept, "the dead letters on disk", 60)
        by_reason = {letter["reason"]: letter for letter in letters}
        assert by_reason["timestamp_out_of_range"]["topic"] == f"{base}/P-102/telemetry"
        assert "ahead of the receive time" in by_reason["timestamp_out_of_range"]["detail"]
        assert by_reason["unknown_equipment"]["topic"] == f"{base}/P-999/telemetry"
        [sparkplug_garbage] = await dead_letters(state, "--source", "mqtt", "--limit", "1")
        assert sparkplug_garbage["payload_hex"] == b"\x80\x81garbage".hex()

        async def history() -> bool:
            return (
                bool(victoria.export("findings_score", equipment="P-102"))
                and len(victoria.export("readings_value", equipment="P-101", signal="flow")) >= 4
            )

        await wait_until(history, "the history", seconds=30)
        metrics = (await api.get("/metrics")).text
        written = next(
            s.value
            for family in text_string_to_metric_families(metrics)
            for s in family.samples
            if s.name == "forewarn_historian_points_written_total"
        )
        assert written >= json_readings + sparkplug_readings + opcua_readings
        opcua_flow = [
            v for _, v in victoria.export("readings_value", equipment="P-101", signal="flow")
        ]
        assert opcua_flow[-3:] == [91.0, 92.0, 93.0]
        sparkplug_flow = victoria.export("readings_value", equipment="P-103", signal="flow")
        assert [v for _, v in sparkplug_flow] == [90.0, 62.0, 63.0, 64.0, 65.0]
        assert len(victoria.export("readings_value", equipment="P-102")) == 50
        assert [v for _, v in victoria.export("readings_value", equipment="P-104")] == [
            70.0,
            71.0,
            72.0,
        ]
    finally:
        mqtt.close()
        await api.aclose()
        if service.returncode is None:
            service.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(service.wait(), 60)
        log.close()
    assert code == 0, (tmp_path / "forewarn.log").read_text()
    totals = await dead_letters(state, "--counts")
    assert {(t["source"], t["reason"]): t["count"] for t in totals} == {
        ("mqtt", "parse_error"): 2,
        ("mqtt", "timestamp_out_of_range"): 1,
        ("mqtt", "unknown_equipment"): 1,
    }


def test_a_missing_opcua_password_is_named_before_anything_starts(tmp_path: Path) -> None:
    plant = tmp_path / "plant.yaml"
    plant_file(plant, "site", "opc.tcp://127.0.0.1:4840")
    plant.write_text(
        plant.read_text().replace(
            "anonymous: true", "username: operator\n      password_env: FW_TEST_NO_SUCH_PASSWORD"
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "forewarn", "run", "--config", str(plant), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "FW_TEST_NO_SUCH_PASSWORD"},
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "FW_TEST_NO_SUCH_PASSWORD" in result.stderr
    assert "operator" in result.stderr
