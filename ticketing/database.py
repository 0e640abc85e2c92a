"""Engines for the work-order database, and its schema migrations.

SQLite (a file) is the default and PostgreSQL the production store. On SQLite every connection
runs in WAL mode with foreign keys on and a busy timeout, and a writing transaction begins
IMMEDIATE: it takes the write lock up front, so two writers queue instead of deadlocking on a
read lock each wants to upgrade (SQLAlchemy's pysqlite "Transactions" recipe). Reading
transactions (`READ_ONLY`) begin DEFERRED so that, in WAL mode, they never wait for a writer.

Migrations are Alembic revisions shipped in `ticketing/migrations/`, applied by `upgrade` with a
configuration built in code (no alembic.ini). To write a new revision, bring a database to head
and autogenerate against it::

    with engine.begin() as connection:
        alembic.command.revision(alembic_config(connection), message="...", autogenerate=True)
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ticketing.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "ticketing_read_only"
"""Execution option: this connection's transactions only read (SQLite begins them DEFERRED)."""
SQLITE_BUSY_TIMEOUT_MS = 30_000
_MIGRATION_LOCK = 0x666F7265  # "fore": PostgreSQL advisory lock taken while migrating


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL of a supported database, or `StorageError` saying what to write."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"{url!r} is not a database URL; write sqlite:///path/to/orders.db or "
            "postgresql+psycopg://user@host/database"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise StorageError(
            f"unsupported database {backend!r} in {parsed.render_as_string()}; "
            "use SQLite (sqlite:///path/to/orders.db) or PostgreSQL (postgresql+psycopg://...)"
        )
    if backend == "sqlite" and parsed.database in {None, "", ":memory:"}:
        raise StorageError(
            "an in-memory SQLite database cannot be shared between connections; "
            "give a file: sqlite:///path/to/orders.db"
        )
    return parsed


def create_engine_for(url: str) -> Engine:
    """An engine for `url`, configured for safe concurrent writers (see the module docstring)."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed)
            _configure_sqlite(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StorageError(
            f"cannot use {parsed.render_as_string()}: {exc}; for PostgreSQL install psycopg 3 "
            "and write postgresql+psycopg://"
        ) from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enter_wal_mode(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def _enter_wal_mode(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (it stays so). Several processes opening a new file at once can
    make the switch fail with "database is locked" without SQLite's busy handler ever waiting,
    so wait here, up to the busy timeout, for whoever holds the lock."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs the shipped migrations on `connection`."""
    config = _config()
    config.attributes["connection"] = connection
    return config


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to the newest revision, in one transaction; returns that revision.

    Safe when several processes open the same database at once: SQLite's IMMEDIATE begin and, on
    PostgreSQL, an advisory lock make them take turns, and the later ones find nothing to do.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        before = current_revision(connection)
        command.upgrade(alembic_config(connection), "head")
        after = current_revision(connection)
    if after != before:
        log.info("work-order database migrated from %s to %s", before or "empty", after)
    return after


def current_revision(connection: Connection) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of forewarn."""
    return ScriptDirectory.from_config(_config()).get_current_head()
