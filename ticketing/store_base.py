"""The store's plumbing: the engine and its migrations, transactions (and who is told of them),
and the helpers every part of the store shares. The parts (`store_orders`, `store_alarms`,
`store_planning`, `store_access`, `store_analytics`, `store_outbox`) each take a `Storage`;
`ticketing.store.WorkOrderStore` puts them together."""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic.util.exc import CommandError
from sqlalchemy import ColumnElement, or_, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from devices import Equipment, Organisation, Plant
from ticketing.base import (
    Principal,
    Role,
)
from ticketing.database import READ_ONLY, create_engine_for, parse_url, upgrade
from ticketing.errors import (
    InvalidRequest,
    NotFound,
    StorageError,
)
from ticketing.lifecycle import ACTIVE, Status
from ticketing.models import (
    WorkOrderRow,
)
from ticketing.tx import Tx

log = logging.getLogger(__name__)

Actor = str | Principal
"""Who acts: a principal (from a token), or a name for a trusted caller (the CLI, a test)."""
Listener = Callable[[], None]
MAX_SHELF = timedelta(days=30)
CHANGES_CHANNEL = "forewarn_changes"
"""On PostgreSQL, every transaction that tells listeners also NOTIFYs this channel, with its
schema as the payload (`ticketing.change_feed` listens)."""
EVENT_LOOKBACK = 500
"""Audit ids re-read behind the newest one streamed: a transaction that committed after a later
one (possible on PostgreSQL) is still picked up."""


class Storage:
    """The engine (migrated to head on open), the transactions and their listeners."""

    def __init__(
        self,
        url: str,
        *,
        plant: Plant | None = None,
        organisation: Organisation | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = parse_url(url).render_as_string(hide_password=True)
        self.plant = plant
        self.organisation = organisation or (plant.organisation if plant else Organisation())
        self._clock = clock or _now
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._engine = create_engine_for(url)
        try:
            self.revision = upgrade(self._engine)
        except (SQLAlchemyError, CommandError) as exc:
            self._engine.dispose()
            reason = _reason(exc)
            raise StorageError(
                f"cannot open the work-order database {self.url}: {reason}; "
                f"{_open_hint(self._engine.dialect.name, reason)}"
            ) from exc
        self._notifies = self._engine.dialect.name == "postgresql"
        self._writes = sessionmaker(self._engine, expire_on_commit=False)
        self._reads = sessionmaker(
            self._engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def sqlite(cls, path: str | Path, **options: Any) -> Self:
        """A store in the SQLite file at `path` (created if missing; its directory must exist)."""
        return cls(f"sqlite:///{path}", **options)

    def close(self) -> None:
        """Close the connections of this store; the database keeps everything."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WorkOrderStore({self.url!r})"

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def now(self) -> datetime:
        return self._clock()

    def add_listener(self, listener: Listener) -> None:
        """Call `listener()` (from any thread) after each transaction that changed something
        worth telling: an audit event or a queued delivery. It must not block."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def listen_arguments(self) -> dict[str, Any] | None:
        """psycopg's connection arguments for a connection that LISTENs to `CHANGES_CHANNEL` on
        this database; None where nothing NOTIFYs (SQLite, or a driver other than psycopg)."""
        if self._engine.dialect.name != "postgresql" or self._engine.dialect.driver != "psycopg":
            return None
        _args, params = self._engine.dialect.create_connect_args(self._engine.url)
        return {key: value for key, value in params.items() if key != "context"}

    def ping(self) -> None:
        """Raise `StorageError` unless the database answers."""
        with self.read("reach the database") as tx:
            tx.session.execute(select(1))

    # Plumbing -------------------------------------------------------------------------------

    def equipment(self, equipment_id: str) -> Equipment:
        if self.plant is None:
            raise InvalidRequest("this store was opened without a plant; it knows no equipment")
        equipment = self.plant.equipment.get(equipment_id)
        if equipment is None:
            raise NotFound("equipment", equipment_id)
        return equipment

    def team_equipment(self, team: str | None) -> builtins.list[str]:
        if self.plant is None or team is None:
            return []
        return [eq.id for eq in self.plant if eq.team == team]

    @contextmanager
    def write(self, doing: str) -> Iterator[Tx]:
        with self._storage(doing), self._writes.begin() as session:
            tx = Tx(session, self._clock(), self.organisation, self.plant)
            yield tx
            if tx.touched and self._notifies:
                session.execute(
                    text("SELECT pg_notify(:channel, coalesce(current_schema(), ''))"),
                    {"channel": CHANGES_CHANNEL},
                )
        if tx.touched:
            self._tell_listeners()

    @contextmanager
    def read(self, doing: str) -> Iterator[Tx]:
        with self._storage(doing), self._reads.begin() as session:
            yield Tx(session, self._clock(), self.organisation, self.plant)

    def _tell_listeners(self) -> None:
        with self._listeners_lock:
            listeners = builtins.list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:
                log.exception("a work-order listener failed")

    @contextmanager
    def _storage(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StorageError(
                f"work-order database {self.url}: could not {doing}: {_reason(exc)}"
            ) from exc


ACTIVE_STATUSES = tuple(status for status in Status if status in ACTIVE)


def visible_to(principal: Principal) -> builtins.list[ColumnElement[bool]]:
    if principal.role is not Role.TECHNICIAN:
        return []
    mine = WorkOrderRow.assignee == principal.name
    if principal.team is None:
        return [mine]
    return [or_(mine, WorkOrderRow.team == principal.team)]


def as_principal(by: Actor) -> Principal:
    if isinstance(by, Principal):
        return by
    name = by.strip()
    if not name:
        raise InvalidRequest("say who does this: `by` must name a person or system")
    return Principal(name, None)


def _now() -> datetime:
    return datetime.now(UTC)


def _reason(exc: BaseException) -> str:
    """The driver's own words when there are some, on one line."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return " ".join(str(cause).split())


def _open_hint(dialect: str, reason: str) -> str:
    if dialect != "sqlite":
        return "check that the server runs and that the URL's host, user and database are right"
    if "locked" in reason:
        return "another process held its write lock too long; retry, or find what keeps it busy"
    return "check that the file's directory exists and is writable"
