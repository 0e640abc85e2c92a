"""Maintenance windows and shelved alarms: findings inside them are recorded but open no order."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticketing.api.deps import AnyRole, Planner, PlanningDep
from ticketing.api.routes.work_orders import DENIED, Answers
from ticketing.api.schemas import Problem, ShelfIn, ShelfOut, WindowIn, WindowOut

router = APIRouter(tags=["maintenance windows and shelving"])
NOT_FOUND: Answers = {404: {"model": Problem, "description": "No such window or shelf."}}
Id = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/maintenance-windows", summary="List maintenance windows", responses=DENIED)
async def list_windows(
    planning: PlanningDep,
    principal: AnyRole,
    include_cancelled: Annotated[bool, Query()] = False,
) -> list[WindowOut]:
    windows = await asyncio.to_thread(planning.windows, include_cancelled=include_cancelled)
    return [WindowOut.model_validate(w) for w in windows]


@router.post(
    "/maintenance-windows",
    summary="Schedule a maintenance window (planners)",
    status_code=201,
    responses=DENIED,
)
async def add_window(planning: PlanningDep, principal: Planner, body: WindowIn) -> WindowOut:
    window = await asyncio.to_thread(
        planning.add_window,
        body.target,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
        by=principal,
        recurrence=body.recurrence,
        timezone=body.timezone,
        until=body.until,
    )
    return WindowOut.model_validate(window)


@router.delete(
    "/maintenance-windows/{window_id}",
    summary="Cancel a maintenance window (planners)",
    responses={**DENIED, **NOT_FOUND},
)
async def cancel_window(planning: PlanningDep, principal: Planner, window_id: Id) -> WindowOut:
    return WindowOut.model_validate(
        await asyncio.to_thread(planning.cancel_window, window_id, by=principal)
    )


@router.get("/shelves", summary="List shelved alarms", responses=DENIED)
async def list_shelves(
    planning: PlanningDep, principal: AnyRole, include_expired: Annotated[bool, Query()] = False
) -> list[ShelfOut]:
    shelves = await asyncio.to_thread(planning.shelves, include_expired=include_expired)
    return [ShelfOut.model_validate(s) for s in shelves]


@router.post(
    "/shelves",
    summary="Shelve an equipment's alarms until an expiry (planners)",
    status_code=201,
    responses={**DENIED, **NOT_FOUND},
)
async def shelve(planning: PlanningDep, principal: Planner, body: ShelfIn) -> ShelfOut:
    shelf = await asyncio.to_thread(
        planning.shelve,
        body.equipment_id,
        reason=body.reason,
        expires_at=body.expires_at,
        by=principal,
        failure_mode=body.failure_mode,
    )
    return ShelfOut.model_validate(shelf)


@router.delete(
    "/shelves/{shelf_id}", summary="Unshelve (planners)", responses={**DENIED, **NOT_FOUND}
)
async def unshelve(planning: PlanningDep, principal: Planner, shelf_id: Id) -> ShelfOut:
    return ShelfOut.model_validate(
        await asyncio.to_thread(planning.unshelve, shelf_id, by=principal)
    )
