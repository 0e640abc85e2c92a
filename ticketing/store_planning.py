"""The planning side of the store: alarms and equipment health, maintenance windows and
shelves, analytics and feedback."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from devices import Severity
from ticketing import access, analytics, views, workflow
from ticketing.audit import record as audit_record
from ticketing.base import (
    SYSTEM,
    AlarmView,
    Principal,
    Recurrence,
    Role,
    Shelf,
    Window,
)
from ticketing.errors import (
    InvalidRequest,
    NotFound,
)
from ticketing.models import (
    AlarmRow,
    AuditRow,
    OutboxRow,
    SensitivityRow,
    ShelfRow,
    WindowRow,
    WorkOrderRow,
)
from ticketing.priority import Priority
from ticketing.store_base import (
    _ACTIVE_STATUSES,
    MAX_SHELF,
    Actor,
    StoreBase,
    _check_zone,
    _principal,
)


class PlanningStore(StoreBase):
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
