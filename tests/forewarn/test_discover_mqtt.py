"""`forewarn discover mqtt`: what it infers from UNS JSON topics and Sparkplug B births (pure,
from messages), and, against a real broker with the simulators' publishers, a plant file that
loads as written and, run by the service, reads the same publishers' values."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import yaml
from typer.testing import CliRunner

from devices import Plant, SparkplugAddress, load_plant, plant_from_dict
from devices.discovery import plant_file
from devices.discovery_mqtt import from_mqtt
from devices.sparkplug import DataType, Metric, Payload, encode_payload
from forewarn.cli import app
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, IntakeSettings, MqttSettings, Settings, SparkplugSettings
from simulators import Fleet, MqttPublisher, SimClock, SparkplugPublisher
from simulators import run as run_simulation
from tests.conftest import Mosquitto

START = 1_767_225_600.0
runner = CliRunner()


def load(messages: list[tuple[str, bytes, float]]) -> tuple[Plant, str]:
    text = plant_file(from_mqtt(messages))
    return plant_from_dict(yaml.safe_load(text)), text


def test_values_topics_give_hierarchy_signals_and_sample_periods() -> None:
    messages = [
        (
            f"acme/utilities/cooling/{eq}/telemetry",
            json.dumps(
                {"ts": 1_700_000_000_000 + i * 5000, "values": {"Flow": 90.0, "vibration": 2}}
            ).encode(),
            float(i),
        )
        for i in range(6)
        for eq in ("P-1", "P-2")
    ]
    plant, text = load(messages)
    assert plant.site == "acme"
    assert {eq.path for eq in plant} == {"acme/utilities/cooling/P-1", "acme/utilities/cooling/P-2"}
    flow = plant.equipment["P-1"].signals["flow"]
    assert flow.sample_period == 5.0  # from the payloads' ts, not the arrival times
    assert flow.field == "Flow"  # the payload's key, under the library-style signal name
    assert flow.topic == "acme/utilities/cooling/P-1/telemetry"
    assert "topic" not in text  # the default template fits: no topic to configure


def test_one_value_per_topic_and_any_json_shape() -> None:
    messages = [
        (f"acme/a/l/M-1/{signal}", str(20.0 + i).encode(), 100.0 + 2 * i)
        for i in range(4)
        for signal in ("speed", "current")
    ] + [
        (
            "legacy/compressor7",
            json.dumps({"time": 1_700_000_000 + i, "data": {"p": [7.1, 7.3], "ok": True}}).encode(),
            200.0 + i,
        )
        for i in range(4)
    ]
    plant, _ = load(messages)
    motor = plant.equipment["M-1"]
    assert motor.signals["speed"].topic == "acme/a/l/M-1/speed"
    assert motor.signals["speed"].sample_period == 2.0  # arrival times: no timestamp in a number
    compressor = plant.equipment["compressor7"]
    assert {s.field for s in compressor.signals.values()} == {"data.p[0]", "data.p[1]"}
    assert plant.topic_format("legacy/compressor7").timestamp_path == ("time",)
    routes = plant.routes("legacy/compressor7")
    assert routes is not None
    assert set(routes) == {"data.p[0]", "data.p[1]"}


def test_sparkplug_births_name_metrics_and_data_without_birth_is_explained() -> None:
    birth = Payload(
        timestamp=1_700_000_000_000,
        seq=1,
        metrics=(
            Metric("Pump/Vibration", alias=1, datatype=DataType.DOUBLE, value=2.0),
            Metric("Running", alias=2, datatype=DataType.BOOLEAN, value=True),
            Metric("Device Control/Rebirth", datatype=DataType.BOOLEAN, value=False),
        ),
    )
    data = [
        Payload(
            timestamp=1_700_000_000_000 + 1000 * i,
            seq=2 + i,
            metrics=(Metric(alias=1, datatype=DataType.DOUBLE, value=2.1),),
        )
        for i in range(1, 4)
    ]
    messages = [("spBv1.0/Plant1/DBIRTH/Line1/Pump7", encode_payload(birth), 0.0)]
    messages += [("spBv1.0/Plant1/DDATA/Line1/Pump7", encode_payload(d), 1.0) for d in data]
    messages += [("spBv1.0/Plant1/DDATA/Line2/Fan3", encode_payload(data[0]), 1.0)]
    discovery = from_mqtt(messages)
    plant = plant_from_dict(yaml.safe_load(plant_file(discovery)))
    pump = plant.equipment["Pump7"]
    assert pump.sparkplug == SparkplugAddress("Plant1", "Line1", "Pump7")
    assert set(pump.signals) == {"pump_vibration"}  # booleans and controls left out
    assert pump.signals["pump_vibration"].sparkplug_metric == "Pump/Vibration"
    assert pump.signals["pump_vibration"].sample_period == 1.0
    notes = " ".join(discovery.notes)
    assert "no birth from Plant1/Line2/Fan3" in notes
    assert "sparkplug.host_id" in notes


def test_nothing_heard_says_so() -> None:
    discovery = from_mqtt([("x/y", b"\x00\x01", 0.0)])
    assert discovery.equipment == ()
    assert "heard no telemetry" in " ".join(discovery.notes)


def simulated(site: str, group: str) -> tuple[Plant, Plant]:
    json_plant = plant_from_dict(
        {
            "site": {"id": site},
            "areas": [
                {
                    "id": "pumping",
                    "lines": [
                        {
                            "id": "line-1",
                            "equipment": [{"id": "P-1", "type": "centrifugal_pump", "team": "m"}],
                        }
                    ],
                }
            ],
        }
    )
    sparkplug_plant = plant_from_dict(
        {
            "site": {"id": site},
            "sparkplug": {"group": group, "edge_node": "{line}", "device": "{equipment}"},
            "areas": [
                {
                    "id": "drives",
                    "lines": [
                        {
                            "id": "line-2",
                            "equipment": [{"id": "M-1", "type": "induction_motor", "team": "m"}],
                        }
                    ],
                }
            ],
        }
    )
    return json_plant, sparkplug_plant


async def publish(mosquitto: Mosquitto, json_plant: Plant, sparkplug_plant: Plant) -> int:
    """Both plants' simulated values for 20 simulated seconds; the number of values."""
    tag = uuid.uuid4().hex[:6]
    async with (
        MqttPublisher(json_plant, host="127.0.0.1", port=mosquitto.port, client_id=f"j{tag}") as js,
        SparkplugPublisher(
            sparkplug_plant, host="127.0.0.1", port=mosquitto.port, client_id_prefix=f"s{tag}"
        ) as sp,
    ):
        stats = await asyncio.gather(
            run_simulation(
                Fleet(json_plant, seed=1), SimClock(start=START, speed=10), js, until=START + 20
            ),
            run_simulation(
                Fleet(sparkplug_plant, seed=2),
                SimClock(start=START, speed=10),
                sp,
                until=START + 20,
            ),
        )
    signals = [sum(len(eq.signals) for eq in p) for p in (json_plant, sparkplug_plant)]
    return sum(s.samples * n for s, n in zip(stats, signals, strict=True))


async def test_discover_mqtt_then_run_the_discovered_plant(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    site, group = f"w{tag}", f"G{tag}"
    json_plant, sparkplug_plant = simulated(site, group)
    out = tmp_path / "plant.yaml"
    args = ["discover", "mqtt", mosquitto.url, "--seconds", "5", "-o", str(out)]
    args += ["--topic", f"{site}/#", "--topic", f"spBv1.0/{group}/#"]
    listening = asyncio.create_task(asyncio.to_thread(runner.invoke, app, args))
    await asyncio.sleep(1.5)  # subscribed before the edge node's births
    await publish(mosquitto, json_plant, sparkplug_plant)
    result = await listening
    assert result.exit_code == 0, result.output
    assert "found 2 equipment, 11 signals" in result.output
    discovered = load_plant(out)
    pump, motor = discovered.equipment["P-1"], discovered.equipment["M-1"]
    assert set(pump.signals) == set(json_plant.equipment["P-1"].signals)
    assert set(motor.signals) == set(sparkplug_plant.equipment["M-1"].signals)
    assert pump.signals["flow"].topic == f"{site}/pumping/line-1/P-1/telemetry"
    assert motor.sparkplug == SparkplugAddress(group, "line-2", "M-1")
    assert {s.sample_period for eq in discovered for s in eq.signals.values()} == {1.0}
    assert "type: unclassified  # type guess: centrifugal_pump" in out.read_text()

    settings = Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"discovered-{tag}"),
        sparkplug=SparkplugSettings(host_id=f"fw-{tag}"),
        intake=IntakeSettings(timestamp_window=False),  # simulated time
        api=ApiSettings(port=0),
    )
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    service = asyncio.create_task(
        serve(discovered, settings, stop=stop, on_started=started.set_result)
    )
    running = await asyncio.wait_for(started, 30)
    source = running.intake.sources["mqtt"]
    async with asyncio.timeout(30):
        while not source.stats.connected:
            await asyncio.sleep(0.05)
    values = await publish(mosquitto, json_plant, sparkplug_plant)
    async with asyncio.timeout(30):
        while running.pipeline.stats.readings < values:
            await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(service, 60)
    assert source.stats.dead_letters.total == 0
