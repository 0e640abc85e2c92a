"""Fixtures of the ticketing tests: a store on SQLite (a temporary file) and on PostgreSQL (a fresh
schema per test on the server named by FOREWARN_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser import artefacts, browser_page  # noqa: F401  (fixtures of the browser tests)
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from workorder_helpers import Clock

from devices import Plant
from ticketing import WorkOrderStore

POSTGRES_URL = os.environ.get(
    "FOREWARN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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


@pytest.fixture
def postgres_url(postgres_server: Engine) -> Iterator[str]:
    """A URL whose connections work in a fresh schema of their own, dropped after the test."""
    schema = f"ticketing_test_{uuid.uuid4().hex[:12]}"
    with postgres_server.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with postgres_server.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: Engine) -> Iterator[str]:
    """One schema migrated to head for the whole session (see `reused_database_url`)."""
    schema = f"ticketing_shared_{uuid.uuid4().hex[:12]}"
    with postgres_server.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    WorkOrderStore(rendered).close()
    yield rendered
    with postgres_server.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


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
