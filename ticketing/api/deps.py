"""Dependencies of the endpoints, as `Annotated` aliases so signatures read like prose: the store
or the part of it an endpoint uses, and the caller (a bearer token) with the least role an
endpoint needs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ticketing import access
from ticketing.base import Principal, Role
from ticketing.errors import NotAuthenticated
from ticketing.store import WorkOrderStore
from ticketing.store_access import Access
from ticketing.store_alarms import Alarms
from ticketing.store_analytics import Analytics
from ticketing.store_orders import Orders
from ticketing.store_outbox import Outbox
from ticketing.store_planning import Planning

ExtraStatus = Callable[[], Mapping[str, Any]]
"""Returns what the health endpoint reports besides the store (the pipeline's counters)."""

bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`forewarn tokens create`); roles: technician, planner, admin.",
)


def get_store(request: Request) -> WorkOrderStore:
    store: WorkOrderStore = request.app.state.store
    return store


def get_extra_status(request: Request) -> ExtraStatus | None:
    extra: ExtraStatus | None = request.app.state.extra_status
    return extra


StoreDep = Annotated[WorkOrderStore, Depends(get_store)]
"""The whole store: its storage (ping, clock, organisation, listeners) and every part."""


def get_orders(store: StoreDep) -> Orders:
    return store.orders


def get_alarms(store: StoreDep) -> Alarms:
    return store.alarms


def get_planning(store: StoreDep) -> Planning:
    return store.planning


def get_access(store: StoreDep) -> Access:
    return store.access


def get_analytics(store: StoreDep) -> Analytics:
    return store.analytics


def get_outbox(store: StoreDep) -> Outbox:
    return store.outbox


OrdersDep = Annotated[Orders, Depends(get_orders)]
AlarmsDep = Annotated[Alarms, Depends(get_alarms)]
PlanningDep = Annotated[Planning, Depends(get_planning)]
AccessDep = Annotated[Access, Depends(get_access)]
AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
ExtraStatusDep = Annotated[ExtraStatus | None, Depends(get_extra_status)]


async def get_principal(
    access: AccessDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise NotAuthenticated(
            "send an API token as 'Authorization: Bearer <token>' "
            "(create one with `forewarn tokens create`)"
        )
    return await asyncio.to_thread(access.authenticate, credentials.credentials)


def _at_least(role: Role, doing: str) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        access.require(principal, role, doing)
        return principal

    return check


AnyRole = Annotated[Principal, Depends(get_principal)]
"""Any valid token: technician, planner or admin."""
Planner = Annotated[Principal, Depends(_at_least(Role.PLANNER, "do this"))]
Admin = Annotated[Principal, Depends(_at_least(Role.ADMIN, "do this"))]
