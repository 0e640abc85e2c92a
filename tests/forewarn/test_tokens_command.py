"""`forewarn tokens create|list|revoke` against a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from forewarn.cli import app
from tests.conftest import DEMO_PLANT
from ticketing import NotAuthenticated, Role, WorkOrderStore

runner = CliRunner()


def test_create_list_and_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'orders.db'}"
    created = runner.invoke(
        app,
        [
            "tokens",
            "create",
            "--name",
            "bruno",
            "--role",
            "technician",
            "--config",
            str(DEMO_PLANT),
            "--db",
            db,
            "--days",
            "30",
        ],
    )
    assert created.exit_code == 0, created.output
    header, secret = created.output.strip().splitlines()
    assert header.startswith("token 1 for bruno (technician, team mechanical, expires ")
    with WorkOrderStore(db) as store:
        principal = store.access.authenticate(secret)
    assert (principal.name, principal.role, principal.team) == (
        "bruno",
        Role.TECHNICIAN,
        "mechanical",
    )

    listed = runner.invoke(app, ["tokens", "list", "--db", db])
    assert listed.exit_code == 0
    assert "bruno" in listed.output
    assert secret not in listed.output
    assert secret[:10] in listed.output

    revoked = runner.invoke(app, ["tokens", "revoke", secret[:10], "--db", db])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked token 1 of bruno" in revoked.output
    with WorkOrderStore(db) as store, pytest.raises(NotAuthenticated, match="revoked"):
        store.access.authenticate(secret)
    assert "revoked" in runner.invoke(app, ["tokens", "list", "--db", db]).output


def test_mistakes_are_explained(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'orders.db'}"
    unknown = runner.invoke(
        app, ["tokens", "create", "--name", "zed", "--role", "technician", "--db", db]
    )
    assert unknown.exit_code == 2
    assert "a technician token needs a team" in unknown.output
    missing = runner.invoke(app, ["tokens", "revoke", "42", "--db", db])
    assert missing.exit_code == 2
    assert "no token 42" in missing.output
