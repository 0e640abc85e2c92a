"""Findings and reports in: alarms (one active per equipment and failure mode), the finding
history, and one active work order per equipment and failure mode, opened with an assignee,
stored deadlines, notifications, webhook events and automatic actions, all in one transaction.

"One active" is the database's partial unique indexes, never a check in Python: two writers that
both find nothing active both insert inside a savepoint, the index lets one through, and the other
updates what the first created.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from devices import ActionEvent, Equipment, FailureMode, Finding, Severity
from ticketing import audit, escalation, outbox, suppression
from ticketing.assignment import choose_assignee
from ticketing.base import SYSTEM, Event, Evidence, Principal, Recorded, WorkOrderType
from ticketing.errors import StorageError
from ticketing.lifecycle import ACTIVE, Status, advance
from ticketing.models import AlarmRow, FindingRow, WorkOrderRow
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
    alarm = _alarm(tx, finding, mode)
    history = FindingRow(
        alarm_id=alarm.id if alarm is not None else None,
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
    tx.session.add(history)
    if not finding.active:
        recorded = _cleared(tx, finding, mode)
    else:
        recorded = _active_finding(tx, finding, equipment, mode, alarm)
    if recorded is not None:
        history.work_order_id = recorded.order.id
        if alarm is not None:
            alarm.work_order_id = recorded.order.id
    return recorded


def _active_finding(
    tx: Tx, finding: Finding, equipment: Equipment, mode: FailureMode, alarm: AlarmRow | None
) -> Recorded | None:
    existing = _active_order(tx, equipment.id, mode.code)
    if existing is None:
        reason = _suppressed(tx, finding, equipment, mode)
        if reason is not None:
            if alarm is not None and alarm.suppressed is None:
                alarm.suppressed = reason
                audit.record(
                    tx,
                    SYSTEM,
                    "suppressed",
                    entity="alarm",
                    entity_id=str(alarm.id),
                    after={"equipment": equipment.id, "failure_mode": mode.code},
                    note=reason,
                )
            log.info("no order for %s %s: %s", equipment.id, mode.code, reason)
            return None

    def new() -> WorkOrderRow:
        return _new_order(tx, equipment, mode, finding=finding)

    def update(row: WorkOrderRow) -> None:
        _update_order(tx, row, equipment, finding=finding)

    return _open_or_update(tx, equipment, mode, new, update)


def report(tx: Tx, equipment: Equipment, mode: FailureMode, problem: Report) -> Recorded:
    """A corrective order a person reported; the same dedup, assignment and escalation."""

    def new() -> WorkOrderRow:
        return _new_order(tx, equipment, mode, report=problem)

    def update(row: WorkOrderRow) -> None:
        _update_order(tx, row, equipment, report=problem)

    return _open_or_update(tx, equipment, mode, new, update, problem.by)


def _open_or_update(
    tx: Tx,
    equipment: Equipment,
    mode: FailureMode,
    new: Callable[[], WorkOrderRow],
    update: Callable[[WorkOrderRow], None],
    creator: Principal = SYSTEM,
) -> Recorded:
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        row = _active_order(tx, equipment.id, mode.code)
        if row is not None:
            update(row)
            return Recorded(order_view(row), created=False)
        row = new()
        try:
            with tx.session.begin_nested():
                tx.session.add(row)
                tx.session.flush()
                row.number = order_number(row.id)
                tx.session.flush()
        except IntegrityError as exc:
            if attempt == INSERT_ATTEMPTS:
                raise StorageError(
                    f"could not open or update the {mode.code} work order of {equipment.id} "
                    f"in {INSERT_ATTEMPTS} attempts: {exc.orig}"
                ) from exc
            log.debug("another writer opened the %s order of %s first", mode.code, equipment.id)
            continue
        _opened(tx, row, mode, creator)
        return Recorded(order_view(row), created=True)
    raise AssertionError("unreachable")


def order_number(order_id: int) -> str:
    """The human-readable number of the order with this id: WO-000123."""
    return f"WO-{order_id:06d}"


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


def _cleared(tx: Tx, finding: Finding, mode: FailureMode) -> Recorded | None:
    row = _active_order(tx, finding.equipment_id, mode.code)
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


def _alarm(tx: Tx, finding: Finding, mode: FailureMode) -> AlarmRow | None:
    """The alarm of the finding's episode: raised, updated, or cleared."""
    seen = _utc(finding.ts)
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        row = tx.session.scalars(
            _active_alarm(finding.equipment_id, mode.code).with_for_update()
        ).first()
        if row is not None:
            row.finding_count += 1
            row.updated_at = tx.now
            row.severity = max(row.severity, finding.severity)
            row.signals = sorted(set(row.signals) | set(finding.signals))
            if not finding.active:
                row.active = False
                row.cleared_at = seen
            return row
        if not finding.active:
            return None
        row = AlarmRow(
            equipment_id=finding.equipment_id,
            failure_mode_code=mode.code,
            kind=finding.kind.value,
            detector=finding.detector,
            signals=sorted(set(finding.signals)),
            severity=finding.severity,
            active=True,
            acknowledged=False,
            raised_at=seen,
            updated_at=tx.now,
            finding_count=1,
        )
        try:
            with tx.session.begin_nested():
                tx.session.add(row)
                tx.session.flush()
        except IntegrityError as exc:
            if attempt == INSERT_ATTEMPTS:
                raise StorageError(
                    f"could not raise the {mode.code} alarm of {finding.equipment_id}: {exc.orig}"
                ) from exc
            continue
        return row
    raise AssertionError("unreachable")


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


def _active_order(tx: Tx, equipment_id: str, mode_code: str) -> WorkOrderRow | None:
    query = select(WorkOrderRow).where(
        WorkOrderRow.equipment_id == equipment_id,
        WorkOrderRow.failure_mode_code == mode_code,
        WorkOrderRow.status.in_(ACTIVE_STATUSES),
    )
    return tx.session.scalars(query.with_for_update()).first()


def _active_alarm(equipment_id: str, mode_code: str) -> Select[AlarmRow]:
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
