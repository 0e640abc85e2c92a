"""Maintenance KPIs (planners): MTTA, MTTR, backlog over time and by team, orders opened and
closed per period, top failure modes, detector precision; computed in SQL."""

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
    LeadTimeOut,
    MeanTimeOut,
    OutcomeCountOut,
    PrecisionOut,
    ResolutionOut,
    TeamBacklogOut,
    ThroughputOut,
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
    rows = await asyncio.to_thread(analytics.backlog, _instants(since, until, step))
    return [BacklogOut.model_validate(r) for r in rows]


def _instants(since: datetime, until: datetime, step: float) -> list[datetime]:
    if until < since:
        raise InvalidRequest("`until` must not be before `since`")
    steps = (until - since).total_seconds() / step  # infinite for a step too small to count
    if not steps < MAX_BUCKETS:
        raise InvalidRequest(
            f"more than {MAX_BUCKETS} instants asked: widen the step or shorten the period"
        )
    return [since + timedelta(seconds=step * k) for k in range(int(steps) + 1)]


@router.get("/throughput", summary="Orders opened and closed per period", responses=DENIED)
async def throughput(
    analytics: AnalyticsDep,
    principal: Planner,
    since: Annotated[AwareTime, Query(description="Start of the first period.")],
    until: Annotated[AwareTime, Query(description="The last period is the one holding it.")],
    step: Annotated[
        float, Query(gt=0, le=366 * 86400, description="Seconds per period (a week by default).")
    ] = 7 * 86400,
) -> list[ThroughputOut]:
    """Periods of `step` seconds from `since`, the last one holding `until`: in each, the orders
    created and the orders closed (cancelled ones are not closed)."""
    starts = _instants(since, until, step)
    try:
        edges = [*starts, starts[-1] + timedelta(seconds=step)]
    except OverflowError:
        raise InvalidRequest("the last period ends after the year 9999") from None
    rows = await asyncio.to_thread(analytics.throughput, edges)
    return [ThroughputOut.model_validate(r) for r in rows]


@router.get(
    "/backlog-by-team", summary="Active orders per team and priority, now", responses=DENIED
)
async def backlog_by_team(analytics: AnalyticsDep, principal: Planner) -> list[TeamBacklogOut]:
    rows = await asyncio.to_thread(analytics.backlog_by_team)
    return [TeamBacklogOut.model_validate(r) for r in rows]


@router.get(
    "/outcomes",
    summary="Closed orders by outcome: confirmed, false alarm, not judged",
    responses=DENIED,
)
async def outcomes(
    analytics: AnalyticsDep, principal: Planner, since: Since = None, until: Until = None
) -> list[OutcomeCountOut]:
    """The share of false alarms among the judged orders is false_alarm / (confirmed +
    false_alarm)."""
    rows = await asyncio.to_thread(analytics.outcomes, since, until)
    return [OutcomeCountOut.model_validate(r) for r in rows]


@router.get(
    "/lead-time",
    summary="Warning given by predictive orders: finding to forecast alarm limit",
    responses=DENIED,
)
async def lead_time(
    analytics: AnalyticsDep, principal: Planner, since: Since = None, until: Until = None
) -> LeadTimeOut:
    """Over the predictive orders created in the period whose latest finding forecast a time to
    the alarm limit."""
    return LeadTimeOut.model_validate(await asyncio.to_thread(analytics.lead_time, since, until))


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
