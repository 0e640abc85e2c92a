"""The orders part of the store: findings and reports in, one active work order per equipment
and failure mode out, the workflow people drive on it, and its escalation timers."""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, or_, select

from devices import Equipment, Finding, Severity
from ticketing import escalation, recording, views, workflow
from ticketing.base import (
    SYSTEM,
    AuditEvent,
    Comment,
    FindingView,
    Outcome,
    Principal,
    Recorded,
    WorkOrderType,
    WorkOrderView,
)
from ticketing.errors import InvalidRequest, TicketingError
from ticketing.lifecycle import Status
from ticketing.models import (
    AuditRow,
    CommentRow,
    FindingRow,
    WorkOrderRow,
)
from ticketing.priority import Priority
from ticketing.recording import Report
from ticketing.store_base import ACTIVE_STATUSES, Actor, Storage, as_principal, visible_to
from ticketing.tx import Tx

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


class Orders:
    """Work orders: findings and reports in, the workflow on them, their timers."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

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
        if not math.isfinite(finding.ts):
            raise TicketingError(
                f"a finding about {equipment.id!r} has no valid source time ({finding.ts})"
            )
        with self._storage.write("record a finding") as tx:
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
        equipment = self._storage.equipment(equipment_id)
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
        problem = Report(description, severity, as_principal(by))
        with self._storage.write(f"report a problem on {equipment_id}") as tx:
            return recording.report(tx, equipment, mode, problem)

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
        where += visible_to(principal)
        order = key.desc() if descending else key.asc()
        tiebreak = WorkOrderRow.id.desc() if descending else WorkOrderRow.id.asc()
        query = select(WorkOrderRow).where(*where).order_by(order, tiebreak)
        with self._storage.read("list work orders") as tx:
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
        where += visible_to(principal)
        with self._storage.read("count work orders") as tx:
            return int(tx.session.scalar(select(func.count(WorkOrderRow.id)).where(*where)) or 0)

    def open_counts(self) -> dict[str, int]:
        """How many active orders each assignee has (the load assignment balances)."""
        query = (
            select(WorkOrderRow.assignee, func.count())
            .where(WorkOrderRow.status.in_(ACTIVE_STATUSES), WorkOrderRow.assignee.is_not(None))
            .group_by(WorkOrderRow.assignee)
        )
        with self._storage.read("count open orders per assignee") as tx:
            return {str(name): int(n) for name, n in tx.session.execute(query)}

    def get(self, number: str, *, principal: Principal = SYSTEM) -> WorkOrderView:
        """The work order with this number; `WorkOrderNotFound` if there is none."""
        with self._storage.read(f"read {number}") as tx:
            return views.order(workflow.load(tx, principal, number))

    def comments(self, number: str, *, principal: Principal = SYSTEM) -> builtins.list[Comment]:
        with self._storage.read(f"read the comments of {number}") as tx:
            row = workflow.load(tx, principal, number)
            query = select(CommentRow).where(CommentRow.work_order_id == row.id)
            return [
                views.comment(c, number) for c in tx.session.scalars(query.order_by(CommentRow.id))
            ]

    def history(self, number: str, *, principal: Principal = SYSTEM) -> builtins.list[AuditEvent]:
        """The audit trail of one order, oldest first."""
        with self._storage.read(f"read the history of {number}") as tx:
            row = workflow.load(tx, principal, number)
            query = select(AuditRow).where(AuditRow.work_order_id == row.id)
            return [
                views.audit_event(a, number)
                for a in tx.session.scalars(query.order_by(AuditRow.id))
            ]

    def findings(self, number: str, *, principal: Principal = SYSTEM) -> builtins.list[FindingView]:
        """The findings recorded on one order, oldest first."""
        with self._storage.read(f"read the findings of {number}") as tx:
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
        with self._storage.write(f"comment on {number}") as tx:
            return views.comment(workflow.comment(tx, as_principal(by), number, body), number)

    def _act(
        self,
        number: str,
        doing: str,
        action: Callable[[Tx, Principal], WorkOrderRow],
        by: Actor,
    ) -> WorkOrderView:
        with self._storage.write(f"{doing} {number}") as tx:
            return views.order(action(tx, as_principal(by)))

    def fire_due_timers(self) -> int:
        """Act on every stored deadline that has passed (escalations, missed starts)."""
        with self._storage.write("fire escalation timers") as tx:
            return escalation.fire_due(tx)

    def next_timer(self) -> datetime | None:
        """The earliest stored deadline of an active order."""
        with self._storage.read("read timers") as tx:
            return tx.session.scalar(
                select(func.min(WorkOrderRow.next_timer_at)).where(
                    WorkOrderRow.status.in_(ACTIVE_STATUSES)
                )
            )


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
        in_active = WorkOrderRow.status.in_(ACTIVE_STATUSES)
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
