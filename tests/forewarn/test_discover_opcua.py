"""`forewarn discover opcua` against the simulators' OPC UA server: the plant file it writes has
the server's hierarchy, signals, units and ranges, loads as it is, and, run by the service, reads
every value the server publishes."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from devices import Plant, load_plant, plant_from_dict
from devices.discovery import BrowsedVariable, from_opcua, plant_file
from forewarn.cli import app
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, IntakeSettings, MqttSettings, Settings
from ingest import write_self_signed
from simulators import Fleet, OpcUaServer, SimClock
from simulators import run as run_simulation
from tests.conftest import Mosquitto, free_port

START = 1_767_225_600.0
runner = CliRunner()


def simulated() -> Plant:
    """What the server exposes: a pump and a fan on one line of site `works` (served over MQTT
    by default; the simulator only needs the equipment)."""
    equipment = [
        {"id": "P-1", "type": "centrifugal_pump", "team": "m"},
        {"id": "F-1", "type": "fan", "team": "m"},
    ]
    return plant_from_dict(
        {
            "site": {"id": "works"},
            "areas": [{"id": "pumping", "lines": [{"id": "line-1", "equipment": equipment}]}],
        }
    )


async def discover(server: OpcUaServer, out: Path) -> tuple[int, str]:
    args = ["discover", "opcua", server.endpoint, "-o", str(out), "--name", "sim", "--team", "ops"]
    result = await asyncio.to_thread(runner.invoke, app, args)
    return result.exit_code, result.output


async def test_discovered_opcua_plant_maps_hierarchy_units_ranges_and_nodes(
    tmp_path: Path,
) -> None:
    source = simulated()
    server = OpcUaServer(source, port=free_port())
    out = tmp_path / "plant.yaml"
    async with server:
        code, output = await discover(server, out)
    assert code == 0, output
    assert "found 2 equipment, 11 signals" in output
    text = out.read_text()
    plant = load_plant(out)
    assert {eq.id for eq in plant} == {"P-1", "F-1"}
    pump = plant.equipment["P-1"]
    assert pump.path == "works/pumping/line-1/P-1"
    assert pump.team == "ops"
    assert pump.type == "unclassified"  # never applied silently ...
    assert (
        "type: unclassified  # type guess: centrifugal_pump (matching: " in text
    )  # ... only offered
    assert "type: unclassified  # type guess: fan (matching: " in text
    assert set(pump.signals) == set(source.equipment["P-1"].signals)
    vibration = pump.signals["vibration"]
    assert vibration.unit == "mm/s"
    assert vibration.physical_range == (0.0, 10.65)  # the simulator's EURange: 1.5 x alarm
    assert vibration.opcua is not None
    assert vibration.opcua.node_id == "ns={ns};s=P-1.vibration"
    server_spec = plant.opcua_servers["sim"]
    assert server_spec.url == server.endpoint
    assert server_spec.anonymous
    assert server_spec.namespace == "urn:forewarn:simulator:works"
    assert (
        yaml.safe_load(text)["opcua"]["servers"]["sim"]["node"] == "ns={ns};s={equipment}.{signal}"
    )


async def test_the_discovered_opcua_plant_runs_and_reads_every_value(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    source = simulated()
    server = OpcUaServer(source, port=free_port(), initial_time=START)
    out = tmp_path / "plant.yaml"
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=mosquitto.url, client_id=f"discover-{uuid.uuid4().hex[:8]}"),
        intake=IntakeSettings(timestamp_window=False),  # simulated time
        api=ApiSettings(port=0),
    )
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    async with server:
        code, output = await discover(server, out)
        assert code == 0, output
        discovered = load_plant(out)
        service = asyncio.create_task(
            serve(discovered, settings, stop=stop, on_started=started.set_result)
        )
        running = await asyncio.wait_for(started, 30)
        opcua = running.intake.sources["opcua:sim"]
        async with asyncio.timeout(30):
            while not opcua.stats.connected:
                await asyncio.sleep(0.05)
        # Real time: the discovered file samples each node at its 1 s default sample period.
        await run_simulation(
            Fleet(source, seed=3), SimClock(start=START, speed=1), server, until=START + 6
        )
        async with asyncio.timeout(30):
            while running.pipeline.stats.readings < server.writes // 2:
                await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(service, 60)
    assert server.writes >= 11 * 5
    assert opcua.stats.dead_letters.total == 0
    assert opcua.stats.gaps == 0


def test_an_unreachable_server_or_incomplete_security_says_what_to_fix() -> None:
    url = f"opc.tcp://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["discover", "opcua", url])
    assert result.exit_code == 2
    assert f"error: cannot connect to {url}" in result.output
    result = runner.invoke(app, ["discover", "opcua", url, "--security-policy", "Basic256Sha256"])
    assert result.exit_code == 2
    assert "needs 'certificate' and 'private_key'" in " ".join(result.output.split())


def test_repeated_object_names_and_odd_node_ids_still_give_a_plant_that_loads() -> None:
    def variable(path: str, node: str, unit: str = "") -> BrowsedVariable:
        return BrowsedVariable(tuple(path.split("/")), node, 3, unit=unit)

    found = [
        variable("Plant/Hall1/Line1/Pump1/Motor/Current", "ns=3;i=1001", "A"),
        variable("Plant/Hall1/Line1/Pump2/Motor/Current", "ns=3;i=1002", "A"),
        variable("Plant/Hall1/Line1/Pump2/Motor/Winding Temp", "ns=3;i=1003", "degC"),
        variable("Tank/Level", "ns=3;s=Tank.Level"),
    ]
    discovery = from_opcua(
        found,
        server="plc",
        connection={"url": "opc.tcp://plc:4840", "anonymous": True},
        namespaces=["http://opcfoundation.org/UA/", "urn:a", "urn:b", "urn:vendor:plc"],
    )
    plant = plant_from_dict(yaml.safe_load(plant_file(discovery)))
    assert set(plant.equipment) == {"Motor", "Pump2-Motor", "Tank"}
    assert plant.equipment["Motor"].line == "Pump1"
    winding = plant.equipment["Pump2-Motor"].signals["winding_temp"]
    assert (winding.unit, winding.opcua and winding.opcua.node_id) == ("degC", "ns={ns};i=1003")
    assert plant.opcua_servers["plc"].namespace == "urn:vendor:plc"


async def test_discovery_over_a_secured_endpoint_writes_its_security_not_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_self_signed(
        tmp_path / "server.der",
        tmp_path / "server.pem",
        application_uri="urn:forewarn:test-server",
        hostname="127.0.0.1",
        server=True,
    )
    write_self_signed(tmp_path / "client.der", tmp_path / "client.pem")
    server = OpcUaServer(
        simulated(),
        port=free_port(),
        certificate=tmp_path / "server.der",
        private_key=tmp_path / "server.pem",
        users={"operator": "s3cret"},
    )
    monkeypatch.setenv("FW_DISCOVER_PASSWORD", "s3cret")
    out = tmp_path / "plants" / "plant.yaml"
    out.parent.mkdir()
    args = ["discover", "opcua", server.endpoint, "-o", str(out), "--security-policy"]
    args += ["Basic256Sha256", "--certificate", str(tmp_path / "client.der"), "--private-key"]
    args += [str(tmp_path / "client.pem"), "--username", "operator"]
    args += ["--password-env", "FW_DISCOVER_PASSWORD"]
    async with server:
        result = await asyncio.to_thread(runner.invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "found 2 equipment, 11 signals" in result.output
    spec = load_plant(out).opcua_servers["plc"]
    assert (spec.security_policy, spec.security_mode) == ("Basic256Sha256", "SignAndEncrypt")
    assert spec.certificate == str(tmp_path / "client.der")  # absolute: the file is elsewhere
    assert (spec.username, spec.password_env, spec.anonymous) == (
        "operator",
        "FW_DISCOVER_PASSWORD",
        False,
    )
    assert "s3cret" not in out.read_text()
