"""The outbox part of the store: deliveries to webhooks and automatic actions, claimed and
finished by the workers, listed and retried by admins."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import func, select

from ticketing import access, outbox, views, workflow
from ticketing.audit import record as audit_record
from ticketing.base import (
    SYSTEM,
    DeliveryView,
    Role,
)
from ticketing.errors import NotFound
from ticketing.models import (
    OutboxRow,
    WebhookRow,
    WorkOrderRow,
)
from ticketing.store_base import Actor, Storage, as_principal


class Outbox:
    """Deliveries to webhooks and automatic actions: claimed by workers, listed, retried."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def claim(self, *, limit: int = 50) -> builtins.list[outbox.Job]:
        with self._storage.write("claim deliveries") as tx:
            return outbox.claim(tx, limit=limit)

    def finish(self, job: outbox.Job, result: outbox.Outcome) -> None:
        with self._storage.write(f"record delivery {job.id}") as tx:
            outbox.finish(tx, job, result)

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery is due."""
        from ticketing.base import DeliveryState

        with self._storage.read("read the outbox") as tx:
            return tx.session.scalar(
                select(func.min(OutboxRow.next_attempt_at)).where(
                    OutboxRow.state == DeliveryState.PENDING
                )
            )

    def list(
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
        with self._storage.read("list deliveries") as tx:
            return [views.delivery(row, n) for row, n in tx.session.execute(query)]

    def retry(self, delivery_id: int, *, by: Actor) -> None:
        principal = as_principal(by)
        access.require(principal, Role.ADMIN, "retry deliveries")
        with self._storage.write(f"retry delivery {delivery_id}") as tx:
            if not outbox.retry(tx, delivery_id):
                raise NotFound("undelivered delivery", delivery_id)
            audit_record(tx, principal, "retried", entity="delivery", entity_id=str(delivery_id))

    def external_ids(self, number: str) -> dict[str, str]:
        """The ids webhook receivers gave their own tickets for this order, by webhook name."""
        from ticketing.models import ExternalRefRow

        with self._storage.read(f"read the external ids of {number}") as tx:
            row = workflow.load(tx, SYSTEM, number)
            query = (
                select(WebhookRow.name, ExternalRefRow.external_id)
                .join(WebhookRow, WebhookRow.id == ExternalRefRow.webhook_id)
                .where(ExternalRefRow.work_order_id == row.id)
            )
            return dict(tx.session.execute(query).all())
