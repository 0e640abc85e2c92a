"""Paretos, counted in SQL (SQLite and PostgreSQL alike) over orders created in a period, the
cancelled ones left out (they were not needed):

- Failure modes: the orders each failure mode opened, most first.
- Closing causes: the closed orders by the cause given when closing them (case and surrounding
  white space ignored), most first; those closed without a cause are counted apart.

Each bar carries the cumulative share of the counted orders up to and including it, the line a
Pareto chart draws over its bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import SQLCoreOperations

from ticketing.analytics import created_between
from ticketing.lifecycle import Status
from ticketing.models import WorkOrderRow


@dataclass(frozen=True, slots=True)
class Bar:
    key: str
    """A failure-mode code, or a cause folded to lower case."""
    label: str
    orders: int
    cumulative_share: float
    """Of `Pareto.counted`, this bar's orders and those of every bar before it."""


@dataclass(frozen=True, slots=True)
class Pareto:
    counted: int
    """Orders with a key: the whole of which the bars are shares."""
    bars: tuple[Bar, ...]
    """The largest groups, most orders first (ties by key)."""
    rest: int
    """Counted orders in groups beyond the bars."""
    without_key: int
    """Orders left out for having no key (closed with no cause given)."""


def failure_modes(
    session: Session, since: datetime | None, until: datetime | None, *, limit: int = 5
) -> Pareto:
    where = [WorkOrderRow.status != Status.CANCELLED, *created_between(since, until)]
    return _pareto(
        session,
        WorkOrderRow.failure_mode_code,
        func.max(WorkOrderRow.failure_mode_name),
        where,
        limit,
    )


def closing_causes(
    session: Session, since: datetime | None, until: datetime | None, *, limit: int = 5
) -> Pareto:
    cause = func.nullif(func.lower(func.trim(WorkOrderRow.found_cause)), "")
    where = [WorkOrderRow.status == Status.CLOSED, *created_between(since, until)]
    return _pareto(session, cause, func.min(func.trim(WorkOrderRow.found_cause)), where, limit)


def _pareto(
    session: Session,
    key: SQLCoreOperations[Any],
    label: ColumnElement[Any],
    where: Sequence[ColumnElement[bool]],
    limit: int,
) -> Pareto:
    total, counted = session.execute(select(func.count(), func.count(key)).where(*where)).one()
    count = func.count().label("orders")
    groups = session.execute(
        select(key, label, count)
        .where(*where, key.is_not(None))
        .group_by(key)
        .order_by(count.desc(), key)
        .limit(limit)
    ).all()
    bars: list[Bar] = []
    running = 0
    for group, name, orders in groups:
        running += orders
        bars.append(Bar(group, name, orders, running / counted))
    return Pareto(counted, tuple(bars), counted - running, total - counted)
