"""The OPC UA source against a real asyncua server of the test's own: subscriptions, quality,
a server restart mid-stream, polling, and a secured endpoint with certificates and a password."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.status_codes import StatusCodes

from devices import Plant, Quality, Reading, plant_from_dict
from ingest import OpcUaSource, RejectReason, quality_of, write_self_signed
from ingest.opcua import RECONNECT_MAX_DELAY
from tests.conftest import free_port

NAMESPACE = "urn:forewarn:test-plant"
SIGNALS = ("flow", "vibration")
BROWSE = "0:Objects/{ns}:{line}/{ns}:{equipment}/{ns}:{signal}"


class Passwords(UserManager):
    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if (username, password) == ("operator", "s3cret"):
            return User(role=UserRole.User)
        return None


class PlantServer:
    """A small asyncua server: Objects/line-1/P-101/{flow, vibration}; restartable."""

    def __init__(self, port: int, certs: Path | None = None) -> None:
        self.port = port
        self.certs = certs
        self.server: Server | None = None
        self.variables: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/forewarn-test"

    async def start(self) -> None:
        server = Server(user_manager=Passwords() if self.certs else None)
        await server.init()
        server.set_endpoint(self.url)
        if self.certs is not None:
            await server.load_certificate(str(self.certs / "server.der"))
            await server.load_private_key(str(self.certs / "server.pem"))
            server.set_security_policy(
                [
                    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                    ua.SecurityPolicyType.Basic256Sha256_Sign,
                ]
            )
        ns = await server.register_namespace(NAMESPACE)
        line = await server.nodes.objects.add_folder(ns, "line-1")
        pump = await line.add_object(ns, "P-101")
        for name in SIGNALS:
            self.variables[name] = await pump.add_variable(
                ua.NodeId(ua.String(f"P-101.{name}"), ua.Int16(ns)), ua.QualifiedName(name, ns), 0.0
            )
        await server.start()
        self.server = server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def write(self, name: str, value: float, status: int = StatusCodes.Good) -> None:
        await self.variables[name].write_value(
            ua.DataValue(
                ua.Variant(value, ua.VariantType.Double),
                ua.StatusCode(ua.UInt32(status)),
                SourceTimestamp=datetime.now(UTC),  # as a device stamps its samples
            )
        )
        await asyncio.sleep(0)  # let the server's publishing loop run


def plant_for(server: PlantServer, **opcua: Any) -> Plant:
    settings = {"url": server.url, "anonymous": True, "namespace": NAMESPACE, **opcua}
    return plant_from_dict(
        {
            "site": {"id": "demo"},
            "opcua": {"servers": {"plc": settings}},
            "areas": [
                {
                    "id": "treatment",
                    "lines": [
                        {
                            "id": "line-1",
                            "equipment": [
                                {
                                    "id": "P-101",
                                    "type": "centrifugal_pump",
                                    "team": "m",
                                    "opcua": {
                                        "server": "plc",
                                        "browse_path": BROWSE,
                                    },
                                    "signals": {
                                        "flow": {
                                            "opcua": {
                                                "node": "ns={ns};s=P-101.flow",
                                                "sampling_interval": "50ms",
                                            }
                                        },
                                        "vibration": {"opcua": {"sampling_interval": "50ms"}},
                                    },
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )


@pytest.fixture
async def plant_server() -> AsyncIterator[PlantServer]:
    server = PlantServer(free_port())
    await server.start()
    yield server
    await server.stop()


async def take(source: OpcUaSource, count: int, seconds: float = 20) -> list[Reading]:
    readings: list[Reading] = []
    async with asyncio.timeout(seconds):
        async for batch in source.batches():
            readings += [r for r in batch if r.signal == "flow"]
            if len(readings) >= count:
                return readings
    return readings


async def feed(server: PlantServer, values: list[float], status: int = StatusCodes.Good) -> None:
    for value in values:
        await server.write("flow", value, status)
        await asyncio.sleep(0.15)


def test_status_codes_become_quality() -> None:
    assert quality_of(ua.StatusCode(ua.UInt32(StatusCodes.Good))) is Quality.GOOD
    assert (
        quality_of(ua.StatusCode(ua.UInt32(StatusCodes.UncertainLastUsableValue)))
        is Quality.UNCERTAIN
    )
    assert quality_of(ua.StatusCode(ua.UInt32(StatusCodes.BadSensorFailure))) is Quality.BAD
    assert quality_of(None) is Quality.GOOD


async def test_subscription_quality_and_a_server_restart(plant_server: PlantServer) -> None:
    source = OpcUaSource(plant_for(plant_server), "plc", reconnect_max_delay=1)
    async with source:
        async with asyncio.timeout(20):
            await source.connected()
        assert source.polling is False
        await take(source, 1)  # the initial value
        await feed(plant_server, [1.0, 2.0])
        await plant_server.write("flow", 3.0, StatusCodes.UncertainLastUsableValue)
        await plant_server.write("flow", 4.0, StatusCodes.BadSensorFailure)
        before = await take(source, 4)
        assert [(r.value, r.quality) for r in before[:3]] == [
            (1.0, Quality.GOOD),
            (2.0, Quality.GOOD),
            (3.0, Quality.UNCERTAIN),
        ]
        assert before[3].quality is Quality.BAD

        await plant_server.stop()
        while source.stats.connected:
            await asyncio.sleep(0.05)
        await plant_server.start()
        async with asyncio.timeout(30):
            while not source.stats.connected:
                await asyncio.sleep(0.05)
        await take(source, 1)  # the value on (re)subscribing
        await feed(plant_server, [5.0, 6.0])
        after = await take(source, 2)
    assert [r.value for r in after] == [5.0, 6.0]
    assert source.stats.gaps == 1
    assert source.stats.gap_seconds > 0
    assert source.stats.connects == 2
    assert source.stats.disconnects >= 1


async def test_a_repeated_value_is_still_a_sample(plant_server: PlantServer) -> None:
    source = OpcUaSource(plant_for(plant_server), "plc")
    async with source:
        async with asyncio.timeout(20):
            await source.connected()
        await take(source, 1)
        await feed(plant_server, [4.0, 4.0, 4.0])
        readings = await take(source, 3)
    assert [r.value for r in readings] == [4.0, 4.0, 4.0]
    assert len({r.ts for r in readings}) == 3


async def test_polling_when_configured(plant_server: PlantServer) -> None:
    source = OpcUaSource(plant_for(plant_server, mode="poll", poll_interval="100ms"), "plc")
    async with source:
        async with asyncio.timeout(20):
            await source.connected()
        assert source.polling is True
        await take(source, 1)
        await feed(plant_server, [7.0, 8.0])
        readings = await take(source, 2)
    assert [r.value for r in readings] == [7.0, 8.0]


async def test_unknown_nodes_are_counted_not_fatal(plant_server: PlantServer) -> None:
    plant = plant_for(plant_server)
    broken = plant_from_dict(
        {
            "site": {"id": "demo"},
            "opcua": {"servers": {"plc": {"url": plant_server.url, "anonymous": True}}},
            "areas": [
                {
                    "id": "a",
                    "lines": [
                        {
                            "id": "l",
                            "equipment": [
                                {
                                    "id": "P-1",
                                    "type": "centrifugal_pump",
                                    "team": "m",
                                    "opcua": {
                                        "server": "plc",
                                        "browse_path": "0:Objects/2:nope/2:{signal}",
                                    },
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    del plant
    source = OpcUaSource(broken, "plc")
    async with source:
        async with asyncio.timeout(20):
            await source.connected()
    assert source.stats.dead_letters.counts[RejectReason.UNKNOWN_SIGNAL] == 5


async def test_secured_endpoint_with_certificates_and_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_self_signed(
        tmp_path / "server.der",
        tmp_path / "server.pem",
        application_uri="urn:forewarn:test-server",
        hostname="127.0.0.1",
        server=True,
    )
    write_self_signed(tmp_path / "client.der", tmp_path / "client.pem")
    server = PlantServer(free_port(), certs=tmp_path)
    await server.start()
    secured = {
        "anonymous": False,
        "username": "operator",
        "password_env": "FW_TEST_PLC_PASSWORD",
        "security_policy": "Basic256Sha256",
        "security_mode": "SignAndEncrypt",
        "certificate": str(tmp_path / "client.der"),
        "private_key": str(tmp_path / "client.pem"),
    }
    try:
        monkeypatch.setenv("FW_TEST_PLC_PASSWORD", "s3cret")
        source = OpcUaSource(plant_for(server, **secured), "plc")
        async with source:
            async with asyncio.timeout(30):
                await source.connected()
            await take(source, 1)
            await feed(server, [9.0])
            readings = await take(source, 1)
        assert [r.value for r in readings] == [9.0]

        for mode in ("Sign",):
            source = OpcUaSource(plant_for(server, **{**secured, "security_mode": mode}), "plc")
            async with source:
                async with asyncio.timeout(30):
                    await source.connected()

        caplog.set_level(logging.WARNING, "ingest.opcua")
        monkeypatch.setenv("FW_TEST_PLC_PASSWORD", "wrong")
        source = OpcUaSource(plant_for(server, **secured), "plc")
        async with source:
            await asyncio.sleep(1.5)
            assert not source.stats.connected
        assert "OPC UA server plc" in caplog.text
    finally:
        await server.stop()


async def test_a_server_restart_is_read_again_within_the_capped_backoff(
    plant_server: PlantServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An 8 s restart: attempts at about 1, 3, 7, 12, 17 s (the wait doubles up to 5 s), so the
    source is back within about 5 s of the server, far under the 60 s stale floor; asyncua's
    publish-loop traceback is one WARNING line, never an ERROR."""
    caplog.set_level(logging.INFO)
    source = OpcUaSource(plant_for(plant_server), "plc")
    async with source:
        async with asyncio.timeout(20):
            await source.connected()
        await take(source, 1)
        await plant_server.stop()
        while source.stats.connected:
            await asyncio.sleep(0.05)
        await asyncio.sleep(8)
        await plant_server.start()
        server_up = time.monotonic()
        async with asyncio.timeout(30):
            while not source.stats.connected:
                await asyncio.sleep(0.05)
        back_after = time.monotonic() - server_up
        await take(source, 1)
    assert source.stats.gaps == 1
    assert back_after < RECONNECT_MAX_DELAY + 2
    asyncua_errors = [
        r for r in caplog.records if r.name.startswith("asyncua") and r.levelno >= logging.ERROR
    ]
    assert asyncua_errors == []
    publish = [r for r in caplog.records if "publish request failed" in r.getMessage()]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in publish)
