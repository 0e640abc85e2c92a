"""`forewarn run --workers N`: a supervised worker process per shard on one machine."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from forewarn.cli import app
from forewarn.errors import ForewarnError
from forewarn.workers import Backoff, worker_count, worker_specs
from tests.conftest import DEMO_PLANT, Mosquitto
from tests.forewarn.run_helpers import (
    free_ports,
    metric_samples,
    start_forewarn,
    subscribed_health,
    wait_until,
)


def test_worker_count() -> None:
    assert worker_count("auto", cores=4) == 4
    assert worker_count("3") == 3
    for wrong in ("0", "-1", "many"):
        with pytest.raises(ForewarnError, match="1 or more"):
            worker_count(wrong)


def test_backoff_doubles_while_a_worker_keeps_failing_and_resets_after_a_steady_run() -> None:
    backoff = Backoff()
    delays = [backoff.after_exit(started_at=t, now=t + 2.0) for t in range(0, 70, 10)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.after_exit(started_at=100.0, now=200.0) == 1.0  # it ran for 100 s


def test_each_worker_gets_its_shard_port_and_state(tmp_path: Path) -> None:
    specs = worker_specs(3, ["--config", "plant.yaml"], 8000, tmp_path)
    for i, spec in enumerate(specs):
        assert spec.argv[-7:] == [
            "--shards", "3", "--shard", str(i), "--no-api", "--port", str(8000 + i)
        ]  # fmt: skip
        assert spec.argv[spec.argv.index("run") + 1 : spec.argv.index("run") + 3] == [
            "--config",
            "plant.yaml",
        ]
        assert spec.env["FOREWARN_STATE_DIR"] == str(tmp_path / f"shard-{i}-of-3")


def test_workers_and_a_shard_of_ones_own_are_refused() -> None:
    result = CliRunner().invoke(
        app, ["run", "--config", str(DEMO_PLANT), "--workers", "2", "--shard", "1"]
    )
    assert result.exit_code != 0
    assert "leave out --shard" in result.output


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return sorted(found)


async def test_two_workers_run_their_shards_and_a_killed_one_is_restarted(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"database: sqlite:///{tmp_path / 'orders.db'}\n"
        "detectors: [limits]\n"
        f"mqtt: {{url: '{mosquitto.url}', client_id: workers-{uuid.uuid4().hex[:8]}}}\n"
        f"state_dir: {tmp_path / 'state'}\n"
    )
    port = free_ports(2)
    log = tmp_path / "supervisor.log"
    supervisor = await start_forewarn(
        "run",
        "--config",
        str(DEMO_PLANT),
        "--settings",
        str(settings),
        "--workers",
        "2",
        "--port",
        str(port),
        log=log,
    )
    apis = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port + i}", timeout=5) for i in (0, 1)]

    async def subscribed(i: int) -> dict[str, Any] | None:
        return await subscribed_health(apis[i], supervisor, log)

    try:
        for i in (0, 1):
            await wait_until(lambda i=i: subscribed(i), f"worker {i} subscribed", 60)
        first = children(supervisor.pid)
        assert len(first) == 2, first
        text = log.read_text()
        for i in (0, 1):
            assert f"shard {i} of 2 (0..1): owns" in text
            assert (tmp_path / "state" / f"shard-{i}-of-2").is_dir()
            # `forewarn api` serves the work orders; a worker, its health and metrics only
            assert (await apis[i].get("/api/v1/work-orders")).status_code == 404
            samples = metric_samples((await apis[i].get("/metrics")).text)
            assert ("forewarn_finding_spool_pending", ()) in samples
            assert ("forewarn_pipeline_readings_total", ()) in samples
        assert "serving health and metrics only" in text

        os.kill(first[0], signal.SIGKILL)

        async def replaced() -> list[int] | None:
            now = children(supervisor.pid)
            return now if len(now) == 2 and first[0] not in now else None

        await wait_until(replaced, "the killed worker restarted", 30)
        for i in (0, 1):
            await wait_until(lambda i=i: subscribed(i), f"worker {i} subscribed again", 60)
        assert f"(pid {first[0]}) stopped with exit code -9; restarting it in 1 s" in (
            log.read_text()
        )
    finally:
        for api in apis:
            await api.aclose()
        if supervisor.returncode is None:
            supervisor.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(supervisor.wait(), 60)
    assert code == 0, log.read_text()[-3000:]
    assert children(supervisor.pid) == []
    assert "stopping 2 workers" in log.read_text()
