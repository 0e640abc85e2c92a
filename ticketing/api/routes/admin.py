"""Configuration (admins): API tokens, webhooks and their deliveries; the plant-wide audit
trail (planners); who the caller is."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticketing.api.deps import AccessDep, Admin, AnyRole, OutboxDep, Planner
from ticketing.api.routes.work_orders import DENIED, Answers
from ticketing.api.schemas import (
    AuditOut,
    CreatedWebhook,
    DeliveryOut,
    IssuedTokenOut,
    Me,
    Problem,
    TokenIn,
    TokenOut,
    WebhookIn,
    WebhookOut,
)
from ticketing.base import DeliveryState, Role

router = APIRouter()
NOT_FOUND: Answers = {404: {"model": Problem, "description": "No such token, webhook or delivery."}}
Id = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/me", summary="Who this token belongs to", tags=["access"], responses=DENIED)
async def me(principal: AnyRole) -> Me:
    return Me(name=principal.name, role=principal.role or Role.ADMIN, team=principal.team)


@router.get("/tokens", summary="List API tokens (admins)", tags=["access"], responses=DENIED)
async def list_tokens(access: AccessDep, principal: Admin) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in await asyncio.to_thread(access.tokens)]


@router.post(
    "/tokens",
    summary="Create an API token (admins)",
    status_code=201,
    tags=["access"],
    responses=DENIED,
)
async def create_token(access: AccessDep, principal: Admin, body: TokenIn) -> IssuedTokenOut:
    issued = await asyncio.to_thread(
        access.create_token,
        body.name,
        body.role,
        team=body.team,
        expires_at=body.expires_at,
        by=principal,
    )
    return IssuedTokenOut(token=TokenOut.model_validate(issued.token), secret=issued.secret)


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke an API token (admins)",
    tags=["access"],
    responses={**DENIED, **NOT_FOUND},
)
async def revoke_token(access: AccessDep, principal: Admin, token_id: Id) -> TokenOut:
    return TokenOut.model_validate(
        await asyncio.to_thread(access.revoke_token, token_id, by=principal)
    )


@router.get("/webhooks", summary="List webhooks (admins)", tags=["webhooks"], responses=DENIED)
async def list_webhooks(access: AccessDep, principal: Admin) -> list[WebhookOut]:
    return [WebhookOut.model_validate(w) for w in await asyncio.to_thread(access.webhooks)]


@router.post(
    "/webhooks",
    summary="Send work-order events to a URL (admins)",
    description="Each event is POSTed as JSON with an `Idempotency-Key` header (the same on every "
    "attempt) and `X-Forewarn-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>'>` "
    "keyed with the webhook's secret. A 2xx answer delivers it; anything else is retried with "
    'backoff. Answer `{"external_id": "..."}` (or an `X-External-Id` header) and later events '
    "of that order carry it.",
    status_code=201,
    tags=["webhooks"],
    responses={**DENIED, 409: {"model": Problem, "description": "A webhook has this name."}},
)
async def add_webhook(access: AccessDep, principal: Admin, body: WebhookIn) -> CreatedWebhook:
    webhook, secret = await asyncio.to_thread(
        access.add_webhook,
        body.name,
        body.url,
        by=principal,
        events=body.events,
        secret=body.secret,
    )
    return CreatedWebhook(webhook=WebhookOut.model_validate(webhook), secret=secret)


@router.delete(
    "/webhooks/{webhook_id}",
    summary="Stop a webhook (admins)",
    tags=["webhooks"],
    responses={**DENIED, **NOT_FOUND},
)
async def remove_webhook(access: AccessDep, principal: Admin, webhook_id: Id) -> WebhookOut:
    return WebhookOut.model_validate(
        await asyncio.to_thread(access.remove_webhook, webhook_id, by=principal)
    )


@router.get(
    "/deliveries",
    summary="Outgoing deliveries: webhooks, notifications, actions (admins)",
    tags=["webhooks"],
    responses=DENIED,
)
async def list_deliveries(
    outbox: OutboxDep,
    principal: Admin,
    state: Annotated[DeliveryState | None, Query()] = None,
    work_order: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    rows = await asyncio.to_thread(outbox.list, state=state, work_order=work_order, limit=limit)
    return [DeliveryOut.model_validate(d) for d in rows]


@router.post(
    "/deliveries/{delivery_id}/retry",
    summary="Retry a failed delivery now (admins)",
    status_code=204,
    tags=["webhooks"],
    responses={**DENIED, **NOT_FOUND},
)
async def retry_delivery(outbox: OutboxDep, principal: Admin, delivery_id: Id) -> None:
    await asyncio.to_thread(outbox.retry, delivery_id, by=principal)


@router.get(
    "/audit",
    summary="The plant-wide audit trail, newest first (planners)",
    tags=["audit"],
    responses=DENIED,
)
async def audit_trail(
    access: AccessDep,
    principal: Planner,
    entity: Annotated[str | None, Query(max_length=30)] = None,
    action: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    events = await asyncio.to_thread(access.audit_log, entity=entity, action=action, limit=limit)
    return [AuditOut.model_validate(e) for e in events]
