"""Shared fixtures: a private mosquitto per test session (or per test when a test must kill it),
the demo plant, free ports, and a PostgreSQL schema of a test's own (on the server named by
FOREWARN_TEST_POSTGRES_URL)."""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from devices import Plant, load_plant

DEMO_PLANT = Path(str(resources.files("forewarn").joinpath("demo/plant.yaml")))
POSTGRES_URL = os.environ.get(
    "FOREWARN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Mosquitto:
    """A private mosquitto broker on a free port, configured like forewarn's deployment."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    listener_settings: str = ""
    """Lines for the listener (TLS files, a password file...) appended to the deployment's."""
    anonymous: bool = True
    settings: dict[str, str] = field(default_factory=dict)
    """Broker settings that replace the deployment's (`max_queued_messages`: "1000", say)."""

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        conf_text = resources.files("forewarn").joinpath("deploy/mosquitto.conf").read_text()
        conf_text = conf_text.replace(
            "listener 1883", f"listener {self.port} 127.0.0.1\n{self.listener_settings}"
        )
        conf_text = conf_text.replace("/mosquitto/data/", f"{self.workdir}/")
        if not self.anonymous:
            conf_text = conf_text.replace("allow_anonymous true", "allow_anonymous false")
        for name, value in self.settings.items():
            conf_text = re.sub(rf"^{name} .*$", f"{name} {value}", conf_text, flags=re.M)
        conf_text += f"\nuser {getpass.getuser()}\n"  # keep the privileges that own workdir
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(conf_text)
        with (self.workdir / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen(
                [_mosquitto_binary(), "-c", str(conf)], stdout=log, stderr=log
            )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _mosquitto_binary() -> str:
    path = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if path is None:
        pytest.fail(
            "mosquitto is not installed: apt-get install mosquitto mosquitto-clients (.ci/run does)"
        )
    return path


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One private broker shared by the tests that do not need to restart it."""
    _mosquitto_binary()
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"), free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own, which the test may stop and restart."""
    _mosquitto_binary()
    broker = Mosquitto(tmp_path, free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def demo_plant() -> Plant:
    return load_plant(DEMO_PLANT)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """The PostgreSQL test server; skips (or fails, if FOREWARN_REQUIRE_POSTGRES=1) without it."""
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        why = " ".join(str(exc.orig).split())
        reason = (
            f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is unreachable ({why}); "
            "start it or point FOREWARN_TEST_POSTGRES_URL at one"
        )
        if os.environ.get("FOREWARN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (FOREWARN_REQUIRE_POSTGRES=1 makes this a failure)")
        pytest.skip(reason)
    yield engine
    engine.dispose()


@contextmanager
def postgres_schema(server: Engine, prefix: str) -> Iterator[str]:
    """A URL whose connections work in a fresh schema named from `prefix`, dropped after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with server.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with server.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def postgres_url(postgres_server: Engine) -> Iterator[str]:
    """A URL whose connections work in a fresh schema of this test's own, dropped after it."""
    with postgres_schema(postgres_server, "forewarn_test") as url:
        yield url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (minutes each: benchmarks, long fault cycles) run only with
    FOREWARN_SLOW_TESTS=1, so the default run stays well within CI's time."""
    if os.environ.get("FOREWARN_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow (minutes of wall time); set FOREWARN_SLOW_TESTS=1")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
