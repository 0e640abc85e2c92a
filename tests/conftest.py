"""Shared fixtures: a private mosquitto per test session (or per test when a test must kill it),
the demo plant, and free ports."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from devices import Plant, load_plant

DEMO_PLANT = Path(str(resources.files("forewarn").joinpath("demo/plant.yaml")))


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `slow` (minutes each: benchmarks, long fault cycles) run only with
    FOREWARN_SLOW_TESTS=1, so the default run stays well within CI's time."""
    if os.environ.get("FOREWARN_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow (minutes of wall time); set FOREWARN_SLOW_TESTS=1")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
