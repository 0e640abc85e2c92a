"""Repeat orders and the first-time-fix rate, counted in SQL (SQLite and PostgreSQL alike) over
orders created in a period; cancelled orders count neither as orders nor as closings.

- A repeat is an order opened on the same equipment and failure mode less than `within` (30
  days by default) after an earlier order of theirs was closed: the fix did not hold.
- A closed order was fixed the first time when no repeat followed it. Whether one will is known
  once `within` has passed since its closing, or as soon as a repeat came; until then it is
  pending and left out of the rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from ticketing.analytics import created_between, seconds_between
from ticketing.lifecycle import Status
from ticketing.models import WorkOrderRow

WITHIN = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Repeats:
    within_seconds: float
    orders: int
    """Orders created in the period."""
    repeats: int
    """Of which opened again after a closing less than `within_seconds` before."""
    closed: int
    """Orders created in the period and closed."""
    judged: int
    """Of the closed ones, those whose `within_seconds` have passed or that a repeat followed."""
    fixed_first_time: int
    """Of the judged ones, those no repeat followed."""

    @property
    def repeat_share(self) -> float | None:
        return self.repeats / self.orders if self.orders else None

    @property
    def first_time_fix_rate(self) -> float | None:
        return self.fixed_first_time / self.judged if self.judged else None


Orders = type[WorkOrderRow] | AliasedClass[WorkOrderRow]


def _follows(earlier: Orders, later: Orders, within: timedelta) -> ColumnElement[bool]:
    """`later` was opened less than `within` after `earlier`, of the same equipment and failure
    mode, was closed (neither being cancelled)."""
    return and_(
        later.equipment_id == earlier.equipment_id,
        later.failure_mode_code == earlier.failure_mode_code,
        later.id != earlier.id,
        earlier.status == Status.CLOSED,
        later.status != Status.CANCELLED,
        earlier.resolved_at <= later.created_at,
        seconds_between(earlier.resolved_at, later.created_at) < within.total_seconds(),
    )


def repeats(
    session: Session,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    *,
    within: timedelta = WITHIN,
) -> Repeats:
    order = WorkOrderRow
    other = aliased(WorkOrderRow)
    is_repeat = exists().where(_follows(other, order, within))
    repeated = exists().where(_follows(order, other, within))
    closed = order.status == Status.CLOSED
    window_over = order.resolved_at <= now - within
    judged = and_(closed, or_(window_over, repeated))
    fixed = and_(closed, window_over, ~repeated)
    query = select(
        func.count(),
        *(
            func.coalesce(func.sum(case((c, 1), else_=0)), 0)
            for c in (is_repeat, closed, judged, fixed)
        ),
    ).where(order.status != Status.CANCELLED, *created_between(since, until))
    orders, repeat_count, closed_count, judged_count, fixed_count = session.execute(query).one()
    return Repeats(
        within.total_seconds(),
        orders,
        int(repeat_count),
        int(closed_count),
        int(judged_count),
        int(fixed_count),
    )
