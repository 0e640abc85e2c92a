"""The simulators' OPC UA server, read by forewarn's own OPC UA source and a plain asyncua client:
the ISA-95 tree, node ids and browse paths, simulated source timestamps, dropouts as bad status,
a restart, and a secured endpoint with certificates and a password."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from asyncua.client.client import Client
from asyncua.ua.status_codes import StatusCodes

from devices import Plant, Quality, Reading, plant_from_dict
from ingest import OpcUaSource, write_self_signed
from simulators import Fleet, SensorDropout, SensorFaultInjection
from simulators.opcua_server import BROWSE_PATH_TEMPLATE, NODE_ID_TEMPLATE, OpcUaServer
from tests.conftest import free_port

START = 1_767_225_600.0
PUMPS = ("P-1", "P-2")


def plant(url: str = "opc.tcp://127.0.0.1:4840/forewarn/simulator", **server: Any) -> Plant:
    """Two pumps read from the simulator's OPC UA server (anonymous, by node id)."""
    spec = {
        "url": url,
        "anonymous": True,
        "namespace": "urn:forewarn:simulator:works",
        "node": NODE_ID_TEMPLATE,
        "sampling_interval": "50ms",
        "queue_size": 100,
        **server,
    }
    return plant_from_dict(
        {
            "site": {"id": "works"},
            "opcua": {"servers": {"sim": spec}},
            "areas": [
                {
                    "id": "pumping",
                    "lines": [
                        {
                            "id": "line-1",
                            "equipment": [
                                {
                                    "id": pump,
                                    "type": "centrifugal_pump",
                                    "team": "m",
                                    "opcua": {"server": "sim"},
                                }
                                for pump in PUMPS
                            ],
                        }
                    ],
                }
            ],
        }
    )


async def collect(source: OpcUaSource, done: Any, seconds: float = 30) -> list[Reading]:
    readings: list[Reading] = []
    async with asyncio.timeout(seconds):
        async for batch in source.batches():
            readings += batch
            if done(readings):
                return readings
    return readings


def _good(readings: list[Reading]) -> set[tuple[str, str, float, float]]:
    return {
        (r.equipment_id, r.signal, r.ts, r.value) for r in readings if r.quality is Quality.GOOD
    }


async def test_the_source_reads_every_sample_with_its_simulated_time() -> None:
    port = free_port()
    server = OpcUaServer(plant(), port=port, initial_time=START - 10)
    machines = plant(server.endpoint)
    fleet = Fleet(machines, seed=3)
    async with server:
        assert server.endpoint == f"opc.tcp://127.0.0.1:{port}/forewarn/simulator"
        source = OpcUaSource(machines, "sim")
        async with source:
            async with asyncio.timeout(20):
                await source.connected()
            await collect(source, lambda r: len(r) >= 10)  # the initial (waiting) values
            samples = []
            for k in range(5):
                batch = fleet.tick(START + 10 * k, 10.0)
                samples += batch
                await server.publish(batch)
                await asyncio.sleep(0.2)
            want = {
                (s.equipment_id, name, s.ts, v) for s in samples for name, v in s.values.items()
            }
            readings = await collect(source, lambda r: len(_good(r) & want) == len(want))
    assert _good(readings) == want
    assert server.writes == 5 * 2 * 5


async def test_the_tree_node_ids_browse_paths_dropouts_and_a_restart() -> None:
    port = free_port()
    machines = plant()
    dropout = SensorDropout(signal="flow", onset=START + 1, duration=1)
    fleet = Fleet(machines, seed=3, faults=[SensorFaultInjection("P-2", dropout)])
    server = OpcUaServer(machines, port=port, initial_time=START - 1)
    for attempt in range(2):
        async with server:
            ns = server.namespace_index
            assert server.node_id("P-2", "flow") == f"ns={ns};s=P-2.flow"
            path = server.browse_path("P-2", "flow")
            assert path == BROWSE_PATH_TEMPLATE.format(
                ns=ns, site="works", area="pumping", line="line-1", equipment="P-2", signal="flow"
            )
            for k in range(2):
                await server.publish(fleet.tick(START + k + 2 * attempt, 1.0))
            async with Client(server.endpoint) as client:
                assert await client.get_namespace_index(server.namespace) == ns
                objects = client.nodes.objects
                site = await objects.get_child(f"{ns}:works")
                line = await site.get_child([f"{ns}:pumping", f"{ns}:line-1"])
                names = sorted(
                    [(await c.read_browse_name()).Name for c in await line.get_children()]
                )
                assert names == list(PUMPS)
                flow = await objects.get_child(path.removeprefix("0:Objects/").split("/"))
                value = await flow.read_data_value(raise_on_bad_status=False)
                vibration = client.get_node(server.node_id("P-2", "vibration"))
                good = await vibration.read_data_value()
                unit = await (await vibration.get_child(f"{ns}:EngineeringUnits")).read_value()
        assert value.SourceTimestamp is not None
        assert value.StatusCode is not None
        if attempt == 0:
            assert value.StatusCode.value == StatusCodes.BadNoCommunication
        else:
            assert value.StatusCode.is_good()
        assert good.StatusCode is not None
        assert good.StatusCode.is_good()
        assert good.SourceTimestamp is not None
        assert good.SourceTimestamp.timestamp() == START + 1 + 2 * attempt
        assert unit.DisplayName.Text == "mm/s"


async def test_a_secured_endpoint_with_certificates_and_a_password(tmp_path: Path) -> None:
    write_self_signed(
        tmp_path / "server.der",
        tmp_path / "server.pem",
        application_uri="urn:forewarn:simulator",
        hostname="localhost",
        server=True,
    )
    write_self_signed(tmp_path / "client.der", tmp_path / "client.pem", hostname="localhost")
    port = free_port()
    secured = {
        "anonymous": False,
        "username": "operator",
        "security_policy": "Basic256Sha256",
        "security_mode": "SignAndEncrypt",
        "certificate": str(tmp_path / "client.der"),
        "private_key": str(tmp_path / "client.pem"),
    }
    server = OpcUaServer(
        plant(),
        port=port,
        certificate=tmp_path / "server.der",
        private_key=tmp_path / "server.pem",
        users={"operator": "s3cret"},
        initial_time=START - 1,
    )
    machines = plant(server.endpoint, **secured)
    fleet = Fleet(machines, seed=3)
    async with server:
        source = OpcUaSource(machines, "sim", password="s3cret")
        async with source:
            async with asyncio.timeout(30):
                await source.connected()
            await server.publish(fleet.tick(START, 1.0))
            readings = await collect(
                source, lambda r: any(x.ts == START for x in r if x.quality is Quality.GOOD)
            )
        assert any(r.ts == START and r.quality is Quality.GOOD for r in readings)
        refused = OpcUaSource(machines, "sim", password="wrong", reconnect_max_delay=1)
        async with refused:
            await asyncio.sleep(1.5)
            assert not refused.stats.connected
