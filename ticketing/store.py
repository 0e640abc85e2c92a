"""The work-order store: findings in, one active work order per equipment and failure mode out,
and everything people and integrations do with them.

Synchronous (the async pipeline and workers call it through `asyncio.to_thread`); every method is
one transaction on its own connection, so one store may be shared by threads, and several stores
(processes, workers on other machines) may share one database. The rules live in modules named
for them (`recording`, `workflow`, `escalation`, `outbox`, `suppression`, `access`,
`analytics`); this class opens the transactions and hands out frozen records.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic.util.exc import CommandError
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from devices import Equipment, Finding, Organisation, Plant, Severity
from ticketing import access, analytics, escalation, outbox, recording, views, workflow
from ticketing.audit import record as audit_record
from ticketing.base import (
    SYSTEM,
    AlarmView,
    AuditEvent,
    Comment,
    DeliveryView,
    Event,
    FindingView,
    IssuedToken,
    Outcome,
    Principal,
    Recorded,
    Recurrence,
    Role,
    Shelf,
    TokenView,
    WebhookView,
    Window,
    WorkOrderType,
    WorkOrderView,
)
from ticketing.database import READ_ONLY, create_engine_for, parse_url, upgrade
from ticketing.errors import (
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    StorageError,
    TicketingError,
)
from ticketing.lifecycle import ACTIVE, Status
from ticketing.models import (
    AlarmRow,
    AuditRow,
    CommentRow,
    FindingRow,
    OutboxRow,
    SensitivityRow,
    ShelfRow,
    TokenRow,
    WebhookRow,
    WindowRow,
    WorkOrderRow,
)
from ticketing.priority import Priority
from ticketing.recording import Report, order_number
from ticketing.suppression import covers
from ticketing.tx import Tx

__all__ = ["WorkOrderStore", "order_number"]

log = logging.getLogger(__name__)

Actor = str | Principal
"""Who acts: a principal (from a token), or a name for a trusted caller (the CLI, a test)."""
Listener = Callable[[], None]
SORTS = {
    "created_at": WorkOrderRow.id,
    "updated_at": WorkOrderRow.updated_at,
    "due_at": WorkOrderRow.due_at,
    "priority": case({p.value: p.rank for p in Priority}, value=WorkOrderRow.priority),
    "status": WorkOrderRow.status,
    "number": WorkOrderRow.id,
    "equipment": WorkOrderRow.equipment_id,
    "severity": case(
        {"warning": 1, "alarm": 2, "critical": 3}, value=WorkOrderRow.severity, else_=0
    ),
}
"""What `list(sort=...)` orders by; a leading '-' reverses."""
MAX_SHELF = timedelta(days=30)
EVENT_LOOKBACK = 500
"""Audit ids re-read behind the newest one streamed: a transaction that committed after a later
one (possible on PostgreSQL) is still picked up."""


class WorkOrderStore:
    """Work orders in SQLite (a file) or PostgreSQL; the schema is migrated to head on open.

    `url` is a SQLAlchemy URL: `sqlite:///path/to/orders.db` or
    `postgresql+psycopg://user:password@host/database`. `plant` gives the organisation (teams,
    people, escalation, service levels, automatic actions) and the equipment people report on;
    `clock` returns the current time (UTC) and exists for tests of deadlines.
    """

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
        self._writes = sessionmaker(self._engine, expire_on_commit=False)
        self._reads = sessionmaker(
            self._engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def sqlite(cls, path: str | Path, **options: Any) -> WorkOrderStore:
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

    # Findings and reports --------------------------------------------------------------------

    def record(self, finding: Finding, equipment: Equipment) -> Recorded | None:
        """Record a finding: raise, update or clear its alarm; open a work order for an active
        finding (unless a maintenance window, a shelf or feedback suppresses it), or update the
        active one of its equipment and failure mode; for a cleared finding, mark that order's
        condition inactive (and close it if the failure mode resolves by itself).

        Returns None when no order was opened or touched (suppressed, or a cleared finding
        without an active order).
        """
        if finding.equipment_id != equipment.id:
            raise TicketingError(
                f"a finding about {finding.equipment_id!r} was recorded against equipment "
                f"{equipment.id!r}; pass the equipment the finding is about"
            )
        if not _finite_ts(finding.ts):
            raise TicketingError(
                f"a finding about {equipment.id!r} has no valid source time ({finding.ts})"
            )
        with self._write("record a finding") as tx:
            return recording.record_finding(tx, finding, equipment)

    def report(
        self,
        equipment_id: str,
        *,
        description: str,
        by: Actor,
        failure_mode: str | None = None,
        severity: Severity = Severity.WARNING,
    ) -> Recorded:
        """A corrective order a person reports (e.g. after scanning a machine's label): the same
        dedup (a report on an active order of that equipment and failure mode updates it),
        assignment and escalation as a detector's."""
        equipment = self._equipment(equipment_id)
        description = description.strip()
        if not description:
            raise InvalidRequest("describe the problem: what did you see, hear or measure?")
        mode = next((m for m in equipment.failure_modes if m.code == failure_mode), None)
        if failure_mode is None:
            from devices.plant import OTHER

            mode = OTHER
        elif mode is None:
            known = ", ".join(m.code for m in equipment.failure_modes) or "none"
            raise InvalidRequest(
                f"{equipment_id} ({equipment.type}) has no failure mode {failure_mode!r}; "
                f"its failure modes: {known} (or leave it out for 'other')"
            )
        problem = Report(description, severity, _principal(by))
        with self._write(f"report a problem on {equipment_id}") as tx:
            return recording.report(tx, equipment, mode, problem)

    # Work orders ----------------------------------------------------------------------------

    def list(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        equipment_id: str | None = None,
        team: str | None = None,
        assignee: str | None = None,
        priority: Priority | Iterable[Priority] | None = None,
        type: WorkOrderType | None = None,
        failure_mode: str | None = None,
        active: bool | None = None,
        text: str | None = None,
        sort: str = "-created_at",
        limit: int = 100,
        offset: int = 0,
        principal: Principal = SYSTEM,
    ) -> builtins.list[WorkOrderView]:
        """Work orders, newest first unless `sort` says otherwise (a field of `SORTS`, '-' for
        descending), filtered; a technician sees only their own and their team's."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, got {offset}")
        descending = sort.startswith("-")
        key = SORTS.get(sort.lstrip("-"))
        if key is None:
            raise InvalidRequest(
                f"cannot sort by {sort!r}; sort by one of {', '.join(SORTS)} ('-' first to reverse)"
            )
        where = _filters(
            status, equipment_id, team, assignee, priority, type, failure_mode, active, text
        )
        where += _visible(principal)
        order = key.desc() if descending else key.asc()
        tiebreak = WorkOrderRow.id.desc() if descending else WorkOrderRow.id.asc()
        query = select(WorkOrderRow).where(*where).order_by(order, tiebreak)
        with self._read("list work orders") as tx:
            rows = tx.session.scalars(query.limit(limit).offset(offset))
            return [views.order(row) for row in rows]

    def count(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        equipment_id: str | None = None,
        team: str | None = None,
        assignee: str | None = None,
        priority: Priority | Iterable[Priority] | None = None,
        type: WorkOrderType | None = None,
        failure_mode: str | None = None,
        active: bool | None = None,
        text: str | None = None,
        principal: Principal = SYSTEM,
    ) -> int:
        """How many orders `list` with the same filters would page through."""
        where = _filters(
            status, equipment_id, team, assignee, priority, type, failure_mode, active, text
        )
        where += _visible(principal)
        with self._read("count work orders") as tx:
            return int(tx.session.scalar(select(func.count(WorkOrderRow.id)).where(*where)) or 0)

    def get(self, number: str, *, principal: Principal = SYSTEM) -> WorkOrderView:
        """The work order with this number; `WorkOrderNotFound` if there is none."""
        with self._read(f"read {number}") as tx:
            return views.order(workflow.load(tx, principal, number))

    def comments(self, number: str, *, principal: Principal = SYSTEM) -> builtins.list[Comment]:
        with self._read(f"read the comments of {number}") as tx:
            row = workflow.load(tx, principal, number)
            query = select(CommentRow).where(CommentRow.work_order_id == row.id)
            return [
                views.comment(c, number) for c in tx.session.scalars(query.order_by(CommentRow.id))
            ]

    def history(self, number: str, *, principal: Principal = SYSTEM) -> builtins.list[AuditEvent]:
        """The audit trail of one order, oldest first."""
        with self._read(f"read the history of {number}") as tx:
            row = workflow.load(tx, principal, number)
            query = select(AuditRow).where(AuditRow.work_order_id == row.id)
            return [
                views.audit_event(a, number)
                for a in tx.session.scalars(query.order_by(AuditRow.id))
            ]

    def findings(self, number: str, *, principal: Principal = SYSTEM) -> builtins.list[FindingView]:
        """The findings recorded on one order, oldest first."""
        with self._read(f"read the findings of {number}") as tx:
            row = workflow.load(tx, principal, number)
            query = select(FindingRow).where(FindingRow.work_order_id == row.id)
            return [views.finding(f) for f in tx.session.scalars(query.order_by(FindingRow.id))]

    def acknowledge(self, number: str, *, by: Actor, note: str = "") -> WorkOrderView:
        """Mark the order seen (escalation stops); `InvalidTransition` unless it is open."""
        return self._act(
            number, "acknowledge", lambda tx, p: workflow.acknowledge(tx, p, number, note), by
        )

    def assign(
        self, number: str, *, assignee: str | None, by: Actor, team: str | None = None
    ) -> WorkOrderView:
        """Give the order to `assignee` (None: to the team), optionally moving it to `team`."""
        return self._act(
            number,
            "assign",
            lambda tx, p: workflow.assign(tx, p, number, assignee=assignee, team=team),
            by,
        )

    def start(self, number: str, *, by: Actor, note: str = "") -> WorkOrderView:
        return self._act(number, "start", lambda tx, p: workflow.start(tx, p, number, note), by)

    def hold(self, number: str, *, by: Actor, reason: str) -> WorkOrderView:
        return self._act(
            number, "put on hold", lambda tx, p: workflow.hold(tx, p, number, reason), by
        )

    def done(self, number: str, *, by: Actor, note: str = "") -> WorkOrderView:
        return self._act(number, "finish", lambda tx, p: workflow.done(tx, p, number, note), by)

    def close_order(
        self,
        number: str,
        *,
        by: Actor,
        outcome: Outcome | None = None,
        failure_mode: str | None = None,
        mechanism: str | None = None,
        cause: str | None = None,
        note: str = "",
    ) -> WorkOrderView:
        """Close from any active status, with the failure mode, mechanism and cause found and
        whether the finding was confirmed or a false alarm."""
        return self._act(
            number,
            "close",
            lambda tx, p: workflow.close(
                tx,
                p,
                number,
                outcome=outcome,
                failure_mode=failure_mode,
                mechanism=mechanism,
                cause=cause,
                note=note,
            ),
            by,
        )

    def resolve(self, number: str, *, by: Actor, note: str = "") -> WorkOrderView:
        """Close the order from any active status; `InvalidTransition` if it is closed or
        cancelled already."""
        return self.close_order(number, by=by, note=note)

    def cancel(self, number: str, *, by: Actor, reason: str) -> WorkOrderView:
        return self._act(number, "cancel", lambda tx, p: workflow.cancel(tx, p, number, reason), by)

    def comment(self, number: str, *, by: Actor, body: str) -> Comment:
        with self._write(f"comment on {number}") as tx:
            return views.comment(workflow.comment(tx, _principal(by), number, body), number)

    def _act(
        self,
        number: str,
        doing: str,
        action: Callable[[Tx, Principal], WorkOrderRow],
        by: Actor,
    ) -> WorkOrderView:
        with self._write(f"{doing} {number}") as tx:
            return views.order(action(tx, _principal(by)))

    # Alarms and equipment -------------------------------------------------------------------

    def alarms(
        self,
        *,
        active: bool | None = None,
        acknowledged: bool | None = None,
        equipment_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        principal: Principal = SYSTEM,
    ) -> builtins.list[AlarmView]:
        """Alarms, newest first; a technician sees those of their team's equipment."""
        query = select(AlarmRow, WorkOrderRow.number).outerjoin(
            WorkOrderRow, WorkOrderRow.id == AlarmRow.work_order_id
        )
        if active is not None:
            query = query.where(AlarmRow.active.is_(active))
        if acknowledged is not None:
            query = query.where(AlarmRow.acknowledged.is_(acknowledged))
        if equipment_id is not None:
            query = query.where(AlarmRow.equipment_id == equipment_id)
        if principal.role is Role.TECHNICIAN:
            query = query.where(AlarmRow.equipment_id.in_(self._team_equipment(principal.team)))
        query = query.order_by(AlarmRow.id.desc()).limit(limit).offset(offset)
        with self._read("list alarms") as tx:
            return [views.alarm(row, number) for row, number in tx.session.execute(query)]

    def acknowledge_alarm(self, alarm_id: int, *, by: Actor) -> AlarmView:
        with self._write(f"acknowledge alarm {alarm_id}") as tx:
            row = workflow.acknowledge_alarm(tx, _principal(by), alarm_id)
            order = tx.session.get(WorkOrderRow, row.work_order_id) if row.work_order_id else None
            return views.alarm(row, order.number if order is not None else None)

    def equipment_health(self) -> dict[str, dict[str, Any]]:
        """Per equipment with anything active: active alarms, their worst severity, active
        orders and the most pressing of their priorities."""
        health: dict[str, dict[str, Any]] = {}
        severity_rank = case(
            {"warning": 1, "alarm": 2, "critical": 3}, value=AlarmRow.severity, else_=0
        )
        priority_rank = case({p.value: p.rank for p in Priority}, value=WorkOrderRow.priority)
        with self._read("read equipment health") as tx:
            alarms = tx.session.execute(
                select(AlarmRow.equipment_id, func.count(), func.max(severity_rank))
                .where(AlarmRow.active)
                .group_by(AlarmRow.equipment_id)
            )
            for equipment_id, count, worst in alarms:
                health.setdefault(equipment_id, {})
                health[equipment_id]["active_alarms"] = count
                health[equipment_id]["worst_severity"] = Severity(worst).label if worst else None
            orders = tx.session.execute(
                select(WorkOrderRow.equipment_id, func.count(), func.min(priority_rank))
                .where(WorkOrderRow.status.in_(_ACTIVE_STATUSES))
                .group_by(WorkOrderRow.equipment_id)
            )
            for equipment_id, count, best in orders:
                health.setdefault(equipment_id, {})
                health[equipment_id]["active_orders"] = count
                health[equipment_id]["top_priority"] = list(Priority)[best].value
        return health

    # Maintenance windows and shelves --------------------------------------------------------

    def add_window(
        self,
        target: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        by: Actor,
        recurrence: Recurrence = Recurrence.NONE,
        timezone: str | None = None,
        until: datetime | None = None,
    ) -> Window:
        """A maintenance window over `target`, an ISA-95 path (site, site/area, site/area/line,
        or site/area/line/equipment), once or recurring at the same local time."""
        principal = _principal(by)
        access.require(principal, Role.PLANNER, "schedule maintenance windows")
        target = target.strip().strip("/")
        reason = reason.strip()
        if not reason:
            raise InvalidRequest("say why: the reason is shown on every finding the window hides")
        if ends_at <= starts_at:
            raise InvalidRequest("a window must end after it starts")
        if recurrence is Recurrence.DAILY and ends_at - starts_at > timedelta(days=1):
            raise InvalidRequest("a daily window lasts at most a day")
        if recurrence is Recurrence.WEEKLY and ends_at - starts_at > timedelta(days=7):
            raise InvalidRequest("a weekly window lasts at most a week")
        self._check_target(target)
        zone = timezone or self.organisation.timezone
        _check_zone(zone)
        with self._write("add a maintenance window") as tx:
            row = WindowRow(
                target=target,
                reason=reason,
                starts_at=starts_at,
                ends_at=ends_at,
                recurrence=recurrence,
                timezone=zone,
                until=until,
                created_at=tx.now,
                created_by=principal.name,
            )
            tx.session.add(row)
            tx.session.flush()
            audit_record(
                tx,
                principal,
                "scheduled",
                entity="maintenance_window",
                entity_id=str(row.id),
                after={
                    "target": target,
                    "starts_at": starts_at.isoformat(),
                    "ends_at": ends_at.isoformat(),
                    "recurrence": recurrence.value,
                },
                note=reason,
            )
            return views.window(row)

    def windows(self, *, include_cancelled: bool = False) -> builtins.list[Window]:
        query = select(WindowRow).order_by(WindowRow.starts_at.desc())
        if not include_cancelled:
            query = query.where(WindowRow.cancelled_at.is_(None))
        with self._read("list maintenance windows") as tx:
            return [views.window(row) for row in tx.session.scalars(query)]

    def cancel_window(self, window_id: int, *, by: Actor) -> Window:
        principal = _principal(by)
        access.require(principal, Role.PLANNER, "cancel maintenance windows")
        with self._write(f"cancel window {window_id}") as tx:
            row = tx.session.get(WindowRow, window_id, with_for_update=True)
            if row is None:
                raise NotFound("maintenance window", window_id)
            if row.cancelled_at is None:
                row.cancelled_at = tx.now
                audit_record(
                    tx, principal, "cancelled", entity="maintenance_window", entity_id=str(row.id)
                )
            return views.window(row)

    def shelve(
        self,
        equipment_id: str,
        *,
        reason: str,
        expires_at: datetime,
        by: Actor,
        failure_mode: str | None = None,
    ) -> Shelf:
        """Shelve the alarms of an equipment (one failure mode, or all) until `expires_at`
        (at most 30 days ahead): their findings are recorded but open no order."""
        principal = _principal(by)
        access.require(principal, Role.PLANNER, "shelve alarms")
        reason = reason.strip()
        if not reason:
            raise InvalidRequest("say why the alarm is shelved")
        if self.plant is not None:
            self._equipment(equipment_id)
        with self._write(f"shelve {equipment_id}") as tx:
            if expires_at <= tx.now:
                raise InvalidRequest("a shelf must expire in the future")
            if expires_at - tx.now > MAX_SHELF:
                raise InvalidRequest(
                    f"shelve for at most {MAX_SHELF.days} days; use a maintenance window for "
                    "longer planned work"
                )
            row = ShelfRow(
                equipment_id=equipment_id,
                failure_mode_code=failure_mode,
                reason=reason,
                created_at=tx.now,
                created_by=principal.name,
                expires_at=expires_at,
            )
            tx.session.add(row)
            tx.session.flush()
            audit_record(
                tx,
                principal,
                "shelved",
                entity="shelf",
                entity_id=str(row.id),
                after={
                    "equipment": equipment_id,
                    "failure_mode": failure_mode,
                    "expires_at": expires_at.isoformat(),
                },
                note=reason,
            )
            return views.shelf(row)

    def shelves(self, *, include_expired: bool = False) -> builtins.list[Shelf]:
        with self._read("list shelves") as tx:
            query = select(ShelfRow).order_by(ShelfRow.id.desc())
            if not include_expired:
                query = query.where(ShelfRow.cancelled_at.is_(None), ShelfRow.expires_at > tx.now)
            return [views.shelf(row) for row in tx.session.scalars(query)]

    def unshelve(self, shelf_id: int, *, by: Actor) -> Shelf:
        principal = _principal(by)
        access.require(principal, Role.PLANNER, "unshelve alarms")
        with self._write(f"unshelve {shelf_id}") as tx:
            row = tx.session.get(ShelfRow, shelf_id, with_for_update=True)
            if row is None:
                raise NotFound("shelf", shelf_id)
            if row.cancelled_at is None:
                row.cancelled_at = tx.now
                audit_record(tx, principal, "unshelved", entity="shelf", entity_id=str(row.id))
            return views.shelf(row)

    # Audit and events -----------------------------------------------------------------------

    def audit_log(
        self,
        *,
        entity: str | None = None,
        action: str | None = None,
        after_id: int = 0,
        limit: int = 100,
        descending: bool = True,
    ) -> builtins.list[AuditEvent]:
        """The plant-wide audit trail."""
        query = select(AuditRow, WorkOrderRow.number).outerjoin(
            WorkOrderRow, WorkOrderRow.id == AuditRow.work_order_id
        )
        if entity is not None:
            query = query.where(AuditRow.entity == entity)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if after_id:
            query = query.where(AuditRow.id > after_id)
        query = query.order_by(AuditRow.id.desc() if descending else AuditRow.id).limit(limit)
        with self._read("read the audit trail") as tx:
            return [views.audit_event(row, n) for row, n in tx.session.execute(query)]

    def events_after(
        self,
        after_id: int,
        *,
        principal: Principal = SYSTEM,
        exclude: Collection[int] = (),
        limit: int = 200,
    ) -> builtins.list[tuple[AuditEvent, WorkOrderView]]:
        """Work-order changes with an audit id above `after_id` and not in `exclude`, oldest
        first, each with the order as it is now (only those the principal may see).

        Ids are allocated when a transaction writes but become visible when it commits, which on
        PostgreSQL may be out of order: a reader that follows the trail asks again from a little
        behind the newest id it has seen (`EVENT_LOOKBACK`), excluding the ids it has."""
        query = (
            select(AuditRow, WorkOrderRow)
            .join(WorkOrderRow, WorkOrderRow.id == AuditRow.work_order_id)
            .where(AuditRow.id > after_id, *_visible(principal))
            .order_by(AuditRow.id)
            .limit(limit + len(exclude))
        )
        with self._read("read work-order events") as tx:
            rows = tx.session.execute(query)
            out = [
                (views.audit_event(event, row.number), views.order(row))
                for event, row in rows
                if event.id not in exclude
            ]
            return out[:limit]

    def last_event_id(self) -> int:
        with self._read("read the audit trail") as tx:
            return int(tx.session.scalar(select(func.max(AuditRow.id))) or 0)

    # Tokens ---------------------------------------------------------------------------------

    def create_token(
        self,
        name: str,
        role: Role,
        *,
        team: str | None = None,
        expires_at: datetime | None = None,
        by: Actor = "cli",
    ) -> IssuedToken:
        """A new API token; its secret is in the result and nowhere else."""
        principal = _principal(by)
        access.require(principal, Role.ADMIN, "create tokens")
        name = name.strip()
        if not name:
            raise InvalidRequest("name who the token is for (a technician's id, a person)")
        team = access.token_team(self.organisation, name, role, team)
        secret = access.new_secret()
        with self._write("create a token") as tx:
            if expires_at is not None and expires_at <= tx.now:
                raise InvalidRequest("the token would be expired already; give a future expiry")
            row = TokenRow(
                name=name,
                role=role,
                team=team,
                token_hash=access.digest(secret),
                prefix=secret[:10],
                created_at=tx.now,
                created_by=principal.name,
                expires_at=expires_at,
            )
            tx.session.add(row)
            tx.session.flush()
            audit_record(
                tx,
                principal,
                "created",
                entity="token",
                entity_id=str(row.id),
                after={"name": name, "role": role.value, "team": team},
            )
            return IssuedToken(views.token(row), secret)

    def authenticate(self, secret: str) -> Principal:
        """The principal a bearer token stands for; `NotAuthenticated` if it is unknown,
        revoked or expired."""
        if not secret.startswith(access.TOKEN_PREFIX) or len(secret) > 200:
            raise NotAuthenticated(
                f"not a forewarn token (they start with {access.TOKEN_PREFIX}); "
                "create one with `forewarn tokens create`"
            )
        with self._read("check a token") as tx:
            row = access.find_token(tx.session, secret)
            if row is None:
                raise NotAuthenticated("unknown token; create one with `forewarn tokens create`")
            principal = access.principal_of(row, tx.now)
            stale = (
                row.last_used_at is None
                or (tx.now - row.last_used_at).total_seconds() > access.LAST_USED_RESOLUTION
            )
        if stale:
            with self._write("note a token's use") as tx:
                used = tx.session.get(TokenRow, row.id)
                if used is not None:
                    used.last_used_at = tx.now
        return principal

    def tokens(self) -> builtins.list[TokenView]:
        with self._read("list tokens") as tx:
            return [
                views.token(row)
                for row in tx.session.scalars(select(TokenRow).order_by(TokenRow.id))
            ]

    def revoke_token(self, token: int | str, *, by: Actor = "cli") -> TokenView:
        """Revoke a token by id or by the prefix shown when it was listed."""
        principal = _principal(by)
        access.require(principal, Role.ADMIN, "revoke tokens")
        with self._write(f"revoke token {token}") as tx:
            if isinstance(token, int):
                row = tx.session.get(TokenRow, token, with_for_update=True)
            else:
                rows = tx.session.scalars(
                    select(TokenRow).where(TokenRow.prefix.startswith(token, autoescape=True))
                ).all()
                if len(rows) > 1:
                    raise InvalidRequest(f"{token!r} matches {len(rows)} tokens; give the id")
                row = rows[0] if rows else None
            if row is None:
                raise NotFound("token", token)
            if row.revoked_at is None:
                row.revoked_at = tx.now
                audit_record(
                    tx,
                    principal,
                    "revoked",
                    entity="token",
                    entity_id=str(row.id),
                    after={"name": row.name, "role": row.role.value},
                )
            return views.token(row)

    # Webhooks and deliveries ----------------------------------------------------------------

    def add_webhook(
        self,
        name: str,
        url: str,
        *,
        by: Actor,
        events: Iterable[Event] = tuple(Event),
        secret: str | None = None,
    ) -> tuple[WebhookView, str]:
        """Send work-order events to `url`, signed with `secret` (generated when not given);
        returns the webhook and the secret, shown this once."""
        principal = _principal(by)
        access.require(principal, Role.ADMIN, "configure webhooks")
        secret = secret or access.new_secret().removeprefix(access.TOKEN_PREFIX)
        chosen = sorted({Event(e).value for e in events})
        if not chosen:
            raise InvalidRequest(
                f"subscribe to at least one event: {', '.join(e.value for e in Event)}"
            )
        with self._write(f"add webhook {name}") as tx:
            row = WebhookRow(
                name=name,
                url=url,
                secret=secret,
                events=chosen,
                active=True,
                created_at=tx.now,
                created_by=principal.name,
            )
            try:
                with tx.session.begin_nested():
                    tx.session.add(row)
                    tx.session.flush()
            except IntegrityError as exc:
                raise InvalidRequest(
                    f"a webhook named {name!r} exists; choose another name"
                ) from exc
            audit_record(
                tx,
                principal,
                "created",
                entity="webhook",
                entity_id=str(row.id),
                after={"name": name, "url": url, "events": chosen},
            )
            return views.webhook(row), secret

    def webhooks(self) -> builtins.list[WebhookView]:
        with self._read("list webhooks") as tx:
            return [
                views.webhook(r)
                for r in tx.session.scalars(select(WebhookRow).order_by(WebhookRow.id))
            ]

    def remove_webhook(self, webhook_id: int, *, by: Actor) -> WebhookView:
        """Stop sending to a webhook (its pending deliveries wait until it is re-added)."""
        principal = _principal(by)
        access.require(principal, Role.ADMIN, "configure webhooks")
        with self._write(f"remove webhook {webhook_id}") as tx:
            row = tx.session.get(WebhookRow, webhook_id, with_for_update=True)
            if row is None:
                raise NotFound("webhook", webhook_id)
            if row.active:
                row.active = False
                audit_record(
                    tx,
                    principal,
                    "disabled",
                    entity="webhook",
                    entity_id=str(row.id),
                    before={"active": True},
                    after={"active": False},
                )
            return views.webhook(row)

    def deliveries(
        self, *, state: str | None = None, work_order: str | None = None, limit: int = 100
    ) -> builtins.list[DeliveryView]:
        query = select(OutboxRow, WorkOrderRow.number).outerjoin(
            WorkOrderRow, WorkOrderRow.id == OutboxRow.work_order_id
        )
        if state is not None:
            query = query.where(OutboxRow.state == state)
        if work_order is not None:
            query = query.where(WorkOrderRow.number == work_order)
        query = query.order_by(OutboxRow.id.desc()).limit(limit)
        with self._read("list deliveries") as tx:
            return [views.delivery(row, n) for row, n in tx.session.execute(query)]

    def retry_delivery(self, delivery_id: int, *, by: Actor) -> None:
        principal = _principal(by)
        access.require(principal, Role.ADMIN, "retry deliveries")
        with self._write(f"retry delivery {delivery_id}") as tx:
            if not outbox.retry(tx, delivery_id):
                raise NotFound("undelivered delivery", delivery_id)
            audit_record(tx, principal, "retried", entity="delivery", entity_id=str(delivery_id))

    def external_ids(self, number: str) -> dict[str, str]:
        """The ids webhook receivers gave their own tickets for this order, by webhook name."""
        from ticketing.models import ExternalRefRow

        with self._read(f"read the external ids of {number}") as tx:
            row = workflow.load(tx, SYSTEM, number)
            query = (
                select(WebhookRow.name, ExternalRefRow.external_id)
                .join(WebhookRow, WebhookRow.id == ExternalRefRow.webhook_id)
                .where(ExternalRefRow.work_order_id == row.id)
            )
            return dict(tx.session.execute(query).all())

    # Workers --------------------------------------------------------------------------------

    def fire_due_timers(self) -> int:
        """Act on every stored deadline that has passed (escalations, missed starts)."""
        with self._write("fire escalation timers") as tx:
            return escalation.fire_due(tx)

    def next_timer(self) -> datetime | None:
        """The earliest stored deadline of an active order."""
        with self._read("read timers") as tx:
            return tx.session.scalar(
                select(func.min(WorkOrderRow.next_timer_at)).where(
                    WorkOrderRow.status.in_(_ACTIVE_STATUSES)
                )
            )

    def claim_deliveries(self, *, limit: int = 50) -> builtins.list[outbox.Job]:
        with self._write("claim deliveries") as tx:
            return outbox.claim(tx, limit=limit)

    def finish_delivery(self, job: outbox.Job, result: outbox.Outcome) -> None:
        with self._write(f"record delivery {job.id}") as tx:
            outbox.finish(tx, job, result)

    def next_delivery(self) -> datetime | None:
        """When the earliest pending delivery is due."""
        from ticketing.base import DeliveryState

        with self._read("read the outbox") as tx:
            return tx.session.scalar(
                select(func.min(OutboxRow.next_attempt_at)).where(
                    OutboxRow.state == DeliveryState.PENDING
                )
            )

    # Analytics and feedback -----------------------------------------------------------------

    def mtta(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.MeanTime]:
        with self._read("compute MTTA") as tx:
            return analytics.mtta(tx.session, since, until)

    def mttr(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.Resolution]:
        with self._read("compute MTTR") as tx:
            return analytics.mttr(tx.session, since, until)

    def backlog(self, instants: Iterable[datetime]) -> builtins.list[analytics.BacklogPoint]:
        with self._read("compute the backlog") as tx:
            return analytics.backlog(tx.session, builtins.list(instants))

    def top_failure_modes(
        self, since: datetime | None = None, until: datetime | None = None, *, limit: int = 20
    ) -> builtins.list[analytics.FailureModeCount]:
        with self._read("count failure modes") as tx:
            return analytics.top_failure_modes(tx.session, since, until, limit=limit)

    def detector_precision(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.Precision]:
        with self._read("compute detector precision") as tx:
            return analytics.detector_precision(tx.session, since, until)

    def sensitivity(self) -> dict[tuple[str, str], float]:
        """The score each (equipment, signal) with feedback needs to open an order."""
        with self._read("read sensitivity") as tx:
            rows = tx.session.scalars(select(SensitivityRow))
            return {(r.equipment_id, r.signal): r.min_score for r in rows}

    def counts(self) -> dict[str, Any]:
        """Gauges for metrics: orders by status and priority, deliveries by state, escalations."""
        with self._read("count for metrics") as tx:
            orders = tx.session.execute(
                select(WorkOrderRow.status, WorkOrderRow.priority, func.count()).group_by(
                    WorkOrderRow.status, WorkOrderRow.priority
                )
            )
            deliveries = tx.session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            )
            oldest = tx.session.scalar(
                select(func.min(OutboxRow.created_at)).where(OutboxRow.state == "pending")
            )
            escalations = tx.session.scalar(
                select(func.count()).where(AuditRow.action == "escalated")
            )
            active_alarms = tx.session.scalar(select(func.count()).where(AlarmRow.active))
            return {
                "orders": {(s.value, p.value): n for s, p, n in orders},
                "deliveries": {s.value: n for s, n in deliveries},
                "oldest_pending_delivery_seconds": (
                    (tx.now - oldest).total_seconds() if oldest is not None else 0.0
                ),
                "escalations": int(escalations or 0),
                "active_alarms": int(active_alarms or 0),
            }

    def ping(self) -> None:
        """Raise `StorageError` unless the database answers."""
        with self._read("reach the database") as tx:
            tx.session.execute(select(1))

    # Plumbing -------------------------------------------------------------------------------

    def _equipment(self, equipment_id: str) -> Equipment:
        if self.plant is None:
            raise InvalidRequest("this store was opened without a plant; it knows no equipment")
        equipment = self.plant.equipment.get(equipment_id)
        if equipment is None:
            raise NotFound("equipment", equipment_id)
        return equipment

    def _team_equipment(self, team: str | None) -> builtins.list[str]:
        if self.plant is None or team is None:
            return []
        return [eq.id for eq in self.plant if eq.team == team]

    def _check_target(self, target: str) -> None:
        if not target:
            raise InvalidRequest("name what the window covers: site/area/line/equipment (a prefix)")
        if self.plant is not None and not any(covers(target, eq.path) for eq in self.plant):
            raise InvalidRequest(
                f"{target!r} covers no equipment; write an ISA-95 path prefix such as "
                f"{next(iter(self.plant)).path}"
            )

    @contextmanager
    def _write(self, doing: str) -> Iterator[Tx]:
        with self._storage(doing), self._writes.begin() as session:
            tx = Tx(session, self._clock(), self.organisation, self.plant)
            yield tx
        if tx.touched:
            self._tell_listeners()

    @contextmanager
    def _read(self, doing: str) -> Iterator[Tx]:
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


_ACTIVE_STATUSES = tuple(status for status in Status if status in ACTIVE)


def _filters(
    status: Status | Iterable[Status] | None,
    equipment_id: str | None,
    team: str | None,
    assignee: str | None,
    priority: Priority | Iterable[Priority] | None,
    type_: WorkOrderType | None,
    failure_mode: str | None,
    active: bool | None,
    text: str | None,
) -> builtins.list[ColumnElement[bool]]:
    where: builtins.list[ColumnElement[bool]] = []
    if status is not None:
        statuses = [status] if isinstance(status, Status) else builtins.list(status)
        if statuses:
            where.append(WorkOrderRow.status.in_(statuses))
    if priority is not None:
        priorities = [priority] if isinstance(priority, Priority) else builtins.list(priority)
        if priorities:
            where.append(WorkOrderRow.priority.in_(priorities))
    if equipment_id is not None:
        where.append(WorkOrderRow.equipment_id == equipment_id)
    if team is not None:
        where.append(WorkOrderRow.team == team)
    if assignee is not None:
        where.append(WorkOrderRow.assignee == assignee)
    if type_ is not None:
        where.append(WorkOrderRow.type == type_)
    if failure_mode is not None:
        where.append(WorkOrderRow.failure_mode_code == failure_mode)
    if active is not None:
        in_active = WorkOrderRow.status.in_(_ACTIVE_STATUSES)
        where.append(in_active if active else ~in_active)
    if text:
        pattern = f"%{text.lower()}%"
        where.append(
            or_(
                func.lower(WorkOrderRow.number).like(pattern),
                func.lower(WorkOrderRow.title).like(pattern),
                func.lower(WorkOrderRow.equipment_path).like(pattern),
                func.lower(WorkOrderRow.description).like(pattern),
            )
        )
    return where


def _visible(principal: Principal) -> builtins.list[ColumnElement[bool]]:
    if principal.role is not Role.TECHNICIAN:
        return []
    mine = WorkOrderRow.assignee == principal.name
    if principal.team is None:
        return [mine]
    return [or_(mine, WorkOrderRow.team == principal.team)]


def _principal(by: Actor) -> Principal:
    if isinstance(by, Principal):
        return by
    name = by.strip()
    if not name:
        raise InvalidRequest("say who does this: `by` must name a person or system")
    return Principal(name, None)


def _check_zone(zone: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(
            f"unknown time zone {zone!r}; use an IANA name such as Europe/Paris"
        ) from exc


def _finite_ts(ts: float) -> bool:
    import math

    return math.isfinite(ts)


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
