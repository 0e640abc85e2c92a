"""Alarms: condition episodes per equipment and failure mode (active/cleared x acknowledged)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticketing.api.deps import AlarmsDep, AnyRole
from ticketing.api.routes.work_orders import DENIED
from ticketing.api.schemas import AlarmOut, Problem

router = APIRouter(prefix="/alarms", tags=["alarms"])


@router.get("", summary="List alarms, newest first", responses=DENIED)
async def list_alarms(
    alarms: AlarmsDep,
    principal: AnyRole,
    active: Annotated[bool | None, Query()] = None,
    acknowledged: Annotated[bool | None, Query()] = None,
    equipment: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[AlarmOut]:
    """A technician sees the alarms of their team's equipment."""
    found = await asyncio.to_thread(
        alarms.list,
        active=active,
        acknowledged=acknowledged,
        equipment_id=equipment,
        limit=limit,
        offset=offset,
        principal=principal,
    )
    return [AlarmOut.model_validate(a) for a in found]


@router.post(
    "/{alarm_id}/acknowledge",
    summary="Acknowledge an alarm",
    responses={**DENIED, 404: {"model": Problem, "description": "No such alarm."}},
)
async def acknowledge_alarm(
    alarms: AlarmsDep,
    principal: AnyRole,
    alarm_id: Annotated[int, Path(ge=1, le=2**62)],
) -> AlarmOut:
    return AlarmOut.model_validate(
        await asyncio.to_thread(alarms.acknowledge, alarm_id, by=principal)
    )
