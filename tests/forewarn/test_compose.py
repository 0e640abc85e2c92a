"""docker-compose.yml, checked without a Docker engine: every service restarts and has a health
check, startup waits for health, and the health-check commands themselves work against real
servers (a mosquitto broker, the forewarn API) the way the containers would run them; every file a
service mounts exists; the Grafana dashboard asks InfluxDB for what the historian writes and
PostgreSQL for tables and columns the store has; and `docker-compose config` accepts the file."""

from __future__ import annotations

import enum
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Column, create_engine, insert, text

from devices import Finding, FindingKind, Plant, Reading, Severity, load_plant
from forewarn.shards import shard_plant
from ingest import finding_lines, reading_lines
from simulators import load_scenario
from tests.conftest import DEMO_PLANT, Mosquitto
from tests.ticketing.live_server import serving
from ticketing import WorkOrderStore
from ticketing.api import create_status_app
from ticketing.lifecycle import ACTIVE, Status
from ticketing.models import Base, SeverityName, UTCDateTime

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DASHBOARDS = ROOT / "forewarn" / "deploy" / "grafana" / "dashboards"
RESTART = {"always", "unless-stopped", "on-failure"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    found: dict[str, Any] = document["services"]
    return found


def _workers(services: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in services.items() if s.get("command", [])[:2] == ["forewarn", "run"]}


def _compose_command(test: list[str]) -> list[str]:
    """A health check's command as the container runs it (compose turns `$$` into `$`)."""
    assert test[0] == "CMD", test
    return [part.replace("$$", "$") for part in test[1:]]


def test_every_service_restarts_and_has_a_health_check(services: dict[str, Any]) -> None:
    assert set(services) >= {"mosquitto", "postgres", "influxdb", "worker-0", "worker-1"}
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


def test_forewarn_api_is_the_only_work_order_api(services: dict[str, Any]) -> None:
    for name, worker in _workers(services).items():
        assert "--no-api" in worker["command"], name  # health and metrics only
    apis = [name for name, s in services.items() if s.get("command", [])[:2] == ["forewarn", "api"]]
    assert apis == ["api"]
    assert services["api"]["environment"]["FOREWARN_DATABASE"].startswith("postgresql+psycopg://")


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
    with store, serving(create_status_app(store, extra_status=dict)) as url:  # as --no-api
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


def test_every_file_a_service_mounts_or_builds_from_exists(services: dict[str, Any]) -> None:
    mounted = 0
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which does not exist"
                mounted += 1
        build = service.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
    assert mounted >= 4
    grafana = {v.split(":")[1] for v in services["grafana"]["volumes"] if v.startswith(".")}
    assert grafana == {"/etc/grafana/provisioning", "/var/lib/grafana/dashboards"}


def _historian_schema() -> dict[str, tuple[set[str], set[str]]]:
    """Measurement -> (fields, tags), from the line protocol the historian writes."""
    finding = Finding(
        "P-1", ("vibration",), FindingKind.DRIFT, Severity.ALARM, 0.8, 2.0, "ewma", "up", True, 60.0
    )
    lines = [*reading_lines([Reading("P-1", "vibration", 1.0, 2.0)]), *finding_lines([finding])]
    schema: dict[str, tuple[set[str], set[str]]] = {}
    for line in lines:
        series, fields, _ = line.split(" ")
        measurement, *tags = series.split(",")
        known = schema.setdefault(measurement, (set(), set()))
        known[0].update(f.split("=", 1)[0] for f in fields.split(","))
        known[1].update(t.split("=", 1)[0] for t in tags)
    return schema


def _targets(key: str) -> list[str]:
    found = []
    for path in DASHBOARDS.glob("*.json"):
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            found += [t[key] for t in panel.get("targets", []) if key in t]
        found += [v["query"] for v in dashboard["templating"]["list"] if key == "query"]
    return found


def test_the_dashboard_asks_influxdb_for_what_the_historian_writes() -> None:
    schema = _historian_schema()
    assert set(schema) == {"readings", "findings"}
    queries = _targets("query")
    assert len(queries) >= 4
    asked: set[str] = set()
    for query in queries:
        [measurement] = set(re.findall(r'r\._measurement == "(\w+)"', query))
        assert measurement in schema, query
        asked.add(measurement)
        fields, tags = schema[measurement]
        for field in re.findall(r'r\._field == "(\w+)"', query):
            assert field in fields, (field, query)
        used = set(re.findall(r"\br\.(\w+)", query)) - {"_measurement", "_field", "_value"}
        assert used <= tags, (used - tags, query)
        for column in re.findall(r"columns: \[([^\]]*)\]", query):
            assert set(json.loads(f"[{column}]")) <= tags, query
    assert asked == {"readings", "findings"}


def test_the_dashboard_sql_names_tables_and_columns_the_store_has() -> None:
    queries = _targets("rawSql")
    assert len(queries) >= 2
    for query in queries:
        for table in re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", query, re.IGNORECASE):
            assert table in Base.metadata.tables, query
        for listed in re.findall(r"status IN \(([^)]*)\)", query):
            assert {s.strip(" '") for s in listed.split(",")} == {s.value for s in ACTIVE}


def _placeholder(column: Column[Any]) -> object:
    """Some valid value for a column of the store's schema."""
    if isinstance(column.type, UTCDateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(column.type, SeverityName):
        return Severity.ALARM
    kind = column.type.python_type
    if issubclass(kind, enum.Enum):
        return next(iter(kind))
    return {bool: False, int: 1, float: 0.0, str: "x", object: {}}[kind]  # object: JSON


@pytest.mark.postgres
def test_the_dashboard_sql_runs_on_the_store_schema_and_counts_open_orders_per_line(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    Base.metadata.create_all(engine)
    table = Base.metadata.tables["work_orders"]
    required = [
        c
        for c in table.columns
        if not (c.nullable or c.primary_key or c.server_default is not None)
    ]
    orders = [
        ("demo/treatment/line-1/P-101", Status.OPEN),
        ("demo/treatment/line-1/P-102", Status.IN_PROGRESS),
        ("demo/treatment/line-2/P-201", Status.CLOSED),
        ("demo/treatment/line-2/P-202", Status.DONE),
    ]
    try:
        with engine.begin() as connection:
            for number, (path, status) in enumerate(orders):
                row = {c.name: _placeholder(c) for c in required}
                row |= {
                    "equipment_path": path,
                    "equipment_id": path.rsplit("/", 1)[1],
                    "status": status,
                }
                row["number"] = f"WO-{number}"
                connection.execute(insert(table).values(row))
            results = [connection.execute(text(q)).all() for q in _targets("rawSql")]
    finally:
        engine.dispose()
    assert [tuple(r) for r in results[0]] == [("line-1", 2), ("line-2", 1)]
    assert len(results[1]) == 3


def test_docker_compose_accepts_the_file() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    secrets = ("POSTGRES_PASSWORD", "INFLUXDB_PASSWORD", "INFLUXDB_TOKEN", "GRAFANA_ADMIN_PASSWORD")
    env = {**os.environ, **{name: "secret" for name in secrets}}
    command = [binary, "-f", str(COMPOSE), "config", "-q"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    # a required secret left unset is refused, not run with an empty password
    del env["INFLUXDB_TOKEN"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0
    assert "INFLUXDB_TOKEN" in result.stderr


def test_the_simulator_profile_publishes_the_plant_the_workers_own(
    services: dict[str, Any], tmp_path: Path
) -> None:
    simulator = services["simulator"]
    assert simulator["profiles"] == ["simulator"]
    mounts = {
        target: ROOT / source for source, target, *_ in (v.split(":") for v in simulator["volumes"])
    }
    for target, source in mounts.items():  # the container's files, as it mounts them
        (tmp_path / target.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / target.lstrip("/")).write_text(source.read_text())
    command = simulator["command"]
    assert command[:2] == ["forewarn", "simulate"]
    assert (
        command[command.index("--broker") + 1]
        == services["worker-0"]["environment"]["FOREWARN_MQTT__URL"]
    )
    scenario = load_scenario(tmp_path / command[2].lstrip("/"))
    in_repo = load_scenario(ROOT / "forewarn" / "deploy" / "simulator.yaml")  # the README's command
    assert scenario.faults == in_repo.faults
    assert [e.path for e in scenario.plant] == [e.path for e in in_repo.plant]
    assert scenario.faults
    published = {(e.id, e.path) for e in scenario.plant}
    shards = _shards(services)
    owned = {(e.id, e.path) for part in shards.values() for e in part}
    assert published == owned
    # one developing fault in each shard, so each shard's worker has an order to open
    faulty = {fault.equipment_id for fault in scenario.faults}
    assert all(faulty & set(part.equipment) for part in shards.values())


def _option(command: list[str], name: str) -> str:
    assert name in command, command
    return command[command.index(name) + 1]


def _shards(services: dict[str, Any]) -> dict[int, Plant]:
    """Shard number -> the part of the plant it owns, from the file the workers mount. The
    workers claim their shards (`--shards N`, no `--shard`), so any of them may run any shard."""
    parts: dict[int, Plant] = {}
    counts = set()
    for name, worker in _workers(services).items():
        command = worker["command"]
        assert "--shard" not in command, f"{name} is given a shard instead of claiming one"
        mounts = {
            target: ROOT / source
            for source, target, *_ in (v.split(":") for v in worker["volumes"])
            if source.startswith(".")
        }
        plant = load_plant(mounts[_option(command, "--config")])
        shards = int(_option(command, "--shards"))
        counts.add(shards)
        for shard in range(shards):
            part = shard_plant(plant, shard, shards)
            assert [e.id for e in parts.setdefault(shard, part)] == [e.id for e in part], name
    [count] = counts  # every worker splits the plant the same way
    assert set(parts) == set(range(count))
    return parts


def test_the_workers_claim_shards_of_one_plant_file_with_a_standby_to_spare(
    services: dict[str, Any],
) -> None:
    workers = _workers(services)
    configs = {
        next(v for v in w["volumes"] if v.split(":")[1] == _option(w["command"], "--config"))
        for w in workers.values()
    }
    assert len(configs) == 1, configs
    shards = _shards(services)
    assert len(shards) == 2
    assert len(workers) > len(shards), "no standby to take over a dead worker's shard"
    owned = [set(part.equipment) for part in shards.values()]
    assert not owned[0] & owned[1]
    assert all(owned)
    # claims need the shared PostgreSQL database (SQLite is refused)
    assert all(
        w["environment"]["FOREWARN_DATABASE"].startswith("postgresql+psycopg://")
        for w in workers.values()
    )
    # the same settings: the client ids differ by the shard suffix forewarn adds
    assert len({w["environment"]["FOREWARN_MQTT__CLIENT_ID"] for w in workers.values()}) == 1
    # one plant file, and a state volume of each worker's own
    assert len({v.split(":")[0] for w in workers.values() for v in w["volumes"]}) == 1 + len(
        workers
    )


def test_the_simulator_health_check_follows_the_broker(
    services: dict[str, Any], private_mosquitto: Mosquitto
) -> None:
    command = _compose_command(services["simulator"]["healthcheck"]["test"])
    assert "('mosquitto', 1883)" in command[-1]
    command = [
        sys.executable,
        *command[1:-1],
        command[-1].replace("('mosquitto', 1883)", f"('127.0.0.1', {private_mosquitto.port})"),
    ]
    assert subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    private_mosquitto.stop()
    assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0
