"""The transactional outbox: webhook events, notifications and automatic actions are written in
the transaction of the change they report, then delivered (at least once) by `ticketing.delivery`.

Deliveries to one destination about one order go out in the order they were written: a row is
only claimed when no earlier row for the same destination and order is still pending.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from devices import ActionEvent, AutomaticAction
from devices.organisation import fill_action
from ticketing import audit
from ticketing.base import SYSTEM, DeliveryKind, DeliveryState, Event
from ticketing.models import ExternalRefRow, OutboxRow, WebhookRow, WorkOrderRow
from ticketing.tx import Tx
from ticketing.views import order as order_view

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0
RETRY_FOR = timedelta(days=3)
"""A delivery still failing this long after it was written is marked failed (and kept)."""
LEASE = timedelta(seconds=60)
"""How long a claimed delivery is left to its worker before another may take it."""
SIGNATURE_HEADER = "X-Forewarn-Signature"


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed delivery attempt."""

    id: int
    key: str
    kind: DeliveryKind
    destination: str
    event: str
    url: str | None
    topic: str | None
    qos: int
    retain: bool
    body: bytes
    secret: str | None
    attempt: int
    webhook_id: int | None
    work_order_id: int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt went."""

    ok: bool
    status: int | None = None
    error: str | None = None
    external_id: str | None = None


def emit(tx: Tx, row: WorkOrderRow, event: Event, *, note: str = "") -> None:
    """Queue `event` about `row` for every active webhook that subscribed to it."""
    tx.session.flush()
    hooks = tx.session.scalars(select(WebhookRow).where(WebhookRow.active))
    document: dict[str, Any] | None = None
    for hook in hooks:
        if event.value not in hook.events:
            continue
        if document is None:
            document = order_view(row).to_json()
        payload = {
            "event": event.value,
            "occurred_at": tx.now.isoformat(),
            "note": note,
            "work_order": document,
        }
        _queue(
            tx,
            DeliveryKind.WEBHOOK,
            hook.name,
            event.value,
            row,
            payload,
            url=hook.url,
            webhook_id=hook.id,
        )


def notify(
    tx: Tx,
    row: WorkOrderRow,
    person: str,
    url: str | None,
    *,
    reason: str,
    message: str,
) -> bool:
    """Queue a notification to `person` (or a team channel) if they have somewhere to get it."""
    if url is None:
        return False
    tx.session.flush()
    payload = {
        "reason": reason,
        "message": f"{row.number} {row.title} ({row.priority.value}): {message}",
        "occurred_at": tx.now.isoformat(),
        "work_order": order_view(row).to_json(),
    }
    _queue(tx, DeliveryKind.NOTIFY, person, f"notify.{reason}", row, payload, url=url)
    return True


def notify_first(tx: Tx, row: WorkOrderRow, *, reason: str, message: str) -> str | None:
    """Tell the order's first target: its assignee, else its team's channel, else the team
    lead; returns who was told, if anyone could be."""
    org = tx.organisation
    team = org.teams.get(row.team)
    candidates: list[tuple[str, str | None]] = []
    if row.assignee is not None and row.assignee in org.people:
        candidates.append((row.assignee, org.people[row.assignee].notify))
    if team is not None:
        candidates.append((team.id, team.notify))
        if team.lead is not None and team.lead in org.people:
            candidates.append((team.lead, org.people[team.lead].notify))
    for who, url in candidates:
        if notify(tx, row, who, url, reason=reason, message=message):
            return who
    return None


def run_actions(tx: Tx, row: WorkOrderRow, event: ActionEvent) -> None:
    """Queue the automatic actions configured for the order's failure mode and `event`."""
    actions = tx.organisation.actions_for(row.failure_mode_code, row.equipment_type, event)
    if not actions:
        return
    tx.session.flush()
    site, area, line, *_ = [*row.equipment_path.split("/"), "", "", ""]
    values = {
        "site": site,
        "area": area,
        "line": line,
        "equipment": row.equipment_id,
        "order": row.number or "",
        "failure_mode": row.failure_mode_code,
        "priority": row.priority.value,
        "level": str(row.escalation_level),
    }
    for action in actions:
        _action(tx, row, action, event, values)


def _action(
    tx: Tx,
    row: WorkOrderRow,
    action: AutomaticAction,
    event: ActionEvent,
    values: Mapping[str, str],
) -> None:
    name = f"action.{event.value}"
    if action.topic is not None:
        topic = fill_action(action.topic, values)
        payload = fill_action(dict(action.payload), values)
        _queue(
            tx,
            DeliveryKind.ACTION_MQTT,
            topic,
            name,
            row,
            payload,
            topic=topic,
            qos=action.qos,
            retain=action.retain,
        )
        target = f"MQTT {topic}"
    else:
        payload = {
            "action": event.value,
            "occurred_at": tx.now.isoformat(),
            "work_order": order_view(row).to_json(),
        }
        _queue(tx, DeliveryKind.ACTION_HTTP, action.url or "", name, row, payload, url=action.url)
        target = f"POST {action.url}"
    audit.record(
        tx,
        SYSTEM,
        "action_queued",
        entity_id=row.number or "",
        order=row,
        after={"target": target, "event": event.value},
        note=f"automatic action for {row.failure_mode_code} on {event.value}: {target}",
    )


def _queue(
    tx: Tx,
    kind: DeliveryKind,
    destination: str,
    event: str,
    row: WorkOrderRow | None,
    payload: Mapping[str, Any],
    *,
    url: str | None = None,
    topic: str | None = None,
    qos: int = 1,
    retain: bool = False,
    webhook_id: int | None = None,
) -> OutboxRow:
    item = OutboxRow(
        key=uuid.uuid4().hex,
        kind=kind,
        destination=destination[:200],
        url=url,
        topic=topic,
        qos=qos,
        retain=retain,
        webhook_id=webhook_id,
        event=event,
        work_order_id=row.id if row is not None else None,
        payload=dict(payload),
        created_at=tx.now,
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=tx.now,
    )
    tx.session.add(item)
    tx.touched = True
    tx.queued += 1
    return item


def claim(tx: Tx, *, limit: int = 50) -> list[Job]:
    """Take up to `limit` deliveries that are due, each the oldest pending one of its
    destination and order, and lease them to the caller."""
    earlier = aliased(OutboxRow)
    blocked = exists().where(
        earlier.state == DeliveryState.PENDING,
        earlier.kind == OutboxRow.kind,
        earlier.destination == OutboxRow.destination,
        earlier.work_order_id == OutboxRow.work_order_id,
        earlier.id < OutboxRow.id,
    )
    query = (
        select(OutboxRow)
        .outerjoin(WebhookRow, WebhookRow.id == OutboxRow.webhook_id)
        .where(
            OutboxRow.state == DeliveryState.PENDING,
            OutboxRow.next_attempt_at <= tx.now,
            or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < tx.now),
            or_(OutboxRow.webhook_id.is_(None), WebhookRow.active),
            ~blocked,
        )
        .order_by(OutboxRow.id)
        .limit(limit)
        .with_for_update(of=OutboxRow, skip_locked=True)
    )
    jobs = []
    for item in tx.session.scalars(query):
        item.lease_until = tx.now + LEASE
        payload = dict(item.payload)
        secret = None
        if item.webhook_id is not None:
            hook = tx.session.get(WebhookRow, item.webhook_id)
            secret = hook.secret if hook is not None else None
            if item.work_order_id is not None:
                ref = tx.session.get(ExternalRefRow, (item.work_order_id, item.webhook_id))
                payload["external_id"] = ref.external_id if ref is not None else None
        jobs.append(
            Job(
                id=item.id,
                key=item.key,
                kind=item.kind,
                destination=item.destination,
                event=item.event,
                url=item.url,
                topic=item.topic,
                qos=item.qos,
                retain=item.retain,
                body=json.dumps(payload, separators=(",", ":")).encode(),
                secret=secret,
                attempt=item.attempts + 1,
                webhook_id=item.webhook_id,
                work_order_id=item.work_order_id,
            )
        )
    return jobs


def finish(tx: Tx, job: Job, outcome: Outcome) -> None:
    """Record how an attempt went: delivered, or when to try again (or that it gave up)."""
    item = tx.session.get(OutboxRow, job.id, with_for_update=True)
    if item is None or item.state is not DeliveryState.PENDING:
        return
    item.attempts += 1
    item.lease_until = None
    item.response_status = outcome.status
    if outcome.ok:
        item.state = DeliveryState.DELIVERED
        item.delivered_at = tx.now
        item.last_error = None
        _delivered(tx, item, outcome)
        return
    item.last_error = (outcome.error or "failed")[:2000]
    if tx.now - item.created_at >= RETRY_FOR:
        item.state = DeliveryState.FAILED
        return
    item.next_attempt_at = tx.now + timedelta(seconds=backoff(item.attempts))


def _delivered(tx: Tx, item: OutboxRow, outcome: Outcome) -> None:
    order = (
        tx.session.get(WorkOrderRow, item.work_order_id) if item.work_order_id is not None else None
    )
    number = order.number or "" if order is not None else ""
    if item.kind in (DeliveryKind.ACTION_MQTT, DeliveryKind.ACTION_HTTP, DeliveryKind.NOTIFY):
        action = "notified" if item.kind is DeliveryKind.NOTIFY else "action_delivered"
        audit.record(
            tx,
            SYSTEM,
            action,
            entity_id=number or item.key,
            order=order,
            after={"destination": item.destination, "attempts": item.attempts},
            note=f"{item.event} delivered to {item.destination}",
        )
    if (
        outcome.external_id
        and item.webhook_id is not None
        and order is not None
        and item.kind is DeliveryKind.WEBHOOK
    ):
        ref = tx.session.get(ExternalRefRow, (order.id, item.webhook_id))
        old = ref.external_id if ref is not None else None
        if old == outcome.external_id:
            return
        if ref is None:
            tx.session.add(
                ExternalRefRow(
                    work_order_id=order.id,
                    webhook_id=item.webhook_id,
                    external_id=outcome.external_id[:200],
                    updated_at=tx.now,
                )
            )
        else:
            ref.external_id = outcome.external_id[:200]
            ref.updated_at = tx.now
        audit.record(
            tx,
            SYSTEM,
            "external_id",
            entity_id=number,
            order=order,
            before={item.destination: old},
            after={item.destination: outcome.external_id},
            note=f"{item.destination} tracks it as {outcome.external_id}",
        )


def retry(tx: Tx, delivery_id: int) -> bool:
    """Put a failed (or pending) delivery back in line now; False if it was delivered."""
    item = tx.session.get(OutboxRow, delivery_id, with_for_update=True)
    if item is None or item.state is DeliveryState.DELIVERED:
        return False
    item.state = DeliveryState.PENDING
    item.next_attempt_at = tx.now
    item.lease_until = None
    item.created_at = tx.now
    tx.touched = True
    return True


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failures: doubling from 1 s up to
    5 minutes, with 10 % jitter so that receivers coming back are not hit all at once."""
    delay = min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)
    return float(delay * random.uniform(0.9, 1.1))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether `header` is a valid signature of `body` (for receivers and tests)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    expected = signature(secret, int(parts["t"]), body)
    return hmac.compare_digest(expected, header)
