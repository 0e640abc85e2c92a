"""docker-compose.yml, checked without a Docker engine: every service restarts and has a health
check, startup waits for health, and the health-check commands themselves work against real
servers (a mosquitto broker, the forewarn API) the way the containers would run them."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devices import load_plant
from tests.conftest import DEMO_PLANT, Mosquitto
from tests.ticketing.live_server import serving
from ticketing import WorkOrderStore
from ticketing.api import create_app

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
RESTART = {"always", "unless-stopped", "on-failure"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    found: dict[str, Any] = document["services"]
    return found


def _workers(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if s.get("command", [None])[0] == "forewarn"}


def _compose_command(test: list[str]) -> list[str]:
    """A health check's command as the container runs it (compose turns `$$` into `$`)."""
    assert test[0] == "CMD", test
    return [part.replace("$$", "$") for part in test[1:]]


def test_every_service_restarts_and_has_a_health_check(services: dict[str, Any]) -> None:
    assert set(services) >= {"mosquitto", "postgres", "influxdb", "worker-line-1"}
    for name, service in services.items():
        assert service.get("restart") in RESTART, f"{name} has no restart policy"
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name} has no health check"
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_services_start_once_what_they_need_is_healthy(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            assert needed in services, (name, needed)
            assert condition == {"condition": "service_healthy"}, (name, needed)


def test_workers_check_the_api_health_on_the_port_they_serve(services: dict[str, Any]) -> None:
    workers = _workers(services)
    assert len(workers) >= 2
    for name, worker in workers.items():
        assert worker["environment"]["FOREWARN_API__HOST"] == "0.0.0.0"
        assert any(port.endswith(":8000") for port in worker["ports"]), name
        command = " ".join(worker["healthcheck"]["test"])
        assert "http://127.0.0.1:8000/api/v1/health" in command, name
        # a drain after SIGTERM must fit before the orchestrator kills the worker
        assert int(worker["stop_grace_period"].rstrip("s")) >= 10, name


def _worker_check(services: dict[str, Any], url: str) -> subprocess.CompletedProcess[str]:
    test = next(iter(_workers(services).values()))["healthcheck"]["test"]
    command = _compose_command(test)
    assert command[0] == "python"
    command = [sys.executable, *command[1:]]
    command[-1] = command[-1].replace("http://127.0.0.1:8000", url)
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_the_worker_health_check_passes_on_a_healthy_api(
    services: dict[str, Any], tmp_path: Path
) -> None:
    store = WorkOrderStore.sqlite(tmp_path / "orders.db", plant=load_plant(DEMO_PLANT))
    with store, serving(create_app(store)) as url:
        result = _worker_check(services, url)
    assert result.returncode == 0, result.stderr


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "failing", "reasons": ["database unreachable"]}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def failing_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_worker_health_check_fails_on_a_503(services: dict[str, Any], failing_api: str) -> None:
    assert _worker_check(services, failing_api).returncode != 0


def test_the_broker_health_check_passes_on_a_running_mosquitto(
    services: dict[str, Any], private_mosquitto: Mosquitto
) -> None:
    command = _compose_command(services["mosquitto"]["healthcheck"]["test"])
    assert re.fullmatch(r"\$SYS/\S+", command[command.index("-t") + 1])
    port = ["-p", str(private_mosquitto.port)]
    assert subprocess.run([*command, *port], capture_output=True, timeout=30).returncode == 0
    private_mosquitto.stop()
    assert subprocess.run([*command, *port], capture_output=True, timeout=30).returncode != 0
