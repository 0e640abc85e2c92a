"""The alarms part of the store: condition episodes, their acknowledgement, equipment health
(`ticketing.equipment_health`)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from devices import FindingKind, Severity
from ticketing import suppression, views, workflow
from ticketing.base import (
    SYSTEM,
    AlarmView,
    Principal,
    Role,
)
from ticketing.equipment_health import EquipmentHealth
from ticketing.models import (
    AlarmRow,
    WorkOrderRow,
)
from ticketing.priority import Priority
from ticketing.store_base import ACTIVE_STATUSES, Actor, Storage, as_principal, visible_to

SENSOR_KINDS = (FindingKind.SENSOR.value, FindingKind.COMMUNICATION.value)
"""Alarms about a sensor or its link rather than the machine."""


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
        query = (
            query.where(*self._visible(principal))
            .order_by(AlarmRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._storage.read("list alarms") as tx:
            return [views.alarm(row, number) for row, number in tx.session.execute(query)]

    def _visible(self, principal: Principal) -> builtins.list[ColumnElement[bool]]:
        """A technician sees the alarms of their team's equipment."""
        if principal.role is not Role.TECHNICIAN:
            return []
        return [AlarmRow.equipment_id.in_(self._storage.team_equipment(principal.team))]

    def acknowledge(self, alarm_id: int, *, by: Actor) -> AlarmView:
        with self._storage.write(f"acknowledge alarm {alarm_id}") as tx:
            row = workflow.acknowledge_alarm(tx, as_principal(by), alarm_id)
            order = tx.session.get(WorkOrderRow, row.work_order_id) if row.work_order_id else None
            return views.alarm(row, order.number if order is not None else None)

    def equipment_health(self, principal: Principal = SYSTEM) -> dict[str, EquipmentHealth]:
        """Per equipment of the plant (and any other with something active): its active alarms,
        their worst severity and the sensor faults among them, its active orders and the most
        pressing of their priorities, and a maintenance window over it now. A technician's
        count only their team's alarms and the orders they see."""
        severity_rank = case(
            {"warning": 1, "alarm": 2, "critical": 3}, value=AlarmRow.severity, else_=0
        )
        priority_rank = case({p.value: p.rank for p in Priority}, value=WorkOrderRow.priority)
        sensor = case((AlarmRow.kind.in_(SENSOR_KINDS), 1), else_=0)
        alarms = (
            select(AlarmRow.equipment_id, func.count(), func.max(severity_rank), func.sum(sensor))
            .where(AlarmRow.active, *self._visible(principal))
            .group_by(AlarmRow.equipment_id)
        )
        orders = (
            select(WorkOrderRow.equipment_id, func.count(), func.min(priority_rank))
            .where(WorkOrderRow.status.in_(ACTIVE_STATUSES), *visible_to(principal))
            .group_by(WorkOrderRow.equipment_id)
        )
        plant = self._storage.plant
        with self._storage.read("read equipment health") as tx:
            found: dict[str, dict[str, Any]] = {eq.id: {} for eq in plant or ()}
            for equipment_id, count, worst, faults in tx.session.execute(alarms):
                found.setdefault(equipment_id, {}).update(
                    active_alarms=count,
                    worst_severity=Severity(worst).label if worst else None,
                    sensor_faults=int(faults),
                )
            for equipment_id, count, best in tx.session.execute(orders):
                found.setdefault(equipment_id, {}).update(
                    active_orders=count, top_priority=list(Priority)[best].value
                )
            windows = suppression.windows_at(tx, tx.now)
            for eq in plant or ():
                over = suppression.covering(windows, eq.path)
                if over is not None:
                    found[eq.id]["window"] = over.reason
        return {equipment_id: EquipmentHealth(**parts) for equipment_id, parts in found.items()}
