"""The work-order store: findings in, one active work order per equipment and failure mode out.

Synchronous (the async pipeline calls it through `asyncio.to_thread`); every method is one
transaction on its own connection, so one store may be shared by threads, and several stores
(processes, workers on other machines) may share one database. "One active order per equipment
and failure mode" is the database's partial unique index, never a check in Python: two writers
that both find no active order both try to insert, the index lets one through, and the other
updates the order the first created.
"""

from __future__ import annotations

import builtins
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from alembic.util.exc import CommandError
from sqlalchemy import Select, select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from devices import Equipment, FailureMode, Finding
from ticketing.base import Evidence, Recorded, WorkOrderType, WorkOrderView
from ticketing.database import READ_ONLY, create_engine_for, parse_url, upgrade
from ticketing.errors import StorageError, TicketingError, WorkOrderNotFound
from ticketing.lifecycle import ACTIVE, Status, advance
from ticketing.models import WorkOrderRow
from ticketing.priority import more_pressing, priority_for

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "forewarn"
"""Who resolves an order that closes by itself when its condition clears."""
_INSERT_ATTEMPTS = 5
_ACTIVE_STATUSES = tuple(status for status in Status if status in ACTIVE)


def order_number(order_id: int) -> str:
    """The human-readable number of the order with this id: WO-000123."""
    return f"WO-{order_id:06d}"


class WorkOrderStore:
    """Work orders in SQLite (a file) or PostgreSQL; the schema is migrated to head on open.

    `url` is a SQLAlchemy URL: `sqlite:///path/to/orders.db` or
    `postgresql+psycopg://user:password@host/database`.
    """

    def __init__(self, url: str) -> None:
        self.url = parse_url(url).render_as_string(hide_password=True)
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
        self._writes = sessionmaker(self._engine, expire_on_commit=False)
        self._reads = sessionmaker(
            self._engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def sqlite(cls, path: str | Path) -> WorkOrderStore:
        """A store in the SQLite file at `path` (created if missing; its directory must exist)."""
        return cls(f"sqlite:///{path}")

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

    def record(self, finding: Finding, equipment: Equipment) -> Recorded | None:
        """Open a work order for an active finding, or update the active one of its equipment and
        failure mode; for a cleared finding, mark that order's condition inactive (and close it if
        the failure mode resolves by itself).

        Returns None for a cleared finding without an active order: there was nothing to do.
        """
        if finding.equipment_id != equipment.id:
            raise TicketingError(
                f"a finding about {finding.equipment_id!r} was recorded against equipment "
                f"{equipment.id!r}; pass the equipment the finding is about"
            )
        if not math.isfinite(finding.ts):
            raise TicketingError(
                f"a finding about {equipment.id!r} has no valid source time ({finding.ts})"
            )
        mode = equipment.failure_mode_for(finding)
        with self._storage("record a finding"), self._writes.begin() as session:
            if finding.active:
                return _record_active(session, finding, equipment, mode)
            return _record_cleared(session, finding, mode)

    def list(
        self,
        *,
        status: Status | None = None,
        equipment_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[WorkOrderView]:
        """Work orders, newest first, optionally only those of one status or equipment."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, got {offset}")
        query = select(WorkOrderRow).order_by(WorkOrderRow.id.desc()).limit(limit).offset(offset)
        if status is not None:
            query = query.where(WorkOrderRow.status == status)
        if equipment_id is not None:
            query = query.where(WorkOrderRow.equipment_id == equipment_id)
        with self._storage("list work orders"), self._reads.begin() as session:
            return [_view(row) for row in session.scalars(query)]

    def get(self, number: str) -> WorkOrderView:
        """The work order with this number; `WorkOrderNotFound` if there is none."""
        with self._storage(f"read {number}"), self._reads.begin() as session:
            return _view(_by_number(session, number))

    def acknowledge(self, number: str, *, by: str) -> WorkOrderView:
        """Mark the order seen by `by`; `InvalidTransition` unless it is open."""
        by = _actor(by)
        with self._storage(f"acknowledge {number}"), self._writes.begin() as session:
            row = _by_number(session, number, lock=True)
            row.status = advance(row.status, Status.ACKNOWLEDGED, subject=number)
            row.acknowledged_at = row.updated_at = _now()
            row.acknowledged_by = by
            return _view(row)

    def resolve(self, number: str, *, by: str, note: str = "") -> WorkOrderView:
        """Close the order from any active status; `InvalidTransition` if it is closed or
        cancelled already."""
        by = _actor(by)
        with self._storage(f"resolve {number}"), self._writes.begin() as session:
            row = _by_number(session, number, lock=True)
            _close(row, by=by, note=note, now=_now())
            return _view(row)

    def ping(self) -> None:
        """Raise `StorageError` unless the database answers."""
        with self._storage("reach the database"), self._reads.begin() as session:
            session.execute(select(1))

    @contextmanager
    def _storage(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StorageError(
                f"work-order database {self.url}: could not {doing}: {_reason(exc)}"
            ) from exc


def _record_active(
    session: Session, finding: Finding, equipment: Equipment, mode: FailureMode
) -> Recorded:
    lost_races = 0
    while True:
        row = session.scalars(_active(equipment.id, mode.code).with_for_update()).first()
        if row is not None:
            _update(row, finding, equipment)
            return Recorded(_view(row), created=False)
        row = _new(finding, equipment, mode)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
                row.number = order_number(row.id)
                session.flush()
        except IntegrityError as exc:
            lost_races += 1
            if lost_races == _INSERT_ATTEMPTS:
                raise StorageError(
                    f"could not open or update the {mode.code} work order of {equipment.id} "
                    f"in {_INSERT_ATTEMPTS} attempts: {_reason(exc)}"
                ) from exc
            log.debug(
                "another writer opened the %s order of %s first; updating it",
                mode.code,
                equipment.id,
            )
            continue
        return Recorded(_view(row), created=True)


def _record_cleared(session: Session, finding: Finding, mode: FailureMode) -> Recorded | None:
    row = session.scalars(_active(finding.equipment_id, mode.code).with_for_update()).first()
    if row is None:
        return None
    now = _now()
    row.condition_active = False
    row.updated_at = now
    if mode.auto_resolve:
        _close(row, by=SYSTEM_ACTOR, note="condition cleared", now=now)
        log.info(
            "closed %s: the %s condition of %s cleared", row.number, mode.code, row.equipment_id
        )
    return Recorded(_view(row), created=False)


def _new(finding: Finding, equipment: Equipment, mode: FailureMode) -> WorkOrderRow:
    now = _now()
    seen = _utc(finding.ts)
    return WorkOrderRow(
        equipment_id=equipment.id,
        equipment_path=equipment.path,
        equipment_type=equipment.type,
        team=equipment.team,
        failure_mode_code=mode.code,
        failure_mode_name=mode.name,
        mechanism=mode.mechanism,
        type=WorkOrderType.PREDICTIVE,
        priority=priority_for(finding.severity, equipment.criticality, finding.time_to_limit),
        severity=finding.severity,
        status=Status.OPEN,
        title=f"{mode.name} on {equipment.name}",
        instructions="\n".join(mode.checks),
        evidence=Evidence.of(finding).to_json(),
        finding_count=1,
        first_seen=seen,
        last_seen=seen,
        condition_active=True,
        due_at=_due(finding),
        created_at=now,
        updated_at=now,
        resolution_note="",
    )


def _update(row: WorkOrderRow, finding: Finding, equipment: Equipment) -> None:
    """Fold a repeated finding into its active order: counts, times and severity only grow,
    priority only rises, the due date only comes earlier; evidence is the latest finding's."""
    seen = _utc(finding.ts)
    row.finding_count += 1
    if seen >= row.last_seen:
        row.last_seen = seen
        row.evidence = Evidence.of(finding).to_json()
    row.first_seen = min(row.first_seen, seen)
    row.severity = max(row.severity, finding.severity)
    row.priority = more_pressing(
        row.priority, priority_for(row.severity, equipment.criticality, finding.time_to_limit)
    )
    due = _due(finding)
    if due is not None and (row.due_at is None or due < row.due_at):
        row.due_at = due
    row.condition_active = True
    row.updated_at = _now()


def _close(row: WorkOrderRow, *, by: str, note: str, now: datetime) -> None:
    row.status = advance(row.status, Status.CLOSED, subject=row.number or "the work order")
    row.resolved_at = row.updated_at = now
    row.resolved_by = by
    row.resolution_note = note


def _active(equipment_id: str, mode_code: str) -> Select[WorkOrderRow]:
    return select(WorkOrderRow).where(
        WorkOrderRow.equipment_id == equipment_id,
        WorkOrderRow.failure_mode_code == mode_code,
        WorkOrderRow.status.in_(_ACTIVE_STATUSES),
    )


def _by_number(session: Session, number: str, *, lock: bool = False) -> WorkOrderRow:
    query = select(WorkOrderRow).where(WorkOrderRow.number == number)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise WorkOrderNotFound(number)
    return row


def _view(row: WorkOrderRow) -> WorkOrderView:
    if row.number is None:
        raise StorageError(f"work order id {row.id} has no number; the row was written outside")
    return WorkOrderView(
        id=row.id,
        number=row.number,
        equipment_id=row.equipment_id,
        equipment_path=row.equipment_path,
        equipment_type=row.equipment_type,
        team=row.team,
        failure_mode_code=row.failure_mode_code,
        failure_mode_name=row.failure_mode_name,
        mechanism=row.mechanism,
        type=row.type,
        priority=row.priority,
        severity=row.severity,
        status=row.status,
        title=row.title,
        instructions=tuple(row.instructions.splitlines()),
        evidence=Evidence.from_json(row.evidence),
        finding_count=row.finding_count,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        condition_active=row.condition_active,
        due_at=row.due_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note,
    )


def _actor(by: str) -> str:
    by = by.strip()
    if not by:
        raise ValueError("say who does this: `by` must name a person or system")
    return by


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _due(finding: Finding) -> datetime | None:
    """When the finding's signal is predicted to reach its alarm limit, if it is heading there."""
    ttl = finding.time_to_limit
    if ttl is None or not math.isfinite(ttl) or ttl < 0:
        return None
    try:
        return _utc(finding.ts + ttl)
    except (OverflowError, OSError, ValueError):
        return None


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
