"""Maintenance KPIs (planners): MTTA, MTTR, backlog over time and by team, orders opened and
closed per period and per line, top failure modes, Paretos of failure modes and closing causes,
repeat orders and the first-time-fix rate, detector precision; computed in SQL."""

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
    LineCountOut,
    MeanTimeOut,
    OutcomeCountOut,
    ParetoOut,
    PrecisionOut,
    RepeatsOut,
    ResolutionOut,
    TeamBacklogOut,
    ThroughputOut,
)
from ticketing.errors import InvalidRequest

router = APIRouter(prefix="/analytics", tags=["analytics"])
Since = Annotated[AwareTime | None, Query(description="Orders created at or after (ISO 8601).")]
Until = Annotated[AwareTime | None, Query(description="Orders created before (ISO 8601).")]
PeriodsFrom = Annotated[AwareTime, Query(description="Start of the first period.")]
PeriodsUntil = Annotated[AwareTime, Query(description="The last period is the one holding it.")]
PeriodStep = Annotated[
    float, Query(gt=0, le=366 * 86400, description="Seconds per period (a week by default).")
]
Bars = Annotated[int, Query(ge=1, le=100, description="How many groups to draw as bars.")]


def _checked(since: datetime | None, until: datetime | None) -> None:
    """Refuse a period that ends before it starts."""
    if since is not None and until is not None and until < since:
        raise InvalidRequest("`until` must not be before `since`")


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
    _checked(since, until)
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
    since: PeriodsFrom,
    until: PeriodsUntil,
    step: PeriodStep = 7 * 86400,
) -> list[ThroughputOut]:
    """Periods of `step` seconds from `since`, the last one holding `until`: in each, the orders
    created and the orders closed (cancelled ones are not closed)."""
    rows = await asyncio.to_thread(analytics.throughput, _edges(since, until, step))
    return [ThroughputOut.model_validate(r) for r in rows]


def _edges(since: datetime, until: datetime, step: float) -> list[datetime]:
    """The edges of periods of `step` seconds from `since`, the last one holding `until`."""
    starts = _instants(since, until, step)
    try:
        return [*starts, starts[-1] + timedelta(seconds=step)]
    except OverflowError:
        raise InvalidRequest("the last period ends after the year 9999") from None


@router.get(
    "/orders-by-line", summary="Orders opened per line and period (a heat map)", responses=DENIED
)
async def orders_by_line(
    analytics: AnalyticsDep,
    principal: Planner,
    since: PeriodsFrom,
    until: PeriodsUntil,
    step: PeriodStep = 7 * 86400,
) -> list[LineCountOut]:
    """Periods as for throughput; only the (line, period) pairs with orders, cancelled orders
    left out."""
    rows = await asyncio.to_thread(analytics.orders_by_line, _edges(since, until, step))
    return [LineCountOut.model_validate(r) for r in rows]


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
    "/pareto/failure-modes",
    summary="Pareto of the failure modes opening orders (cancelled ones left out)",
    responses=DENIED,
)
async def failure_mode_pareto(
    analytics: AnalyticsDep,
    principal: Planner,
    since: Since = None,
    until: Until = None,
    limit: Bars = 5,
) -> ParetoOut:
    _checked(since, until)
    found = await asyncio.to_thread(analytics.failure_mode_pareto, since, until, limit=limit)
    return ParetoOut.model_validate(found)


@router.get(
    "/pareto/closing-causes",
    summary="Pareto of the causes closed orders were closed with",
    responses=DENIED,
)
async def closing_cause_pareto(
    analytics: AnalyticsDep,
    principal: Planner,
    since: Since = None,
    until: Until = None,
    limit: Bars = 5,
) -> ParetoOut:
    """Causes compared ignoring case and surrounding white space; orders closed without one are
    counted in `without_key`."""
    _checked(since, until)
    found = await asyncio.to_thread(analytics.closing_cause_pareto, since, until, limit=limit)
    return ParetoOut.model_validate(found)


@router.get(
    "/repeats",
    summary="Repeat orders and the first-time-fix rate",
    responses=DENIED,
)
async def repeat_orders(
    analytics: AnalyticsDep,
    principal: Planner,
    since: Since = None,
    until: Until = None,
    within_days: Annotated[
        float,
        Query(gt=0, le=366, description="A new order repeats a closing less than this before."),
    ] = 30,
) -> RepeatsOut:
    """A repeat is an order opened on the same equipment and failure mode less than
    `within_days` after an earlier one was closed; cancelled orders count for nothing. A closed
    order is fixed the first time if no repeat followed it, known once `within_days` have
    passed or a repeat came."""
    _checked(since, until)
    found = await asyncio.to_thread(
        analytics.repeat_orders, since, until, within=timedelta(days=within_days)
    )
    return RepeatsOut.model_validate(found)


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
