"""Findings and reports in: alarms (one active per equipment and failure mode), the finding
history, and one active work order per equipment and failure mode, opened with an assignee,
stored deadlines, notifications, webhook events and automatic actions, all in one transaction.

"One active" is the database's partial unique indexes, never a check in Python: two writers that
both find nothing active both insert with `ON CONFLICT DO NOTHING` on that index; the index lets
one through, and the other, given no row back, locks and updates what the first created.

A recording reads the active order and, if there is one, its active alarm in one statement,
then writes each row once: the order (its number assigned in its INSERT), the alarm pointing
at it, and the finding pointing at both. Writers lock an equipment and failure mode's order
before its alarm (as acknowledging an order does), so concurrent writers never deadlock: where
no order is active, the alarm is left unread until the order is inserted or found.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    Text,
    TextClause,
    bindparam,
    cast,
    column,
    func,
    inspect,
    literal,
    select,
    table,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import ExecutableReturnsRows, FromClause

from devices import ActionEvent, Equipment, FailureMode, Finding, Severity
from ticketing import audit, escalation, outbox, suppression
from ticketing.assignment import choose_assignee
from ticketing.base import SYSTEM, Event, Evidence, Principal, Recorded, WorkOrderType
from ticketing.errors import StorageError
from ticketing.lifecycle import ACTIVE, Status, advance
from ticketing.models import ACTIVE_ALARM, ACTIVE_ORDER, AlarmRow, Base, FindingRow, WorkOrderRow
from ticketing.priority import more_pressing, priority_for
from ticketing.tx import Tx
from ticketing.views import order as order_view

log = logging.getLogger(__name__)

INSERT_ATTEMPTS = 5
ACTIVE_STATUSES = tuple(status for status in Status if status in ACTIVE)


@dataclass(frozen=True, slots=True)
class Report:
    """A problem a person reported (a corrective order)."""

    description: str
    severity: Severity
    by: Principal


def record_finding(tx: Tx, finding: Finding, equipment: Equipment) -> Recorded | None:
    mode = equipment.failure_mode_for(finding)
    order, alarm = _active_order_and_alarm(tx, equipment.id, mode.code)
    alarm_read = order is not None
    suppressed = None
    if not finding.active:
        recorded = _cleared(tx, finding, mode, order)
    elif order is None and (suppressed := _suppressed(tx, finding, equipment, mode)) is not None:
        log.info("no order for %s %s: %s", equipment.id, mode.code, suppressed)
        recorded = None
    else:

        def new() -> WorkOrderRow:
            return _new_order(tx, equipment, mode, finding=finding)

        def update(row: WorkOrderRow) -> None:
            _update_order(tx, row, equipment, finding=finding)

        recorded = _open_or_update(tx, equipment, mode, order, new, update)
    order_id = recorded.order.id if recorded is not None else None
    alarm = _alarm(
        tx, finding, mode, alarm, read=alarm_read, order_id=order_id, suppressed=suppressed
    )
    tx.session.add(
        FindingRow(
            alarm_id=alarm.id if alarm is not None else None,
            work_order_id=order_id,
            equipment_id=equipment.id,
            failure_mode_code=mode.code,
            detector=finding.detector,
            kind=finding.kind.value,
            severity=finding.severity,
            score=finding.score if math.isfinite(finding.score) else None,
            signals=list(finding.signals),
            summary=finding.summary,
            ts=_utc(finding.ts),
            active=finding.active,
            time_to_limit=_finite(finding.time_to_limit),
            recorded_at=tx.now,
        )
    )
    return recorded


def report(tx: Tx, equipment: Equipment, mode: FailureMode, problem: Report) -> Recorded:
    """A corrective order a person reported; the same dedup, assignment and escalation."""

    def new() -> WorkOrderRow:
        return _new_order(tx, equipment, mode, report=problem)

    def update(row: WorkOrderRow) -> None:
        _update_order(tx, row, equipment, report=problem)

    existing = _active_order(tx, equipment.id, mode.code)
    return _open_or_update(tx, equipment, mode, existing, new, update, problem.by)


def _open_or_update(
    tx: Tx,
    equipment: Equipment,
    mode: FailureMode,
    existing: WorkOrderRow | None,
    new: Callable[[], WorkOrderRow],
    update: Callable[[WorkOrderRow], None],
    creator: Principal = SYSTEM,
) -> Recorded:
    """Update `existing`, the active order read (and locked) in this transaction, or open one.
    When another writer opened it since, the insert does nothing and its order is updated."""
    row = existing
    for _attempt in range(INSERT_ATTEMPTS):
        if row is not None:
            update(row)
            return Recorded(order_view(row), created=False)
        row = _insert_unless_active(tx, WorkOrderRow, _columns(new()), ACTIVE_ORDER)
        if row is not None:
            _opened(tx, row, mode, creator)
            return Recorded(order_view(row), created=True)
        log.debug("another writer opened the %s order of %s first", mode.code, equipment.id)
        row = _active_order(tx, equipment.id, mode.code)
    raise StorageError(
        f"could not open or update the {mode.code} work order of {equipment.id} in "
        f"{INSERT_ATTEMPTS} attempts: other writers kept opening and closing it"
    )


def order_number(order_id: int) -> str:
    """The human-readable number of the order with this id: WO-000123."""
    return f"WO-{order_id:06d}"


_SQLITE_SEQUENCE = table("sqlite_sequence", column("name"), column("seq"))


def _numbered(dialect: str) -> dict[str, ColumnElement[Any]]:
    """The id and number of an order to insert, both taken in the INSERT itself: PostgreSQL's
    sequence read once in a CTE; on SQLite (one writer at a time) the next AUTOINCREMENT value.
    The number reads as `order_number(id)`."""
    if dialect == "postgresql":
        next_id = select(
            func.nextval(func.pg_get_serial_sequence(WorkOrderRow.__tablename__, "id")).label("id")
        ).cte("next_order")
        digits = cast(next_id.c.id, Text)
        padded = func.lpad(digits, func.greatest(6, func.length(digits)), "0")
        return {
            "id": select(next_id.c.id).scalar_subquery(),
            "number": select(literal("WO-") + padded).scalar_subquery(),
        }
    seq = _SQLITE_SEQUENCE.c
    order_id = (
        select(func.coalesce(func.max(seq.seq), 0) + 1)
        .where(seq.name == WorkOrderRow.__tablename__)
        .scalar_subquery()
    )
    return {"id": order_id, "number": literal("WO-") + func.printf("%06d", order_id)}


Row = TypeVar("Row", bound=Base)


def _insert_unless_active(
    tx: Tx, model: type[Row], values: Mapping[str, Any], active: TextClause
) -> Row | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING on the model's partial unique index of its
    active rows (equipment + failure mode): the row inserted, or None if one is active already
    (PostgreSQL waits for a writer that inserted one and has not committed yet)."""
    statement = _insert_statement(model, active, tx.session.get_bind().dialect.name)
    return tx.session.scalars(statement, dict(values)).first()


@cache
def _insert_statement(model: type[Base], active: TextClause, dialect: str) -> ExecutableReturnsRows:
    """Built once per model and dialect: the values come as parameters, so SQLAlchemy compiles
    it once too."""
    table = model.__table__
    assert isinstance(table, Table)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    if model is WorkOrderRow:
        statement = statement.values(_numbered(dialect))
    returning = statement.on_conflict_do_nothing(
        index_elements=[table.c.equipment_id, table.c.failure_mode_code], index_where=active
    ).returning(*table.c)
    return select(model).from_statement(returning)


def _columns(row: Base) -> dict[str, Any]:
    """The column values set on a new (transient) row."""
    state = inspect(row)
    return {
        attr.key: state.dict[attr.key]
        for attr in state.mapper.column_attrs
        if attr.key in state.dict
    }


def _opened(tx: Tx, row: WorkOrderRow, mode: FailureMode, creator: Principal) -> None:
    after = {name: value for name, value in audit.snapshot(row).items() if value is not None}
    audit.record(
        tx,
        creator,
        "created",
        entity_id=row.number or "",
        order=row,
        after=after,
        note=row.evidence["summary"] if row.evidence else row.description,
    )
    if row.assignee is not None:
        audit.record(
            tx,
            SYSTEM,
            "assigned",
            entity_id=row.number or "",
            order=row,
            after={"assignee": row.assignee, "team": row.team},
            note=f"{row.assignee}: {_why_assigned(mode)}",
        )
    outbox.emit(tx, row, Event.CREATED)
    outbox.notify_first(tx, row, reason="opened", message="new work order")
    outbox.run_actions(tx, row, ActionEvent.OPENED)
    log.info("opened %s: %s", row.number, row.title)


def _why_assigned(mode: FailureMode) -> str:
    if mode.skills:
        return f"on shift, skills for {', '.join(mode.skills)}, fewest open orders"
    return "on shift, fewest open orders"


def _new_order(
    tx: Tx,
    equipment: Equipment,
    mode: FailureMode,
    *,
    finding: Finding | None = None,
    report: Report | None = None,
) -> WorkOrderRow:
    if finding is not None:
        severity = finding.severity
    elif report is not None:
        severity = report.severity
    else:
        raise ValueError("an order is opened for a finding or a report")
    ttl = finding.time_to_limit if finding is not None else None
    priority = priority_for(severity, equipment.criticality, ttl)
    seen = _utc(finding.ts) if finding is not None else tx.now
    levels = escalation.sla(tx.organisation, priority)
    due = _due(finding) if finding is not None else None
    if due is None:
        due = tx.now + _seconds(levels.due)
    assignee = _assign(tx, equipment, mode)
    row = WorkOrderRow(
        equipment_id=equipment.id,
        equipment_path=equipment.path,
        equipment_type=equipment.type,
        team=equipment.team,
        failure_mode_code=mode.code,
        failure_mode_name=mode.name,
        mechanism=mode.mechanism,
        type=WorkOrderType.PREDICTIVE if finding is not None else WorkOrderType.CORRECTIVE,
        priority=priority,
        severity=severity,
        status=Status.OPEN,
        title=f"{mode.name} on {equipment.name}",
        instructions="\n".join(mode.checks),
        evidence=Evidence.of(finding).to_json() if finding is not None else None,
        finding_count=1,
        first_seen=seen,
        last_seen=seen,
        condition_active=True,
        due_at=due,
        created_at=tx.now,
        updated_at=tx.now,
        resolution_note="",
        description=report.description if report is not None else "",
        reported_by=report.by.name if report is not None else None,
        assignee=assignee,
        escalation_level=0,
    )
    escalation.set_deadlines(row, tx.organisation)
    return row


def _update_order(
    tx: Tx,
    row: WorkOrderRow,
    equipment: Equipment,
    *,
    finding: Finding | None = None,
    report: Report | None = None,
) -> None:
    """Fold a repeated finding (or report) into its active order: counts, times and severity
    only grow, priority only rises, deadlines and the due date only come earlier."""
    before = audit.snapshot(row)
    old_priority = row.priority
    row.finding_count += 1
    ttl = None
    if finding is not None:
        seen = _utc(finding.ts)
        if seen >= row.last_seen or row.evidence is None:
            row.evidence = _merged_evidence(row.evidence, Evidence.of(finding).to_json())
        row.last_seen = max(row.last_seen, seen)
        row.first_seen = min(row.first_seen, seen)
        row.severity = max(row.severity, finding.severity)
        row.condition_active = True
        ttl = finding.time_to_limit
        due = _due(finding)
        if due is not None and (row.due_at is None or due < row.due_at):
            row.due_at = due
    elif report is not None:
        row.severity = max(row.severity, report.severity)
        row.last_seen = max(row.last_seen, tx.now)
    row.priority = more_pressing(
        row.priority, priority_for(row.severity, equipment.criticality, ttl)
    )
    row.updated_at = tx.now
    if finding is not None:
        note = finding.summary
    else:
        note = f"reported again: {report.description}" if report is not None else ""
    raised = row.priority is not old_priority
    if raised:
        escalation.set_deadlines(row, tx.organisation)
        sla_due = row.created_at + _seconds(escalation.sla(tx.organisation, row.priority).due)
        if finding is None or _due(finding) is None:
            row.due_at = sla_due if row.due_at is None else min(row.due_at, sla_due)
        note = f"worsened: priority {old_priority.value} -> {row.priority.value}; {note}"
    actor = SYSTEM if report is None else report.by
    audit.order_change(tx, actor, "updated" if not raised else "worsened", row, before, note=note)
    outbox.emit(tx, row, Event.UPDATED, note=note)
    if raised:
        _tell_of_worsening(tx, row, note)


def _tell_of_worsening(tx: Tx, row: WorkOrderRow, note: str) -> None:
    org = tx.organisation
    if row.escalation_level == 0 or row.status is not Status.OPEN:
        outbox.notify_first(tx, row, reason="worsened", message=note)
        return
    level = org.escalation[row.escalation_level - 1]
    contact = org.contact(level, row.team)
    if contact is not None:
        outbox.notify(tx, row, contact.id, contact.notify, reason="worsened", message=note)


def _cleared(
    tx: Tx, finding: Finding, mode: FailureMode, row: WorkOrderRow | None
) -> Recorded | None:
    if row is None:
        return None
    before = audit.snapshot(row)
    row.condition_active = False
    row.updated_at = tx.now
    if mode.auto_resolve:
        row.status = advance(row.status, Status.CLOSED, subject=row.number or "the work order")
        row.resolved_at = tx.now
        row.resolved_by = SYSTEM.name
        row.resolution_note = "condition cleared"
        row.next_timer_at = None
        audit.order_change(tx, SYSTEM, "closed", row, before, note="condition cleared")
        outbox.emit(tx, row, Event.CLOSED, note="condition cleared")
        log.info(
            "closed %s: the %s condition of %s cleared", row.number, mode.code, row.equipment_id
        )
    else:
        audit.order_change(tx, SYSTEM, "condition_cleared", row, before, note=finding.summary)
        outbox.emit(tx, row, Event.UPDATED, note="condition cleared")
    return Recorded(order_view(row), created=False)


def _alarm(
    tx: Tx,
    finding: Finding,
    mode: FailureMode,
    row: AlarmRow | None,
    *,
    read: bool,
    order_id: int | None,
    suppressed: str | None,
) -> AlarmRow | None:
    """The alarm of the finding's episode: raised, updated, or cleared; pointing at the order
    the finding opened or updated, and marked with why no order was opened, if one was not.
    `row` is the active alarm if `read` (with the order), else it is still to be found: an
    active finding tries to raise one first (the usual case), a cleared one looks."""
    seen = _utc(finding.ts)
    if row is None and not read and not finding.active:
        row = _locked_active_alarm(tx, finding.equipment_id, mode.code)
    for _attempt in range(INSERT_ATTEMPTS):
        if row is not None:
            row.finding_count += 1
            row.updated_at = tx.now
            row.severity = max(row.severity, finding.severity)
            row.signals = sorted(set(row.signals) | set(finding.signals))
            if not finding.active:
                row.active = False
                row.cleared_at = seen
            if order_id is not None:
                row.work_order_id = order_id
            if suppressed is not None and row.suppressed is None:
                row.suppressed = suppressed
                _audit_suppressed(tx, row)
            return row
        if not finding.active:
            return None
        values = {
            "equipment_id": finding.equipment_id,
            "failure_mode_code": mode.code,
            "kind": finding.kind.value,
            "detector": finding.detector,
            "signals": sorted(set(finding.signals)),
            "severity": finding.severity,
            "active": True,
            "acknowledged": False,
            "raised_at": seen,
            "updated_at": tx.now,
            "finding_count": 1,
            "suppressed": suppressed,
            "work_order_id": order_id,
        }
        row = _insert_unless_active(tx, AlarmRow, values, ACTIVE_ALARM)
        if row is not None:
            if suppressed is not None:
                _audit_suppressed(tx, row)
            return row
        row = _locked_active_alarm(tx, finding.equipment_id, mode.code)
    raise StorageError(
        f"could not raise the {mode.code} alarm of {finding.equipment_id} in "
        f"{INSERT_ATTEMPTS} attempts: other writers kept raising and clearing it"
    )


def _audit_suppressed(tx: Tx, alarm: AlarmRow) -> None:
    audit.record(
        tx,
        SYSTEM,
        "suppressed",
        entity="alarm",
        entity_id=str(alarm.id),
        after={"equipment": alarm.equipment_id, "failure_mode": alarm.failure_mode_code},
        note=alarm.suppressed or "",
    )


def _suppressed(tx: Tx, finding: Finding, equipment: Equipment, mode: FailureMode) -> str | None:
    window = suppression.window_over(tx, equipment.path, _utc(finding.ts))
    if window is not None:
        return f"maintenance window {window.id} over {window.target}: {window.reason}"
    shelf = suppression.shelf_over(tx, equipment.id, mode.code)
    if shelf is not None:
        return (
            f"shelved by {shelf.created_by} until {shelf.expires_at:%Y-%m-%d %H:%M} UTC: "
            f"{shelf.reason}"
        )
    needed = suppression.below_feedback(tx, finding)
    if needed is not None:
        return (
            f"score {finding.score:.2f} is below {needed:.2f}, the score this equipment and "
            "signal need after closed false alarms"
        )
    return None


def _assign(tx: Tx, equipment: Equipment, mode: FailureMode) -> str | None:
    org = tx.organisation
    candidates = org.technicians(equipment.team)
    if not candidates:
        return None
    loads = dict(
        tx.session.execute(
            select(WorkOrderRow.assignee, func.count())
            .where(
                WorkOrderRow.assignee.in_([p.id for p in candidates]),
                WorkOrderRow.status.in_(ACTIVE_STATUSES),
            )
            .group_by(WorkOrderRow.assignee)
        ).all()
    )
    chosen = choose_assignee(
        candidates, mode.skills, {k: v for k, v in loads.items() if k}, at=tx.now, zone=org.zone
    )
    return chosen.id if chosen is not None else None


def _active_order_and_alarm(
    tx: Tx, equipment_id: str, mode_code: str
) -> tuple[WorkOrderRow | None, AlarmRow | None]:
    """The active order of an equipment and failure mode and, if there is one, its active
    alarm, in one SELECT that locks the order, then the alarm."""
    query = _active_order_and_alarm_query(tx.session.get_bind().dialect.name)
    found = tx.session.execute(query, {"equipment_id": equipment_id, "mode_code": mode_code})
    order, alarm = found.one()
    return order, alarm


@cache
def _active_order_and_alarm_query(dialect: str) -> Select[WorkOrderRow, AlarmRow]:
    """Each row in its own locking subquery, outer-joined to one row; on PostgreSQL the
    alarm's is LATERAL, so it runs (and locks) only after the order's found a row."""
    equipment_id: BindParameter[str] = bindparam("equipment_id")
    mode_code: BindParameter[str] = bindparam("mode_code")
    order = _active_order_query(equipment_id, mode_code).with_for_update().subquery("order")
    alarm_query = _active_alarm(equipment_id, mode_code).with_for_update()
    alarm: FromClause
    if dialect == "postgresql":
        alarm = alarm_query.where(order.c.id.is_not(None)).lateral("alarm")
        after_order: ColumnElement[bool] = true()
    else:
        alarm = alarm_query.subquery("alarm")
        after_order = order.c.id.is_not(None)
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(aliased(WorkOrderRow, order), aliased(AlarmRow, alarm))
        .select_from(one)
        .outerjoin(order, true())
        .outerjoin(alarm, after_order)
    )


def _locked_active_alarm(tx: Tx, equipment_id: str, mode_code: str) -> AlarmRow | None:
    return tx.session.scalars(_active_alarm(equipment_id, mode_code).with_for_update()).first()


def _active_order(tx: Tx, equipment_id: str, mode_code: str) -> WorkOrderRow | None:
    query = _active_order_query(equipment_id, mode_code).with_for_update()
    return tx.session.scalars(query).first()


def _active_order_query(
    equipment_id: str | BindParameter[str], mode_code: str | BindParameter[str]
) -> Select[WorkOrderRow]:
    return select(WorkOrderRow).where(
        WorkOrderRow.equipment_id == equipment_id,
        WorkOrderRow.failure_mode_code == mode_code,
        WorkOrderRow.status.in_(ACTIVE_STATUSES),
    )


def _active_alarm(
    equipment_id: str | BindParameter[str], mode_code: str | BindParameter[str]
) -> Select[AlarmRow]:
    return select(AlarmRow).where(
        AlarmRow.equipment_id == equipment_id,
        AlarmRow.failure_mode_code == mode_code,
        AlarmRow.active,
    )


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _due(finding: Finding) -> datetime | None:
    """When the finding's signal is predicted to reach its alarm limit, if it is heading there."""
    ttl = finding.time_to_limit
    if ttl is None or not math.isfinite(ttl) or ttl < 0:
        return None
    try:
        return _utc(finding.ts + ttl)
    except (OverflowError, OSError, ValueError):
        return None


def _merged_evidence(before: dict[str, Any] | None, latest: dict[str, Any]) -> dict[str, Any]:
    """The latest finding's evidence, still carrying the points of the signals earlier findings
    were about (the signal that opened the order stays on its chart)."""
    if not before:
        return latest
    points = {**before.get("points", {}), **latest.get("points", {})}
    return {**latest, "points": points}
