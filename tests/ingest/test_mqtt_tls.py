"""The MQTT source over TLS with a username and password, against a mosquitto set up that way."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant
from ingest import BrokerAddress, MqttSource
from tests.conftest import Mosquitto, free_port

TOPIC = "demo/treatment/line-1/P-101/telemetry"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for 127.0.0.1: (ca, server cert, server key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("forewarn test CA"))
        .issuer_name(_name("forewarn test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    _write_key(server_key, paths[2])
    return paths


@pytest.fixture
def tls_mosquitto(tmp_path: Path) -> Iterator[tuple[Mosquitto, Path]]:
    ca, cert, key = make_certificates(tmp_path)
    passwords = tmp_path / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(passwords), "plant", "s3cret"],
        check=True,
        capture_output=True,
    )
    broker = Mosquitto(
        tmp_path,
        free_port(),
        listener_settings=(
            f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\npassword_file {passwords}\n"
        ),
        anonymous=False,
    )
    broker.start()
    yield broker, ca
    broker.stop()


def tls_publisher(port: int, ca: Path) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
    client.username_pw_set("plant", "s3cret")
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


async def test_readings_arrive_over_tls_with_a_password(
    demo_plant: Plant, tls_mosquitto: tuple[Mosquitto, Path]
) -> None:
    broker, ca = tls_mosquitto
    address = BrokerAddress.parse(f"mqtts://plant:s3cret@127.0.0.1:{broker.port}")
    source = MqttSource(
        demo_plant, address, client_id=f"fw-{uuid.uuid4().hex[:8]}", ca_certs=str(ca)
    )
    async with source:
        await asyncio.wait_for(source.connected(), 10)
        pub = tls_publisher(broker.port, ca)
        infos = [
            pub.publish(TOPIC, json.dumps({"ts": 1_000 + i, "values": {"flow": i}}), qos=1)
            for i in range(20)
        ]
        for info in infos:
            info.wait_for_publish(timeout=10)
        readings = []
        async with asyncio.timeout(20):
            async for batch in source.batches():
                readings.extend(batch)
                if len(readings) >= 20:
                    break
        pub.loop_stop()
        pub.disconnect()
    assert [r.value for r in readings] == [float(i) for i in range(20)]


async def test_a_wrong_password_never_connects_and_says_so(
    demo_plant: Plant, tls_mosquitto: tuple[Mosquitto, Path], caplog: pytest.LogCaptureFixture
) -> None:
    broker, ca = tls_mosquitto
    address = BrokerAddress.parse(f"mqtts://plant:wrong@127.0.0.1:{broker.port}")
    source = MqttSource(
        demo_plant, address, client_id=f"fw-{uuid.uuid4().hex[:8]}", ca_certs=str(ca)
    )
    async with source:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(source.connected(), 3)
    assert "refused the connection" in caplog.text
    assert source.stats.connects == 0


def test_the_broker_really_refuses_anonymous_clients(
    tls_mosquitto: tuple[Mosquitto, Path],
) -> None:
    broker, ca = tls_mosquitto
    anonymous = paho.Client(CallbackAPIVersion.VERSION2, client_id="anon")
    anonymous.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
    codes: list[paho.ReasonCode] = []
    anonymous.on_connect = lambda client, userdata, flags, code, props: codes.append(code)
    anonymous.connect("127.0.0.1", broker.port)
    anonymous.loop_start()
    try:
        for _ in range(100):
            if codes:
                break
            time.sleep(0.05)
    finally:
        anonymous.loop_stop()
    assert codes
    assert codes[0].is_failure
