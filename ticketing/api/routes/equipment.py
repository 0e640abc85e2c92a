"""The plant as a tree (site, areas, lines, equipment), each equipment with its health and state
(`ticketing.equipment_health`), and the people who work on it."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request

from devices import Equipment, Plant
from ticketing.api.deps import AlarmsDep, AnyRole, StoreDep
from ticketing.api.routes.work_orders import DENIED
from ticketing.api.schemas import (
    AreaOut,
    EquipmentOut,
    HealthOut,
    LineOut,
    People,
    PersonOut,
    PlantTree,
    Problem,
    SignalOut,
    TeamOut,
)
from ticketing.base import Role
from ticketing.equipment_health import EquipmentHealth
from ticketing.errors import NotFound

router = APIRouter(tags=["equipment"])


def _plant(request: Request) -> Plant:
    plant: Plant | None = request.app.state.plant
    if plant is None:
        raise NotFound("plant", "this API was started without a plant file")
    return plant


def _health(health: EquipmentHealth) -> HealthOut:
    return HealthOut(
        state=health.state,
        status=health.worst_severity or "ok",
        active_alarms=health.active_alarms,
        sensor_faults=health.sensor_faults,
        active_orders=health.active_orders,
        top_priority=health.top_priority,
        window=health.window,
    )


def _equipment(eq: Equipment, health: EquipmentHealth) -> EquipmentOut:
    return EquipmentOut(
        id=eq.id,
        name=eq.name,
        type=eq.type,
        criticality=eq.criticality.value,
        team=eq.team,
        path=eq.path,
        health=_health(health),
        signals=[
            SignalOut(
                name=sig.name,
                unit=sig.unit,
                warn_high=sig.limits.warn_high,
                alarm_high=sig.limits.alarm_high,
                warn_low=sig.limits.warn_low,
                alarm_low=sig.limits.alarm_low,
            )
            for sig in eq.signals.values()
        ],
    )


@router.get(
    "/equipment",
    summary="The plant tree with each equipment's health and state",
    responses=DENIED,
)
async def equipment_tree(alarms: AlarmsDep, principal: AnyRole, request: Request) -> PlantTree:
    """A technician's tree holds their team's equipment, its health counted from the orders
    they see."""
    plant = _plant(request)
    health = await asyncio.to_thread(alarms.equipment_health, principal)
    areas: dict[str, dict[str, list[EquipmentOut]]] = {}
    for eq in plant:
        if principal.role is Role.TECHNICIAN and eq.team != principal.team:
            continue
        areas.setdefault(eq.area, {}).setdefault(eq.line, []).append(_equipment(eq, health[eq.id]))
    return PlantTree(
        site=plant.site,
        areas=[
            AreaOut(id=area, lines=[LineOut(id=line, equipment=eqs) for line, eqs in lines.items()])
            for area, lines in areas.items()
        ],
    )


@router.get(
    "/equipment/{equipment_id}",
    summary="One equipment and its health",
    responses={**DENIED, 404: {"model": Problem, "description": "No such equipment."}},
)
async def one_equipment(
    alarms: AlarmsDep,
    principal: AnyRole,
    request: Request,
    equipment_id: Annotated[str, Path(max_length=200)],
) -> EquipmentOut:
    plant = _plant(request)
    eq = plant.equipment.get(equipment_id)
    if eq is None:
        raise NotFound("equipment", equipment_id)
    health = await asyncio.to_thread(alarms.equipment_health, principal)
    return _equipment(eq, health[eq.id])


@router.get("/people", summary="Teams and technicians (for assignment)", responses=DENIED)
async def people(store: StoreDep, principal: AnyRole) -> People:
    org = store.organisation
    now = store.now()
    load = await asyncio.to_thread(store.orders.open_counts)
    return People(
        teams=[TeamOut(id=t.id, name=t.name, lead=t.lead) for t in org.teams.values()],
        people=[
            PersonOut(
                id=p.id,
                name=p.name,
                team=p.team,
                skills=sorted(p.skills),
                on_shift=p.on_shift(now, org.zone),
                open_orders=load.get(p.id, 0),
            )
            for p in org.people.values()
        ],
    )
