"""Maintenance KPIs computed in SQL (SQLite and PostgreSQL alike), over orders created in a
period:

- MTTA, mean time to acknowledge: created -> acknowledged (started counts as acknowledged).
- MTTR, mean time to resolve: created -> closed, over closed orders (cancelled ones excluded);
  with the mean repair time, started -> done.
- Backlog over time: active orders at each instant (created at or before it, not yet closed or
  cancelled).
- Throughput: orders opened and orders closed in each period (a week on the page).
- Orders by line: the orders (cancelled ones left out) opened on each production line in each
  period, the heat map of where the work comes from.
- Backlog by team and priority: the active orders now, counted per team and priority.
- Outcomes: the closed orders by what closing them found (confirmed, false alarm, not judged).
- Lead time of predictive orders: the time from the finding to the alarm limit that its forecast
  gave (the latest finding's, as the order holds it), over the orders that have one.
- Top failure modes per equipment type: how many orders each opened.
- Detector precision: of the closed orders with an outcome that a detector contributed findings
  to, the share confirmed (the rest were false alarms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, distinct, func, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ticketing.base import Outcome, WorkOrderType
from ticketing.lifecycle import Status
from ticketing.models import FindingRow, UTCDateTime, WorkOrderRow

MAX_BUCKETS = 500
"""SQLite refuses compound SELECTs of more terms (SQLITE_MAX_COMPOUND_SELECT)."""


class seconds_between(FunctionElement[float]):  # noqa: N801 (an SQL function)
    """Seconds from the first timestamp to the second, in each dialect's own arithmetic."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _postgres_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@dataclass(frozen=True, slots=True)
class MeanTime:
    priority: str | None
    """None for all priorities together."""
    orders: int
    mean_seconds: float | None


@dataclass(frozen=True, slots=True)
class Resolution:
    priority: str | None
    orders: int
    mean_seconds: float | None
    """Created -> closed."""
    mean_repair_seconds: float | None
    """Started -> done, over the orders that went through both."""


@dataclass(frozen=True, slots=True)
class BacklogPoint:
    at: datetime
    active: int


@dataclass(frozen=True, slots=True)
class Throughput:
    start: datetime
    end: datetime
    opened: int
    """Orders created in [start, end)."""
    closed: int
    """Orders closed (not cancelled) in [start, end)."""


@dataclass(frozen=True, slots=True)
class LineCount:
    line: str
    """The ISA-95 path of the line: site/area/line."""
    start: datetime
    end: datetime
    orders: int
    """Orders created in [start, end), cancelled ones left out."""


@dataclass(frozen=True, slots=True)
class TeamBacklog:
    team: str
    priority: str
    active: int


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    outcome: str | None
    """None: closed without saying whether the finding was right."""
    orders: int


@dataclass(frozen=True, slots=True)
class LeadTime:
    orders: int
    """Predictive orders created in the period."""
    forecast: int
    """Of which with a time to the alarm limit."""
    mean_seconds: float | None
    min_seconds: float | None


@dataclass(frozen=True, slots=True)
class FailureModeCount:
    equipment_type: str
    failure_mode_code: str
    failure_mode_name: str
    orders: int


@dataclass(frozen=True, slots=True)
class Precision:
    detector: str
    confirmed: int
    false_alarms: int
    precision: float | None


def created_between(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """Conditions of an order created in [since, until) (either end open when None)."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(WorkOrderRow.created_at >= since)
    if until is not None:
        conditions.append(WorkOrderRow.created_at < until)
    return conditions


def mtta(session: Session, since: datetime | None, until: datetime | None) -> list[MeanTime]:
    acknowledged = func.coalesce(WorkOrderRow.acknowledged_at, WorkOrderRow.started_at)
    seconds = seconds_between(WorkOrderRow.created_at, acknowledged)
    where = [*created_between(since, until), acknowledged.is_not(None)]
    rows = [
        MeanTime(priority, count, _float(mean))
        for priority, count, mean in session.execute(
            select(WorkOrderRow.priority, func.count(), func.avg(seconds))
            .where(*where)
            .group_by(WorkOrderRow.priority)
        )
    ]
    count, mean = session.execute(select(func.count(), func.avg(seconds)).where(*where)).one()
    return [MeanTime(None, count, _float(mean)), *sorted(rows, key=_by_priority)]


def mttr(session: Session, since: datetime | None, until: datetime | None) -> list[Resolution]:
    resolve = seconds_between(WorkOrderRow.created_at, WorkOrderRow.resolved_at)
    repair = seconds_between(WorkOrderRow.started_at, WorkOrderRow.done_at)
    where = [*created_between(since, until), WorkOrderRow.status == Status.CLOSED]
    columns = (func.count(), func.avg(resolve), func.avg(repair))
    rows = [
        Resolution(priority, count, _float(mean), _float(mean_repair))
        for priority, count, mean, mean_repair in session.execute(
            select(WorkOrderRow.priority, *columns).where(*where).group_by(WorkOrderRow.priority)
        )
    ]
    count, mean, mean_repair = session.execute(select(*columns).where(*where)).one()
    return [
        Resolution(None, count, _float(mean), _float(mean_repair)),
        *sorted(rows, key=_by_priority),
    ]


def backlog(session: Session, instants: Sequence[datetime]) -> list[BacklogPoint]:
    """Active orders at each of `instants` (at most `MAX_BUCKETS`)."""
    if not instants:
        return []
    if len(instants) > MAX_BUCKETS:
        raise ValueError(f"at most {MAX_BUCKETS} instants; widen the step")
    points = union_all(
        *(select(literal(at, UTCDateTime()).label("at")) for at in instants)
    ).subquery("points")
    active_then = and_(
        WorkOrderRow.created_at <= points.c.at,
        (WorkOrderRow.resolved_at.is_(None)) | (WorkOrderRow.resolved_at > points.c.at),
    )
    query = (
        select(points.c.at, func.count(WorkOrderRow.id))
        .select_from(points)
        .outerjoin(WorkOrderRow, active_then)
        .group_by(points.c.at)
        .order_by(points.c.at)
    )
    return [BacklogPoint(at, count) for at, count in session.execute(query)]


def periods(edges: Sequence[datetime]) -> Subquery:
    """The periods between consecutive `edges` (at least 2, at most `MAX_BUCKETS` + 1) as rows
    of (start, end)."""
    if len(edges) > MAX_BUCKETS + 1:
        raise ValueError(f"at most {MAX_BUCKETS} periods; widen the step")
    return union_all(
        *(
            select(
                literal(start, UTCDateTime()).label("start"),
                literal(end, UTCDateTime()).label("end"),
            )
            for start, end in pairwise(edges)
        )
    ).subquery("periods")


def throughput(session: Session, edges: Sequence[datetime]) -> list[Throughput]:
    """Orders opened and closed between consecutive `edges` (at most `MAX_BUCKETS` + 1)."""
    if len(edges) < 2:
        return []
    buckets = periods(edges)
    created_in = and_(
        WorkOrderRow.created_at >= buckets.c.start, WorkOrderRow.created_at < buckets.c.end
    )
    closed_in = and_(
        WorkOrderRow.status == Status.CLOSED,
        WorkOrderRow.resolved_at >= buckets.c.start,
        WorkOrderRow.resolved_at < buckets.c.end,
    )
    query = (
        select(
            buckets.c.start,
            buckets.c.end,
            func.count(distinct(case((created_in, WorkOrderRow.id)))),
            func.count(distinct(case((closed_in, WorkOrderRow.id)))),
        )
        .select_from(buckets)
        .outerjoin(WorkOrderRow, created_in | closed_in)
        .group_by(buckets.c.start, buckets.c.end)
        .order_by(buckets.c.start)
    )
    return [Throughput(*row) for row in session.execute(query)]


def orders_by_line(session: Session, edges: Sequence[datetime]) -> list[LineCount]:
    """Orders opened on each line between consecutive `edges`, the cancelled ones left out; only
    the (line, period) pairs with orders."""
    if len(edges) < 2:
        return []
    buckets = periods(edges)
    path = WorkOrderRow.equipment_path
    line = func.substr(path, 1, func.length(path) - func.length(WorkOrderRow.equipment_id) - 1)
    query = (
        select(line, buckets.c.start, buckets.c.end, func.count())
        .select_from(buckets)
        .join(
            WorkOrderRow,
            and_(
                WorkOrderRow.created_at >= buckets.c.start,
                WorkOrderRow.created_at < buckets.c.end,
                WorkOrderRow.status != Status.CANCELLED,
            ),
        )
        .group_by(line, buckets.c.start, buckets.c.end)
        .order_by(line, buckets.c.start)
    )
    return [LineCount(*row) for row in session.execute(query)]


def backlog_by_team(session: Session) -> list[TeamBacklog]:
    """The active orders (neither closed nor cancelled) per team and priority."""
    active = WorkOrderRow.status.not_in([Status.CLOSED, Status.CANCELLED])
    query = (
        select(WorkOrderRow.team, WorkOrderRow.priority, func.count())
        .where(active)
        .group_by(WorkOrderRow.team, WorkOrderRow.priority)
    )
    rows = [TeamBacklog(team, str(priority), n) for team, priority, n in session.execute(query)]
    return sorted(rows, key=lambda r: (r.team, _RANK.get(r.priority, 9)))


def outcomes(
    session: Session, since: datetime | None, until: datetime | None
) -> list[OutcomeCount]:
    """The closed orders created in the period, by outcome: confirmed, false alarm, not judged."""
    query = (
        select(WorkOrderRow.outcome, func.count())
        .where(WorkOrderRow.status == Status.CLOSED, *created_between(since, until))
        .group_by(WorkOrderRow.outcome)
    )
    found = {None if o is None else str(o): n for o, n in session.execute(query)}
    return [
        OutcomeCount(o, found.get(o, 0))
        for o in (Outcome.CONFIRMED.value, Outcome.FALSE_ALARM.value, None)
    ]


def lead_time(session: Session, since: datetime | None, until: datetime | None) -> LeadTime:
    ttl = WorkOrderRow.evidence["time_to_limit"].as_float()
    query = select(func.count(), func.count(ttl), func.avg(ttl), func.min(ttl)).where(
        WorkOrderRow.type == WorkOrderType.PREDICTIVE, *created_between(since, until)
    )
    orders, forecast, mean, least = session.execute(query).one()
    return LeadTime(orders, forecast, _float(mean), _float(least))


def top_failure_modes(
    session: Session, since: datetime | None, until: datetime | None, *, limit: int = 20
) -> list[FailureModeCount]:
    count = func.count().label("orders")
    query = (
        select(
            WorkOrderRow.equipment_type,
            WorkOrderRow.failure_mode_code,
            func.max(WorkOrderRow.failure_mode_name),
            count,
        )
        .where(*created_between(since, until))
        .group_by(WorkOrderRow.equipment_type, WorkOrderRow.failure_mode_code)
        .order_by(count.desc(), WorkOrderRow.equipment_type, WorkOrderRow.failure_mode_code)
        .limit(limit)
    )
    return [FailureModeCount(*row) for row in session.execute(query)]


def detector_precision(
    session: Session, since: datetime | None, until: datetime | None
) -> list[Precision]:
    judged = (
        select(FindingRow.detector, WorkOrderRow.id.label("order_id"), WorkOrderRow.outcome)
        .join(WorkOrderRow, WorkOrderRow.id == FindingRow.work_order_id)
        .where(WorkOrderRow.outcome.is_not(None), FindingRow.active, *created_between(since, until))
        .distinct()
        .subquery("judged")
    )
    confirmed = func.count(
        distinct(case((judged.c.outcome == Outcome.CONFIRMED.value, judged.c.order_id)))
    )
    false_alarms = func.count(
        distinct(case((judged.c.outcome == Outcome.FALSE_ALARM.value, judged.c.order_id)))
    )
    query = (
        select(judged.c.detector, confirmed, false_alarms)
        .group_by(judged.c.detector)
        .order_by(judged.c.detector)
    )
    return [
        Precision(detector, ok, bad, ok / (ok + bad) if ok + bad else None)
        for detector, ok, bad in session.execute(query)
    ]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}


def _by_priority(row: MeanTime | Resolution) -> int:
    return _RANK.get(str(row.priority), 9)
