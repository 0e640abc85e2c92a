"""The claim and renewal decisions of `forewarn.leases`, and the refusal of dynamic claims on
SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from forewarn.cli import app
from forewarn.leases import Lease, Tenure, claim_order
from tests.conftest import DEMO_PLANT

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_free_shards_come_first_then_expired_ones_and_held_ones_never() -> None:
    leases = [
        Lease(0, "dead", NOW - timedelta(seconds=1)),
        Lease(1, "alive", NOW + timedelta(seconds=5)),
        Lease(2, None, NOW - timedelta(hours=1)),
        Lease(7, None, NOW),  # beyond `shards`: from a deployment with more shards
    ]
    assert claim_order(leases, 4, NOW) == [2, 3, 0]
    assert claim_order(leases, 4, NOW + timedelta(seconds=5)) == [2, 3, 0, 1]
    assert claim_order([Lease(0, "a", NOW + timedelta(seconds=1))], 1, NOW) == []


def test_a_lease_lapses_a_timeout_after_the_last_renewal_was_sent() -> None:
    tenure = Tenure(timeout=15.0, renewed_at=100.0)
    assert tenure.next_renewal(100.0) == 5.0
    assert tenure.next_renewal(106.0) == 0.0
    assert not tenure.lapsed(114.9)
    assert tenure.lapsed(115.0)
    tenure.renewed(110.0)
    tenure.renewed(105.0)  # a late answer to an older renewal does not move it back
    assert (tenure.renewed_at, tenure.lapsed(124.0), tenure.lapsed(125.0)) == (110.0, False, True)


def test_dynamic_claims_on_sqlite_are_refused_with_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--config",
            str(DEMO_PLANT),
            "--shards",
            "2",
            "--db",
            f"sqlite:///{tmp_path / 'orders.db'}",
        ],
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "is SQLite" in message
    assert "give each worker its shard (--shard 0..1, FOREWARN_SHARD)" in message
    assert "or use PostgreSQL" in message
    assert not (tmp_path / "orders.db").exists()
