"""Service levels and escalation: the deadlines stored on an order, and what happens when one
passes. Deadlines live in the database, so they survive a restart; `fire_due` (run by the
scheduler loop) acts on the orders whose earliest deadline has passed.

- Time to acknowledge (per priority): escalation level k (1, 2, 3 by default: team lead,
  maintenance manager, plant manager) fires k times it after the order opened, until the order
  is acknowledged (or started).
- Time to start: past it, with work not started, the team lead is told once.
- A worsening condition that raises the priority brings the deadlines forward.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from devices import ActionEvent, Organisation, Sla
from ticketing import audit, outbox
from ticketing.base import SYSTEM, Event
from ticketing.lifecycle import ACTIVE, Status
from ticketing.models import WorkOrderRow
from ticketing.priority import Priority
from ticketing.tx import Tx

log = logging.getLogger(__name__)

_ACTIVE = tuple(s for s in Status if s in ACTIVE)
_NOT_STARTED = (Status.OPEN, Status.ACKNOWLEDGED)


def sla(organisation: Organisation, priority: Priority) -> Sla:
    return organisation.sla[priority.value]


def set_deadlines(row: WorkOrderRow, organisation: Organisation) -> None:
    """Deadlines of the order's priority counted from its creation; only ever brought forward."""
    levels = sla(organisation, row.priority)
    ack = row.created_at + timedelta(seconds=levels.acknowledge)
    start = row.created_at + timedelta(seconds=levels.start)
    row.ack_due_at = ack if row.ack_due_at is None else min(row.ack_due_at, ack)
    row.start_due_at = start if row.start_due_at is None else min(row.start_due_at, start)
    row.next_timer_at = next_timer(row, organisation)


def escalation_time(row: WorkOrderRow, level: int) -> datetime:
    """When escalation `level` (1 = first) fires: `level` times the time to acknowledge."""
    assert row.ack_due_at is not None
    step = row.ack_due_at - row.created_at
    return row.ack_due_at + step * (level - 1)


def next_timer(row: WorkOrderRow, organisation: Organisation) -> datetime | None:
    """The earliest deadline of the order still to act on, if any."""
    pending: list[datetime] = []
    if (
        row.status is Status.OPEN
        and row.ack_due_at is not None
        and row.escalation_level < len(organisation.escalation)
    ):
        pending.append(escalation_time(row, row.escalation_level + 1))
    if row.status in _NOT_STARTED and row.start_due_at is not None and row.start_overdue_at is None:
        pending.append(row.start_due_at)
    return min(pending, default=None)


def fire_due(tx: Tx, *, limit: int = 100) -> int:
    """Escalate, or tell of a missed start, every order whose deadline has passed; returns how
    many deadlines fired. Rows another worker is handling are skipped (PostgreSQL)."""
    query = (
        select(WorkOrderRow)
        .where(WorkOrderRow.next_timer_at <= tx.now, WorkOrderRow.status.in_(_ACTIVE))
        .order_by(WorkOrderRow.next_timer_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    fired = 0
    for row in tx.session.scalars(query):
        fired += _fire(tx, row)
        row.next_timer_at = next_timer(row, tx.organisation)
    return fired


def _fire(tx: Tx, row: WorkOrderRow) -> int:
    org = tx.organisation
    fired = 0
    while (
        row.status is Status.OPEN
        and row.escalation_level < len(org.escalation)
        and escalation_time(row, row.escalation_level + 1) <= tx.now
    ):
        before = audit.snapshot(row)
        row.escalation_level += 1
        row.escalated_at = row.updated_at = tx.now
        level = org.escalation[row.escalation_level - 1]
        contact = org.contact(level, row.team)
        who = f"{level.name} ({contact.name})" if contact is not None else level.name
        note = f"not acknowledged in time; escalated to level {row.escalation_level}: {who}"
        audit.order_change(tx, SYSTEM, "escalated", row, before, note=note)
        outbox.emit(tx, row, Event.ESCALATED, note=note)
        if contact is not None:
            outbox.notify(tx, row, contact.id, contact.notify, reason="escalated", message=note)
        outbox.run_actions(tx, row, ActionEvent.ESCALATED)
        log.info("%s: %s", row.number, note)
        fired += 1
    if (
        row.status in _NOT_STARTED
        and row.start_due_at is not None
        and row.start_overdue_at is None
        and row.start_due_at <= tx.now
    ):
        row.start_overdue_at = row.updated_at = tx.now
        note = "work has not started within the time to start"
        audit.record(tx, SYSTEM, "start_overdue", entity_id=row.number or "", order=row, note=note)
        outbox.emit(tx, row, Event.ESCALATED, note=note)
        lead_id = org.teams[row.team].lead if row.team in org.teams else None
        lead = org.people.get(lead_id) if lead_id is not None else None
        if lead is not None:
            outbox.notify(tx, row, lead.id, lead.notify, reason="start_overdue", message=note)
        fired += 1
    return fired
