"""The analytics part of the store: figures over stored orders (`ticketing.analytics` computes
them), the sensitivity feedback learned, and the gauges for metrics."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ticketing import analytics, pareto, repeats
from ticketing.models import (
    AlarmRow,
    AuditRow,
    OutboxRow,
    SensitivityRow,
    WorkOrderRow,
)
from ticketing.store_base import Storage


class Analytics:
    """Figures over the stored orders: MTTA, MTTR, backlog, throughput, orders by line, failure
    modes, closing causes, repeats, precision, gauges."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def mtta(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.MeanTime]:
        with self._storage.read("compute MTTA") as tx:
            return analytics.mtta(tx.session, since, until)

    def mttr(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.Resolution]:
        with self._storage.read("compute MTTR") as tx:
            return analytics.mttr(tx.session, since, until)

    def backlog(self, instants: Iterable[datetime]) -> builtins.list[analytics.BacklogPoint]:
        with self._storage.read("compute the backlog") as tx:
            return analytics.backlog(tx.session, builtins.list(instants))

    def throughput(self, edges: Iterable[datetime]) -> builtins.list[analytics.Throughput]:
        with self._storage.read("count orders opened and closed") as tx:
            return analytics.throughput(tx.session, builtins.list(edges))

    def orders_by_line(self, edges: Iterable[datetime]) -> builtins.list[analytics.LineCount]:
        with self._storage.read("count orders by line") as tx:
            return analytics.orders_by_line(tx.session, builtins.list(edges))

    def backlog_by_team(self) -> builtins.list[analytics.TeamBacklog]:
        with self._storage.read("count the backlog by team") as tx:
            return analytics.backlog_by_team(tx.session)

    def outcomes(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.OutcomeCount]:
        with self._storage.read("count outcomes") as tx:
            return analytics.outcomes(tx.session, since, until)

    def lead_time(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> analytics.LeadTime:
        with self._storage.read("compute the lead time") as tx:
            return analytics.lead_time(tx.session, since, until)

    def top_failure_modes(
        self, since: datetime | None = None, until: datetime | None = None, *, limit: int = 20
    ) -> builtins.list[analytics.FailureModeCount]:
        with self._storage.read("count failure modes") as tx:
            return analytics.top_failure_modes(tx.session, since, until, limit=limit)

    def failure_mode_pareto(
        self, since: datetime | None = None, until: datetime | None = None, *, limit: int = 5
    ) -> pareto.Pareto:
        with self._storage.read("count orders by failure mode") as tx:
            return pareto.failure_modes(tx.session, since, until, limit=limit)

    def closing_cause_pareto(
        self, since: datetime | None = None, until: datetime | None = None, *, limit: int = 5
    ) -> pareto.Pareto:
        with self._storage.read("count closed orders by cause") as tx:
            return pareto.closing_causes(tx.session, since, until, limit=limit)

    def repeat_orders(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        within: timedelta = repeats.WITHIN,
    ) -> repeats.Repeats:
        with self._storage.read("count repeat orders") as tx:
            return repeats.repeats(tx.session, since, until, tx.now, within=within)

    def detector_precision(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> builtins.list[analytics.Precision]:
        with self._storage.read("compute detector precision") as tx:
            return analytics.detector_precision(tx.session, since, until)

    def sensitivity(self) -> dict[tuple[str, str], float]:
        """The score each (equipment, signal) with feedback needs to open an order."""
        with self._storage.read("read sensitivity") as tx:
            rows = tx.session.scalars(select(SensitivityRow))
            return {(r.equipment_id, r.signal): r.min_score for r in rows}

    def counts(self) -> dict[str, Any]:
        """Gauges for metrics: orders by status and priority, deliveries by state, escalations."""
        with self._storage.read("count for metrics") as tx:
            orders = tx.session.execute(
                select(WorkOrderRow.status, WorkOrderRow.priority, func.count()).group_by(
                    WorkOrderRow.status, WorkOrderRow.priority
                )
            )
            deliveries = tx.session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            )
            oldest = tx.session.scalar(
                select(func.min(OutboxRow.created_at)).where(OutboxRow.state == "pending")
            )
            escalations = tx.session.scalar(
                select(func.count()).where(AuditRow.action == "escalated")
            )
            active_alarms = tx.session.scalar(select(func.count()).where(AlarmRow.active))
            return {
                "orders": {(s.value, p.value): n for s, p, n in orders},
                "deliveries": {s.value: n for s, n in deliveries},
                "oldest_pending_delivery_seconds": (
                    (tx.now - oldest).total_seconds() if oldest is not None else 0.0
                ),
                "escalations": int(escalations or 0),
                "active_alarms": int(active_alarms or 0),
            }
