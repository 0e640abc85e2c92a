"""Work orders: list, read, acknowledge, resolve."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ticketing.api.deps import StoreDep
from ticketing.api.schemas import (
    AcknowledgeIn,
    Problem,
    ResolveIn,
    TransitionProblem,
    WorkOrderOut,
)
from ticketing.lifecycle import Status

router = APIRouter(prefix="/work-orders", tags=["work orders"])

Number = Annotated[
    str, Path(max_length=40, description="The work order's number.", examples=["WO-000123"])
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No work order has this number."}
}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {
        "model": TransitionProblem,
        "description": "The order's status does not allow this; the answer names what it allows.",
    }
}


@router.get("", summary="List work orders, newest first")
def list_work_orders(
    store: StoreDep,
    status: Annotated[Status | None, Query(description="Only orders with this status.")] = None,
    equipment: Annotated[
        str | None, Query(max_length=200, description="Only orders of this equipment id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many orders.")] = 100,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000_000, description="Skip this many orders first.")
    ] = 0,
) -> list[WorkOrderOut]:
    orders = store.list(status=status, equipment_id=equipment, limit=limit, offset=offset)
    return [WorkOrderOut.model_validate(order) for order in orders]


@router.get("/{number}", summary="Read one work order", responses=NOT_FOUND)
def get_work_order(store: StoreDep, number: Number) -> WorkOrderOut:
    return WorkOrderOut.model_validate(store.get(number))


@router.post(
    "/{number}/acknowledge",
    summary="Acknowledge an open work order",
    description="Records who has seen the order and owns what happens next. Only an open order "
    "can be acknowledged.",
    responses={**NOT_FOUND, **REFUSED},
)
def acknowledge_work_order(store: StoreDep, number: Number, body: AcknowledgeIn) -> WorkOrderOut:
    return WorkOrderOut.model_validate(store.acknowledge(number, by=body.by))


@router.post(
    "/{number}/resolve",
    summary="Resolve (close) a work order",
    description="Closes the order from any active status, with who closed it and a note. A "
    "finding that recurs afterwards opens a new order.",
    responses={**NOT_FOUND, **REFUSED},
)
def resolve_work_order(store: StoreDep, number: Number, body: ResolveIn) -> WorkOrderOut:
    return WorkOrderOut.model_validate(store.resolve(number, by=body.by, note=body.note))
