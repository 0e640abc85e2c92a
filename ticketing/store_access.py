"""The access part of the store: the audit trail and its event feed, API tokens, webhooks."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ticketing import access, views
from ticketing.audit import record as audit_record
from ticketing.base import (
    SYSTEM,
    AuditEvent,
    Event,
    IssuedToken,
    Principal,
    Role,
    TokenView,
    WebhookView,
    WorkOrderView,
)
from ticketing.errors import (
    Conflict,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
)
from ticketing.models import (
    AuditRow,
    TokenRow,
    WebhookRow,
    WorkOrderRow,
)
from ticketing.store_base import Actor, Storage, as_principal, visible_to


class Access:
    """Who may do what and what they did: API tokens, webhooks, the audit trail."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def audit_log(
        self,
        *,
        entity: str | None = None,
        action: str | None = None,
        after_id: int = 0,
        limit: int = 100,
        descending: bool = True,
    ) -> builtins.list[AuditEvent]:
        """The plant-wide audit trail."""
        query = select(AuditRow, WorkOrderRow.number).outerjoin(
            WorkOrderRow, WorkOrderRow.id == AuditRow.work_order_id
        )
        if entity is not None:
            query = query.where(AuditRow.entity == entity)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if after_id:
            query = query.where(AuditRow.id > after_id)
        query = query.order_by(AuditRow.id.desc() if descending else AuditRow.id).limit(limit)
        with self._storage.read("read the audit trail") as tx:
            return [views.audit_event(row, n) for row, n in tx.session.execute(query)]

    def events_after(
        self,
        after_id: int,
        *,
        principal: Principal = SYSTEM,
        exclude: Collection[int] = (),
        limit: int = 200,
    ) -> builtins.list[tuple[AuditEvent, WorkOrderView]]:
        """Work-order changes with an audit id above `after_id` and not in `exclude`, oldest
        first, each with the order as it is now (only those the principal may see).

        Ids are allocated when a transaction writes but become visible when it commits, which on
        PostgreSQL may be out of order: a reader that follows the trail asks again from a little
        behind the newest id it has seen (`EVENT_LOOKBACK`), excluding the ids it has."""
        query = (
            select(AuditRow, WorkOrderRow)
            .join(WorkOrderRow, WorkOrderRow.id == AuditRow.work_order_id)
            .where(AuditRow.id > after_id, *visible_to(principal))
            .order_by(AuditRow.id)
            .limit(limit + len(exclude))
        )
        with self._storage.read("read work-order events") as tx:
            rows = tx.session.execute(query)
            out = [
                (views.audit_event(event, row.number), views.order(row))
                for event, row in rows
                if event.id not in exclude
            ]
            return out[:limit]

    def last_event_id(self) -> int:
        with self._storage.read("read the audit trail") as tx:
            return int(tx.session.scalar(select(func.max(AuditRow.id))) or 0)

    def create_token(
        self,
        name: str,
        role: Role,
        *,
        team: str | None = None,
        expires_at: datetime | None = None,
        by: Actor = "cli",
    ) -> IssuedToken:
        """A new API token; its secret is in the result and nowhere else."""
        principal = as_principal(by)
        access.require(principal, Role.ADMIN, "create tokens")
        name = name.strip()
        if not name:
            raise InvalidRequest("name who the token is for (a technician's id, a person)")
        team = access.token_team(self._storage.organisation, name, role, team)
        secret = access.new_secret()
        with self._storage.write("create a token") as tx:
            if expires_at is not None and expires_at <= tx.now:
                raise InvalidRequest("the token would be expired already; give a future expiry")
            row = TokenRow(
                name=name,
                role=role,
                team=team,
                token_hash=access.digest(secret),
                prefix=secret[:10],
                created_at=tx.now,
                created_by=principal.name,
                expires_at=expires_at,
            )
            tx.session.add(row)
            tx.session.flush()
            audit_record(
                tx,
                principal,
                "created",
                entity="token",
                entity_id=str(row.id),
                after={"name": name, "role": role.value, "team": team},
            )
            return IssuedToken(views.token(row), secret)

    def authenticate(self, secret: str) -> Principal:
        """The principal a bearer token stands for; `NotAuthenticated` if it is unknown,
        revoked or expired."""
        if not secret.startswith(access.TOKEN_PREFIX) or len(secret) > 200:
            raise NotAuthenticated(
                f"not a forewarn token (they start with {access.TOKEN_PREFIX}); "
                "create one with `forewarn tokens create`"
            )
        with self._storage.read("check a token") as tx:
            row = access.find_token(tx.session, secret)
            if row is None:
                raise NotAuthenticated("unknown token; create one with `forewarn tokens create`")
            principal = access.principal_of(row, tx.now)
            stale = (
                row.last_used_at is None
                or (tx.now - row.last_used_at).total_seconds() > access.LAST_USED_RESOLUTION
            )
        if stale:
            with self._storage.write("note a token's use") as tx:
                used = tx.session.get(TokenRow, row.id)
                if used is not None:
                    used.last_used_at = tx.now
        return principal

    def tokens(self) -> builtins.list[TokenView]:
        with self._storage.read("list tokens") as tx:
            return [
                views.token(row)
                for row in tx.session.scalars(select(TokenRow).order_by(TokenRow.id))
            ]

    def revoke_token(self, token: int | str, *, by: Actor = "cli") -> TokenView:
        """Revoke a token by id or by the prefix shown when it was listed."""
        principal = as_principal(by)
        access.require(principal, Role.ADMIN, "revoke tokens")
        with self._storage.write(f"revoke token {token}") as tx:
            if isinstance(token, int):
                row = tx.session.get(TokenRow, token, with_for_update=True)
            else:
                rows = tx.session.scalars(
                    select(TokenRow).where(TokenRow.prefix.startswith(token, autoescape=True))
                ).all()
                if len(rows) > 1:
                    raise InvalidRequest(f"{token!r} matches {len(rows)} tokens; give the id")
                row = rows[0] if rows else None
            if row is None:
                raise NotFound("token", token)
            if row.revoked_at is None:
                row.revoked_at = tx.now
                audit_record(
                    tx,
                    principal,
                    "revoked",
                    entity="token",
                    entity_id=str(row.id),
                    after={"name": row.name, "role": row.role.value},
                )
            return views.token(row)

    def add_webhook(
        self,
        name: str,
        url: str,
        *,
        by: Actor,
        events: Iterable[Event] = tuple(Event),
        secret: str | None = None,
    ) -> tuple[WebhookView, str]:
        """Send work-order events to `url`, signed with `secret` (generated when not given);
        returns the webhook and the secret, shown this once."""
        principal = as_principal(by)
        access.require(principal, Role.ADMIN, "configure webhooks")
        secret = secret or access.new_secret().removeprefix(access.TOKEN_PREFIX)
        chosen = sorted({Event(e).value for e in events})
        if not chosen:
            raise InvalidRequest(
                f"subscribe to at least one event: {', '.join(e.value for e in Event)}"
            )
        with self._storage.write(f"add webhook {name}") as tx:
            row = WebhookRow(
                name=name,
                url=url,
                secret=secret,
                events=chosen,
                active=True,
                created_at=tx.now,
                created_by=principal.name,
            )
            try:
                with tx.session.begin_nested():
                    tx.session.add(row)
                    tx.session.flush()
            except IntegrityError as exc:
                raise Conflict(f"a webhook named {name!r} exists; choose another name") from exc
            audit_record(
                tx,
                principal,
                "created",
                entity="webhook",
                entity_id=str(row.id),
                after={"name": name, "url": url, "events": chosen},
            )
            return views.webhook(row), secret

    def webhooks(self) -> builtins.list[WebhookView]:
        with self._storage.read("list webhooks") as tx:
            return [
                views.webhook(r)
                for r in tx.session.scalars(select(WebhookRow).order_by(WebhookRow.id))
            ]

    def remove_webhook(self, webhook_id: int, *, by: Actor) -> WebhookView:
        """Stop sending to a webhook (its pending deliveries wait until it is re-added)."""
        principal = as_principal(by)
        access.require(principal, Role.ADMIN, "configure webhooks")
        with self._storage.write(f"remove webhook {webhook_id}") as tx:
            row = tx.session.get(WebhookRow, webhook_id, with_for_update=True)
            if row is None:
                raise NotFound("webhook", webhook_id)
            if row.active:
                row.active = False
                audit_record(
                    tx,
                    principal,
                    "disabled",
                    entity="webhook",
                    entity_id=str(row.id),
                    before={"active": True},
                    after={"active": False},
                )
            return views.webhook(row)
