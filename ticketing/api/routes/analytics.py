"""Maintenance KPIs (planners): MTTA, MTTR, backlog over time, top failure modes, detector
precision; computed in SQL over the orders created in a period."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from ticketing.analytics import MAX_BUCKETS
from ticketing.api.deps import AnalyticsDep, Planner
from ticketing.api.routes.work_orders import DENIED
from ticketing.api.schemas import (
    AwareTime,
    BacklogOut,
    FailureModeCountOut,
    MeanTimeOut,
    PrecisionOut,
    ResolutionOut,
)
from ticketing.errors import InvalidRequest

router = APIRouter(prefix="/analytics", tags=["analytics"])
Since = Annotated[AwareTime | None, Query(description="Orders created at or after (ISO 8601).")]
Until = Annotated[AwareTime | None, Query(description="Orders created before (ISO 8601).")]


@router.get("/mtta", summary="Mean time to acknowledge, overall and per priority", responses=DENIED)
async def mtta(
    analytics: AnalyticsDep, principal: Planner, since: Since = None, until: Until = None
) -> list[MeanTimeOut]:
    rows = await asyncio.to_thread(analytics.mtta, since, until)
    return [MeanTimeOut.model_validate(r) for r in rows]


@router.get("/mttr", summary="Mean time to resolve and to repair", responses=DENIED)
async def mttr(
    analytics: AnalyticsDep, principal: Planner, since: Since = None, until: Until = None
) -> list[ResolutionOut]:
    rows = await asyncio.to_thread(analytics.mttr, since, until)
    return [ResolutionOut.model_validate(r) for r in rows]


@router.get("/backlog", summary="Active orders over time", responses=DENIED)
async def backlog(
    analytics: AnalyticsDep,
    principal: Planner,
    since: Annotated[AwareTime, Query(description="First instant.")],
    until: Annotated[AwareTime, Query(description="Last instant (included).")],
    step: Annotated[
        float, Query(gt=0, le=366 * 86400, description="Seconds between instants.")
    ] = 86400,
) -> list[BacklogOut]:
    if until < since:
        raise InvalidRequest("`until` must not be before `since`")
    steps = (until - since).total_seconds() / step  # infinite for a step too small to count
    if not steps < MAX_BUCKETS:
        raise InvalidRequest(
            f"more than {MAX_BUCKETS} instants asked: widen the step or shorten the period"
        )
    count = int(steps) + 1
    instants: list[datetime] = [since + timedelta(seconds=step * k) for k in range(count)]
    rows = await asyncio.to_thread(analytics.backlog, instants)
    return [BacklogOut.model_validate(r) for r in rows]


@router.get("/top-failure-modes", summary="Failure modes opening the most orders", responses=DENIED)
async def top_failure_modes(
    analytics: AnalyticsDep,
    principal: Planner,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[FailureModeCountOut]:
    rows = await asyncio.to_thread(analytics.top_failure_modes, since, until, limit=limit)
    return [FailureModeCountOut.model_validate(r) for r in rows]


@router.get(
    "/detector-precision",
    summary="Per detector: confirmed vs false-alarm closed orders",
    responses=DENIED,
)
async def detector_precision(
    analytics: AnalyticsDep, principal: Planner, since: Since = None, until: Until = None
) -> list[PrecisionOut]:
    rows = await asyncio.to_thread(analytics.detector_precision, since, until)
    return [PrecisionOut.model_validate(r) for r in rows]
