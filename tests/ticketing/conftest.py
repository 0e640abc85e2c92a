"""Fixtures of the ticketing tests: a store on SQLite (a temporary file) and on PostgreSQL (a fresh
schema per test on the server named by FOREWARN_TEST_POSTGRES_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser import artefacts, browser_page  # noqa: F401  (fixtures of the browser tests)
from sqlalchemy import Engine, create_engine, text
from workorder_helpers import Clock

from devices import Plant
from tests.conftest import postgres_schema
from ticketing import WorkOrderStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: Engine) -> Iterator[str]:
    """One schema migrated to head for the whole session (see `reused_database_url`)."""
    with postgres_schema(postgres_server, "ticketing_shared") as url:
        WorkOrderStore(url).close()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def reused_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Like `database_url`, but on PostgreSQL a schema migrated once and emptied before each
    test (migrating a fresh schema per test is slow): for tests that do not test migrations."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    url: str = request.getfixturevalue("migrated_postgres")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = [
                name
                for (name,) in connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename != 'alembic_version'"
                    )
                )
            ]
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[WorkOrderStore]:
    with WorkOrderStore(database_url) as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def plant_store(
    reused_database_url: str, demo_plant: Plant, clock: Clock
) -> Iterator[WorkOrderStore]:
    """A store that knows the demo plant's organisation, on a clock the test moves."""
    with WorkOrderStore(reused_database_url, plant=demo_plant, clock=clock) as opened:
        yield opened
