"""The historian against a real server of the InfluxDB v2 write API (a private victoria-metrics):
points written, spooled to disk while the server is down, drained when it returns."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices import Finding, FindingKind, Quality, Reading, Severity
from ingest import Historian, finding_lines, reading_lines
from tests.conftest import free_port
from tests.ingest.ingest_servers import VictoriaMetrics


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path, free_port())
    server.start()
    yield server
    server.stop()


def readings(start: int, count: int) -> list[Reading]:
    return [
        Reading("P-101", "flow", 1_700_000_000.0 + i, float(i)) for i in range(start, start + count)
    ]


def wait_for(condition: object, seconds: float = 30, state: object = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out {state() if state else ''}")  # type: ignore[operator]
        time.sleep(0.05)


def test_line_protocol() -> None:
    [line] = reading_lines([Reading("P 1", "a,b", 1.5, 2.0, Quality.UNCERTAIN)])
    assert line == r"readings,equipment=P\ 1,signal=a\,b,quality=uncertain value=2.0 1500000000"
    assert reading_lines([Reading("P", "s", 1.0, math.nan, Quality.BAD)]) == []
    finding = Finding(
        "P-1",
        ("vibration",),
        FindingKind.DRIFT,
        Severity.ALARM,
        0.8,
        2.0,
        "ewma",
        'up "fast"',
        True,
        60.0,
    )
    [line] = finding_lines([finding])
    assert line == (
        "findings,equipment=P-1,kind=drift,severity=alarm,detector=ewma,signals=vibration "
        'score=0.8,active=true,time_to_limit=60.0,summary="up \\"fast\\"" 2000000000'
    )


def test_points_reach_the_server_and_nothing_is_lost_while_it_is_down(
    victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    historian = Historian(
        victoria.url,
        token="unused",
        org="forewarn",
        bucket="telemetry",
        spool_dir=tmp_path / "spool",
        batch_size=100,
        flush_interval=0.1,
        max_buffer=250,
        retry_max_delay=0.5,
        timeout=2,
    )
    historian.start()
    try:
        historian.write_readings(readings(0, 300))
        wait_for(lambda: historian.written >= 300)
        assert [v for _, v in victoria.export("readings_value")] == [float(i) for i in range(300)]

        victoria.stop()
        historian.write_readings(readings(300, 700))  # more than the buffer holds
        wait_for(lambda: historian.failures >= 1)
        assert historian.spool_files()
        assert historian.buffered <= 250  # memory stays bounded: the rest is on disk
        assert historian.spooled >= 450

        victoria.start()
        wait_for(
            lambda: not historian.spool_files() and historian.written >= 1000,
            state=lambda: (
                historian.written,
                historian.spooled,
                historian.failures,
                historian.buffered,
                historian.spool_files(),
            ),
        )
        historian.write_findings(
            [
                Finding(
                    "P-101",
                    ("flow",),
                    FindingKind.LIMIT,
                    Severity.WARNING,
                    0.6,
                    1_700_000_500.0,
                    "limit",
                    "low",
                )
            ]
        )
    finally:
        historian.close()
    values = [v for _, v in victoria.export("readings_value")]
    assert sorted(values) == [float(i) for i in range(1000)]
    assert victoria.export("findings_score") == [(1_700_000_500.0, 0.6)]
