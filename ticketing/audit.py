"""The audit trail: every change, who or what made it, when, and the fields before and after."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from devices import Severity
from ticketing.base import Principal
from ticketing.models import AuditRow, WorkOrderRow
from ticketing.tx import Tx

AUDITED = (
    "status",
    "priority",
    "severity",
    "team",
    "assignee",
    "due_at",
    "finding_count",
    "condition_active",
    "escalation_level",
    "hold_reason",
    "outcome",
    "found_failure_mode",
    "found_mechanism",
    "found_cause",
    "resolution_note",
    "ack_due_at",
    "start_due_at",
)
"""Work-order fields whose changes the trail shows."""


def snapshot(row: WorkOrderRow) -> dict[str, Any]:
    """The audited fields of an order, as JSON values."""
    return {name: _json(getattr(row, name)) for name in AUDITED}


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Severity):
        return value.label
    if isinstance(value, enum.Enum):
        return value.value
    return value


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, before and after."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    tx: Tx,
    actor: Principal,
    action: str,
    *,
    entity: str = "work_order",
    entity_id: str,
    order: WorkOrderRow | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditRow:
    row = AuditRow(
        at=tx.now,
        actor=actor.name,
        actor_role=actor.role_label,
        entity=entity,
        entity_id=entity_id,
        action=action,
        work_order_id=order.id if order is not None else None,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        note=note,
    )
    tx.session.add(row)
    tx.touched = True
    return row


def order_change(
    tx: Tx,
    actor: Principal,
    action: str,
    order: WorkOrderRow,
    before: Mapping[str, Any],
    *,
    note: str = "",
) -> AuditRow:
    """Record a change of `order` from its `before` snapshot to what it is now."""
    old, new = changes(before, snapshot(order))
    return record(
        tx,
        actor,
        action,
        entity_id=order.number or str(order.id),
        order=order,
        before=old,
        after=new,
        note=note,
    )
