"""Rows to the frozen records the store hands out; no ORM object leaves the store."""

from __future__ import annotations

from devices import FindingKind
from ticketing.base import (
    AlarmView,
    AuditEvent,
    Comment,
    DeliveryView,
    Event,
    Evidence,
    FindingView,
    Shelf,
    TokenView,
    WebhookView,
    Window,
    WorkOrderView,
)
from ticketing.errors import StorageError
from ticketing.models import (
    AlarmRow,
    AuditRow,
    CommentRow,
    FindingRow,
    OutboxRow,
    ShelfRow,
    TokenRow,
    WebhookRow,
    WindowRow,
    WorkOrderRow,
)


def order(row: WorkOrderRow) -> WorkOrderView:
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
        evidence=Evidence.from_json(row.evidence) if row.evidence is not None else None,
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
        description=row.description,
        reported_by=row.reported_by,
        assignee=row.assignee,
        started_at=row.started_at,
        done_at=row.done_at,
        hold_reason=row.hold_reason,
        outcome=row.outcome,
        found_failure_mode=row.found_failure_mode,
        found_mechanism=row.found_mechanism,
        found_cause=row.found_cause,
        ack_due_at=row.ack_due_at,
        start_due_at=row.start_due_at,
        start_overdue_at=row.start_overdue_at,
        escalation_level=row.escalation_level,
        escalated_at=row.escalated_at,
    )


def alarm(row: AlarmRow, number: str | None) -> AlarmView:
    return AlarmView(
        id=row.id,
        equipment_id=row.equipment_id,
        failure_mode_code=row.failure_mode_code,
        kind=FindingKind(row.kind),
        detector=row.detector,
        signals=tuple(row.signals),
        severity=row.severity,
        active=row.active,
        acknowledged=row.acknowledged,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        raised_at=row.raised_at,
        cleared_at=row.cleared_at,
        updated_at=row.updated_at,
        finding_count=row.finding_count,
        suppressed=row.suppressed,
        work_order=number,
    )


def finding(row: FindingRow) -> FindingView:
    return FindingView(
        id=row.id,
        detector=row.detector,
        kind=FindingKind(row.kind),
        severity=row.severity,
        score=row.score,
        signals=tuple(row.signals),
        summary=row.summary,
        ts=row.ts,
        active=row.active,
        time_to_limit=row.time_to_limit,
        label=row.label,
    )


def audit_event(row: AuditRow, number: str | None) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=row.at,
        actor=row.actor,
        actor_role=row.actor_role,
        entity=row.entity,
        entity_id=row.entity_id,
        action=row.action,
        work_order=number,
        before=row.before,
        after=row.after,
        note=row.note,
    )


def comment(row: CommentRow, number: str) -> Comment:
    return Comment(id=row.id, work_order=number, author=row.author, at=row.at, body=row.body)


def window(row: WindowRow) -> Window:
    return Window(
        id=row.id,
        target=row.target,
        reason=row.reason,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        recurrence=row.recurrence,
        timezone=row.timezone,
        until=row.until,
        created_at=row.created_at,
        created_by=row.created_by,
        cancelled_at=row.cancelled_at,
    )


def shelf(row: ShelfRow) -> Shelf:
    return Shelf(
        id=row.id,
        equipment_id=row.equipment_id,
        failure_mode_code=row.failure_mode_code,
        reason=row.reason,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        cancelled_at=row.cancelled_at,
    )


def token(row: TokenRow) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        role=row.role,
        team=row.team,
        prefix=row.prefix,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def webhook(row: WebhookRow) -> WebhookView:
    return WebhookView(
        id=row.id,
        name=row.name,
        url=row.url,
        events=tuple(Event(e) for e in row.events),
        active=row.active,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def delivery(row: OutboxRow, number: str | None) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        key=row.key,
        kind=row.kind,
        destination=row.destination,
        event=row.event,
        work_order=number,
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
        response_status=row.response_status,
    )
