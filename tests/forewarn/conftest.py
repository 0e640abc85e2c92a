"""Fixtures of the forewarn tests: a PostgreSQL schema of a test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

POSTGRES_URL = os.environ.get(
    "FOREWARN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections work in a fresh schema of this test's own, dropped after it
    (as tests/ticketing/conftest.py's `postgres_url`); skips without the server, or fails with
    FOREWARN_REQUIRE_POSTGRES=1."""
    server: Engine = create_engine(POSTGRES_URL)
    try:
        with server.connect():
            pass
    except OperationalError as exc:
        server.dispose()
        reason = f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is unreachable"
        why = " ".join(str(exc.orig).split())
        if os.environ.get("FOREWARN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} ({why}; FOREWARN_REQUIRE_POSTGRES=1 makes this a failure)")
        pytest.skip(f"{reason} ({why}); start it or point FOREWARN_TEST_POSTGRES_URL at one")
    schema = f"forewarn_test_{uuid.uuid4().hex[:12]}"
    with server.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with server.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    server.dispose()
