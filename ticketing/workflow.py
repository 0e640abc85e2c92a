"""What people do to work orders: acknowledge, assign, start, hold, finish, close with codes,
cancel, comment; and acknowledge alarms. Each change is checked against the lifecycle and the
caller's role, written to the audit trail, and reported to webhooks, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from ticketing import access, audit, escalation, outbox, suppression
from ticketing.base import Event, Outcome, Principal, Role
from ticketing.errors import InvalidRequest, NotFound, WorkOrderNotFound
from ticketing.lifecycle import ACTIVE, Status, advance
from ticketing.models import AlarmRow, CommentRow, FindingRow, WorkOrderRow
from ticketing.tx import Tx


def load(tx: Tx, principal: Principal, number: str, *, lock: bool = False) -> WorkOrderRow:
    """The order `number`, if the caller may see it."""
    query = select(WorkOrderRow).where(WorkOrderRow.number == number)
    row = tx.session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise WorkOrderNotFound(number)
    access.require_visible(principal, row)
    return row


def _change(
    tx: Tx,
    principal: Principal,
    number: str,
    action: str,
    *,
    to: Status | None = None,
    note: str = "",
    event: Event = Event.UPDATED,
    apply: Callable[[WorkOrderRow], None] | None = None,
) -> WorkOrderRow:
    row = load(tx, principal, number, lock=True)
    before = audit.snapshot(row)
    if to is not None:
        row.status = advance(row.status, to, subject=number)
    if apply is not None:
        apply(row)
    row.updated_at = tx.now
    row.next_timer_at = escalation.next_timer(row, tx.organisation)
    audit.order_change(tx, principal, action, row, before, note=note)
    outbox.emit(tx, row, event, note=note or action)
    return row


def acknowledge(tx: Tx, principal: Principal, number: str, note: str = "") -> WorkOrderRow:
    def apply(row: WorkOrderRow) -> None:
        row.acknowledged_at = tx.now
        row.acknowledged_by = principal.name
        _acknowledge_alarms(tx, principal, row)

    return _change(
        tx, principal, number, "acknowledged", to=Status.ACKNOWLEDGED, note=note, apply=apply
    )


def assign(
    tx: Tx, principal: Principal, number: str, *, assignee: str | None, team: str | None = None
) -> WorkOrderRow:
    access.require(principal, Role.PLANNER, "assign work orders")
    org = tx.organisation
    if team is not None and org.teams and team not in org.teams:
        raise InvalidRequest(f"unknown team {team!r}; teams: {', '.join(sorted(org.teams))}")
    if assignee is not None and org.people and assignee not in org.people:
        raise InvalidRequest(
            f"unknown person {assignee!r}; people: {', '.join(sorted(org.people))}"
        )

    current = load(tx, principal, number, lock=True)
    if current.status not in ACTIVE:
        raise InvalidRequest(
            f"{number} is {current.status.value}; only active orders can be assigned"
        )

    def apply(row: WorkOrderRow) -> None:
        person = org.people.get(assignee) if assignee is not None else None
        if team is not None:
            row.team = team
        elif person is not None and person.team is not None:
            row.team = person.team
        row.assignee = assignee

    row = _change(tx, principal, number, "assigned", note=f"to {assignee or 'nobody'}", apply=apply)
    if assignee is not None and assignee in org.people:
        person = org.people[assignee]
        outbox.notify(
            tx,
            row,
            person.id,
            person.notify,
            reason="assigned",
            message=f"assigned by {principal.name}",
        )
    return row


def start(tx: Tx, principal: Principal, number: str, note: str = "") -> WorkOrderRow:
    def apply(row: WorkOrderRow) -> None:
        if row.started_at is None:
            row.started_at = tx.now
        if row.acknowledged_at is None:
            row.acknowledged_at = tx.now
            row.acknowledged_by = principal.name
            _acknowledge_alarms(tx, principal, row)
        if row.assignee is None and principal.role is Role.TECHNICIAN:
            row.assignee = principal.name
        row.hold_reason = None

    return _change(tx, principal, number, "started", to=Status.IN_PROGRESS, note=note, apply=apply)


def hold(tx: Tx, principal: Principal, number: str, reason: str) -> WorkOrderRow:
    reason = _required(reason, "say why the work waits (parts, a shutdown, a contractor)")

    def apply(row: WorkOrderRow) -> None:
        row.hold_reason = reason

    return _change(
        tx, principal, number, "put_on_hold", to=Status.ON_HOLD, note=reason, apply=apply
    )


def done(tx: Tx, principal: Principal, number: str, note: str = "") -> WorkOrderRow:
    def apply(row: WorkOrderRow) -> None:
        row.done_at = tx.now
        if note:
            row.resolution_note = note

    return _change(tx, principal, number, "done", to=Status.DONE, note=note, apply=apply)


def close(
    tx: Tx,
    principal: Principal,
    number: str,
    *,
    outcome: Outcome | None = None,
    failure_mode: str | None = None,
    mechanism: str | None = None,
    cause: str | None = None,
    note: str = "",
) -> WorkOrderRow:
    """Close from any active status, with the codes found; the outcome labels the order's
    findings and feeds the sensitivity of its equipment and signals."""
    access.require(principal, Role.PLANNER, "close work orders")

    def apply(row: WorkOrderRow) -> None:
        row.resolved_at = tx.now
        row.resolved_by = principal.name
        row.resolution_note = note or row.resolution_note
        row.outcome = outcome
        row.found_failure_mode = failure_mode
        row.found_mechanism = mechanism
        row.found_cause = cause
        row.next_timer_at = None
        if outcome is not None:
            _label(tx, row, outcome)

    return _change(
        tx,
        principal,
        number,
        "closed",
        to=Status.CLOSED,
        note=note,
        event=Event.CLOSED,
        apply=apply,
    )


def cancel(tx: Tx, principal: Principal, number: str, reason: str) -> WorkOrderRow:
    access.require(principal, Role.PLANNER, "cancel work orders")
    reason = _required(reason, "say why the order is cancelled")

    def apply(row: WorkOrderRow) -> None:
        row.resolved_at = tx.now
        row.resolved_by = principal.name
        row.resolution_note = reason

    return _change(
        tx,
        principal,
        number,
        "cancelled",
        to=Status.CANCELLED,
        note=reason,
        event=Event.CLOSED,
        apply=apply,
    )


def comment(tx: Tx, principal: Principal, number: str, body: str) -> CommentRow:
    body = _required(body, "a comment needs text")
    row = load(tx, principal, number, lock=True)
    item = CommentRow(work_order_id=row.id, author=principal.name, at=tx.now, body=body)
    tx.session.add(item)
    row.updated_at = tx.now
    audit.record(tx, principal, "commented", entity_id=number, order=row, note=body)
    outbox.emit(tx, row, Event.UPDATED, note=f"comment by {principal.name}")
    tx.session.flush()
    return item


def acknowledge_alarm(tx: Tx, principal: Principal, alarm_id: int) -> AlarmRow:
    row = tx.session.get(AlarmRow, alarm_id, with_for_update=True)
    if row is None:
        raise NotFound("alarm", alarm_id)
    if principal.role is Role.TECHNICIAN and row.work_order_id is not None:
        order = tx.session.get(WorkOrderRow, row.work_order_id)
        if order is not None:
            access.require_visible(principal, order)
    if not row.acknowledged:
        row.acknowledged = True
        row.acknowledged_at = tx.now
        row.acknowledged_by = principal.name
        row.updated_at = tx.now
        audit.record(
            tx,
            principal,
            "acknowledged",
            entity="alarm",
            entity_id=str(row.id),
            before={"acknowledged": False},
            after={"acknowledged": True},
        )
    return row


def _acknowledge_alarms(tx: Tx, principal: Principal, order: WorkOrderRow) -> None:
    alarms = tx.session.scalars(
        select(AlarmRow).where(AlarmRow.work_order_id == order.id, AlarmRow.acknowledged.is_(False))
    )
    for alarm in alarms:
        alarm.acknowledged = True
        alarm.acknowledged_at = tx.now
        alarm.acknowledged_by = principal.name
        alarm.updated_at = tx.now


def _label(tx: Tx, order: WorkOrderRow, outcome: Outcome) -> None:
    findings = list(
        tx.session.scalars(
            select(FindingRow).where(FindingRow.work_order_id == order.id, FindingRow.active)
        )
    )
    for finding in findings:
        finding.label = outcome
    signals = {s for f in findings for s in f.signals}
    if signals:
        suppression.learn(tx, order.equipment_id, signals, outcome)


def _required(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidRequest(what)
    return text
