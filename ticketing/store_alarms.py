"""The alarms part of the store: condition episodes, their acknowledgement, equipment health."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import case, func, select

from devices import Severity
from ticketing import views, workflow
from ticketing.base import (
    SYSTEM,
    AlarmView,
    Principal,
    Role,
)
from ticketing.models import (
    AlarmRow,
    WorkOrderRow,
)
from ticketing.priority import Priority
from ticketing.store_base import ACTIVE_STATUSES, Actor, Storage, as_principal


class Alarms:
    """Alarms (condition episodes) and the health of the equipment they are about."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def list(
        self,
        *,
        active: bool | None = None,
        acknowledged: bool | None = None,
        equipment_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
        principal: Principal = SYSTEM,
    ) -> builtins.list[AlarmView]:
        """Alarms, newest first; a technician sees those of their team's equipment."""
        query = select(AlarmRow, WorkOrderRow.number).outerjoin(
            WorkOrderRow, WorkOrderRow.id == AlarmRow.work_order_id
        )
        if active is not None:
            query = query.where(AlarmRow.active.is_(active))
        if acknowledged is not None:
            query = query.where(AlarmRow.acknowledged.is_(acknowledged))
        if equipment_id is not None:
            query = query.where(AlarmRow.equipment_id == equipment_id)
        if principal.role is Role.TECHNICIAN:
            query = query.where(
                AlarmRow.equipment_id.in_(self._storage.team_equipment(principal.team))
            )
        query = query.order_by(AlarmRow.id.desc()).limit(limit).offset(offset)
        with self._storage.read("list alarms") as tx:
            return [views.alarm(row, number) for row, number in tx.session.execute(query)]

    def acknowledge(self, alarm_id: int, *, by: Actor) -> AlarmView:
        with self._storage.write(f"acknowledge alarm {alarm_id}") as tx:
            row = workflow.acknowledge_alarm(tx, as_principal(by), alarm_id)
            order = tx.session.get(WorkOrderRow, row.work_order_id) if row.work_order_id else None
            return views.alarm(row, order.number if order is not None else None)

    def equipment_health(self) -> dict[str, dict[str, Any]]:
        """Per equipment with anything active: active alarms, their worst severity, active
        orders and the most pressing of their priorities."""
        health: dict[str, dict[str, Any]] = {}
        severity_rank = case(
            {"warning": 1, "alarm": 2, "critical": 3}, value=AlarmRow.severity, else_=0
        )
        priority_rank = case({p.value: p.rank for p in Priority}, value=WorkOrderRow.priority)
        with self._storage.read("read equipment health") as tx:
            alarms = tx.session.execute(
                select(AlarmRow.equipment_id, func.count(), func.max(severity_rank))
                .where(AlarmRow.active)
                .group_by(AlarmRow.equipment_id)
            )
            for equipment_id, count, worst in alarms:
                health.setdefault(equipment_id, {})
                health[equipment_id]["active_alarms"] = count
                health[equipment_id]["worst_severity"] = Severity(worst).label if worst else None
            orders = tx.session.execute(
                select(WorkOrderRow.equipment_id, func.count(), func.min(priority_rank))
                .where(WorkOrderRow.status.in_(ACTIVE_STATUSES))
                .group_by(WorkOrderRow.equipment_id)
            )
            for equipment_id, count, best in orders:
                health.setdefault(equipment_id, {})
                health[equipment_id]["active_orders"] = count
                health[equipment_id]["top_priority"] = list(Priority)[best].value
        return health
