"""Store outages wait, not crash: with a private PostgreSQL stopped mid-run, findings go to the
on-disk spool, the recorder says it is degraded and why, and when the server is back they are
recorded in order: every finding in the database once, the same orders as without an outage."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, text
from workorder_helpers import T0, finding

from devices import Finding, FindingKind, Plant, Severity, load_plant
from tests.conftest import DEMO_PLANT
from tests.private_postgres import PrivatePostgres, private_postgres  # noqa: F401
from ticketing import FindingSpool, SpoolingRecorder, WorkOrderStore
from ticketing.spool import SpoolCollector, finding_from_json, finding_to_json

PUMPS = ("P-101", "P-102", "P-103", "P-204")


@pytest.fixture(scope="module")
def plant() -> Plant:
    return load_plant(DEMO_PLANT)


def _findings(count: int) -> list[Finding]:
    """Findings that open, update and clear orders on several pumps."""
    out = []
    for k in range(count):
        pump = PUMPS[k % len(PUMPS)]
        cycle = k // len(PUMPS)
        out.append(
            finding(
                pump,
                ts=T0 + 60 * k,
                severity=Severity.ALARM if cycle % 3 == 1 else Severity.WARNING,
                active=cycle % 5 != 4,
                score=0.5 + 0.01 * cycle,
                summary=f"finding {k}",
            )
        )
    return out


def _table(url: str) -> tuple[list[str], list[tuple[str, str, str, int]]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        summaries = [
            row[0] for row in connection.execute(text("SELECT summary FROM findings ORDER BY id"))
        ]
        orders = [
            (row[0], row[1], row[2], row[3])
            for row in connection.execute(
                text(
                    "SELECT number, equipment_id, failure_mode_code, "
                    "(SELECT count(*) FROM findings f WHERE f.work_order_id = w.id) "
                    "FROM work_orders w ORDER BY id"
                )
            )
        ]
    engine.dispose()
    return summaries, orders


def _record_all(recorder: SpoolingRecorder, plant: Plant, findings: list[Finding]) -> None:
    for f in findings:
        recorder.record(f, plant.equipment[f.equipment_id])


def test_a_finding_survives_the_spool_unchanged() -> None:
    original = Finding(
        equipment_id="P-103",
        signals=("vibration", "temperature"),
        kind=FindingKind.ANOMALY,
        severity=Severity.CRITICAL,
        score=math.nan,
        ts=T0,
        detector="hst",
        summary="joint behaviour",
        time_to_limit=3600.0,
        time_to_limit_range=(1800.0, math.inf),
        evidence={"vibration": ((T0 - 1, 2.5), (T0, 2.75))},
    )
    back = finding_from_json(finding_to_json(original))
    assert math.isnan(back.score)
    assert replace(back, score=0.0) == replace(original, score=0.0)
    assert type(back.kind) is FindingKind
    assert type(back.severity) is Severity


def test_findings_wait_while_postgres_is_down_and_are_recorded_in_order(
    private_postgres: PrivatePostgres,  # noqa: F811
    plant: Plant,
    tmp_path: Path,
) -> None:
    findings = _findings(48)
    before, during, after = findings[:16], findings[16:32], findings[32:]

    with WorkOrderStore.sqlite(tmp_path / "reference.db", plant=plant) as reference:
        for f in findings:
            reference.orders.record(f, plant.equipment[f.equipment_id])
    expected = _table(f"sqlite:///{tmp_path / 'reference.db'}")

    store = WorkOrderStore(private_postgres.url, plant=plant)
    spool = FindingSpool(tmp_path / "spool.sqlite3")
    replayed: list[str] = []
    recorder = SpoolingRecorder(
        store, plant, spool, retry_every=0.0, on_replayed=lambda f, _: replayed.append(f.summary)
    )
    _record_all(recorder, plant, before)
    assert recorder.status().state == "ok"

    private_postgres.stop()
    _record_all(recorder, plant, during)
    status = recorder.status()
    assert status.state == "degraded"
    assert (status.pending, status.spooled, status.dropped) == (len(during), len(during), 0)
    assert status.oldest_age is not None
    assert status.oldest_age >= 0
    assert "could not record a finding" in (status.last_error or "")
    assert not recorder.replay()  # still down: nothing is lost by trying
    registry = CollectorRegistry()
    registry.register(SpoolCollector(recorder))
    assert registry.get_sample_value("forewarn_finding_spool_pending") == len(during)
    assert registry.get_sample_value("forewarn_finding_spool_spooled_total") == len(during)

    private_postgres.start()
    _record_all(recorder, plant, after)  # the first of these replays the spool first
    status = recorder.status()
    assert (status.state, status.pending, status.replayed) == ("ok", 0, len(during))
    assert replayed == [f.summary for f in during]
    store.close()
    spool.close()

    summaries, orders = _table(private_postgres.url)
    assert summaries == [f.summary for f in findings], "lost, repeated or reordered findings"
    assert orders == expected[1], "different orders than without the outage"


def test_the_spool_is_bounded_by_bytes_and_counts_what_it_loses(
    plant: Plant, tmp_path: Path
) -> None:
    spool = FindingSpool(tmp_path / "spool.sqlite3", max_bytes=2_000)
    stored = 0
    while spool.put(_findings(1)[0]):
        stored += 1
    assert 0 < stored < 10
    assert spool.bytes <= 2_000
    spool.close()
    reopened = FindingSpool(tmp_path / "spool.sqlite3", max_bytes=2_000)
    assert (reopened.pending, reopened.bytes) == (stored, spool.bytes)
    head = reopened.head()
    assert head is not None
    reopened.remove(head[0])
    assert reopened.pending == stored - 1
    reopened.close()
