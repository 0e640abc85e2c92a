"""Work orders: list, read, report, and the actions of their lifecycle."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from devices import Severity
from ticketing import narrative
from ticketing.api.deps import AnyRole, OrdersDep, Planner, StoreDep
from ticketing.api.schemas import (
    AssignIn,
    AuditOut,
    CancelIn,
    CloseIn,
    CommentIn,
    CommentOut,
    CreatedOrder,
    FindingOut,
    HoldIn,
    NoteIn,
    Problem,
    ReportIn,
    ResolveIn,
    TransitionProblem,
    WorkOrderOut,
)
from ticketing.base import WorkOrderType, WorkOrderView
from ticketing.lifecycle import Status
from ticketing.priority import Priority
from ticketing.store import SORTS

router = APIRouter(prefix="/work-orders", tags=["work orders"])

Number = Annotated[
    str, Path(max_length=40, description="The work order's number.", examples=["WO-000123"])
]
Answers = dict[int | str, dict[str, Any]]
NOT_FOUND: Answers = {404: {"model": Problem, "description": "No work order has this number."}}
DENIED: Answers = {
    401: {"model": Problem, "description": "No valid token."},
    403: {"model": Problem, "description": "The token's role or team does not allow this."},
}
REFUSED: Answers = {
    409: {
        "model": TransitionProblem,
        "description": "The order's status does not allow this; the answer names what it allows.",
    }
}
ACTION = {**NOT_FOUND, **DENIED, **REFUSED}
SORT_PATTERN = "^-?(" + "|".join(SORTS) + ")$"


def _out(order: WorkOrderView) -> WorkOrderOut:
    return WorkOrderOut.model_validate(order)


@router.get("", summary="List work orders", responses=DENIED)
async def list_work_orders(
    orders: OrdersDep,
    principal: AnyRole,
    response: Response,
    status: Annotated[
        list[Status] | None, Query(description="Only orders in these statuses.")
    ] = None,
    priority: Annotated[list[Priority] | None, Query(description="Only these priorities.")] = None,
    active: Annotated[
        bool | None, Query(description="true: not closed or cancelled; false: closed/cancelled.")
    ] = None,
    equipment: Annotated[
        str | None, Query(max_length=200, description="Only orders of this equipment id.")
    ] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[WorkOrderType | None, Query()] = None,
    failure_mode: Annotated[str | None, Query(max_length=50)] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in number, title, path, report.")
    ] = None,
    sort: Annotated[
        str,
        Query(
            pattern=SORT_PATTERN,
            description=f"One of {', '.join(SORTS)}; a leading '-' sorts descending.",
        ),
    ] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many orders.")] = 100,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000_000, description="Skip this many orders first.")
    ] = 0,
) -> list[WorkOrderOut]:
    """Newest first by default; a technician sees only their own and their team's orders. The
    `X-Total-Count` header says how many match in all."""
    filters: dict[str, Any] = {
        "status": status,
        "priority": priority,
        "active": active,
        "equipment_id": equipment,
        "team": team,
        "assignee": assignee,
        "type": type,
        "failure_mode": failure_mode,
        "text": q,
        "principal": principal,
    }
    page = await asyncio.to_thread(orders.list, sort=sort, limit=limit, offset=offset, **filters)
    total = await asyncio.to_thread(orders.count, **filters)
    response.headers["X-Total-Count"] = str(total)
    return [_out(order) for order in page]


@router.post(
    "",
    summary="Report a problem (corrective order)",
    status_code=201,
    responses={
        **DENIED,
        200: {"model": CreatedOrder, "description": "An active order existed."},
        404: {"model": Problem, "description": "No equipment has this id."},
    },
)
async def report_problem(
    orders: OrdersDep, principal: AnyRole, body: ReportIn, response: Response
) -> CreatedOrder:
    """Opens a corrective order for what a person saw (e.g. after scanning the machine's label),
    with the same dedup, assignment and escalation as a detector's finding: if the equipment has
    an active order of that failure mode, it is updated instead (200)."""
    recorded = await asyncio.to_thread(
        orders.report,
        body.equipment_id,
        description=body.description,
        by=principal,
        failure_mode=body.failure_mode,
        severity=Severity[body.severity.upper()],
    )
    if not recorded.created:
        response.status_code = 200
    return CreatedOrder(created=recorded.created, work_order=_out(recorded.order))


@router.get("/{number}", summary="Read one work order", responses={**NOT_FOUND, **DENIED})
async def get_work_order(orders: OrdersDep, principal: AnyRole, number: Number) -> WorkOrderOut:
    return _out(await asyncio.to_thread(orders.get, number, principal=principal))


@router.get(
    "/{number}/history",
    summary="The audit trail of one order",
    responses={**NOT_FOUND, **DENIED},
)
async def order_history(store: StoreDep, principal: AnyRole, number: Number) -> list[AuditOut]:
    events = await asyncio.to_thread(store.orders.history, number, principal=principal)
    names = {p.id: p.name for p in store.organisation.people.values()}
    return [
        AuditOut.model_validate(e).model_copy(update={"sentence": narrative.sentence(e, names)})
        for e in events
    ]


@router.get(
    "/{number}/findings",
    summary="The findings recorded on one order",
    responses={**NOT_FOUND, **DENIED},
)
async def order_findings(orders: OrdersDep, principal: AnyRole, number: Number) -> list[FindingOut]:
    findings = await asyncio.to_thread(orders.findings, number, principal=principal)
    return [FindingOut.model_validate(f) for f in findings]


@router.get(
    "/{number}/comments", summary="Comments on one order", responses={**NOT_FOUND, **DENIED}
)
async def order_comments(orders: OrdersDep, principal: AnyRole, number: Number) -> list[CommentOut]:
    comments = await asyncio.to_thread(orders.comments, number, principal=principal)
    return [CommentOut.model_validate(c) for c in comments]


@router.post(
    "/{number}/comments",
    summary="Comment on an order",
    status_code=201,
    responses={**NOT_FOUND, **DENIED},
)
async def add_comment(
    orders: OrdersDep, principal: AnyRole, number: Number, body: CommentIn
) -> CommentOut:
    comment = await asyncio.to_thread(orders.comment, number, by=principal, body=body.body)
    return CommentOut.model_validate(comment)


@router.post(
    "/{number}/acknowledge",
    summary="Acknowledge an open order (stops escalation)",
    responses=ACTION,
)
async def acknowledge(
    orders: OrdersDep, principal: AnyRole, number: Number, body: NoteIn | None = None
) -> WorkOrderOut:
    note = body.note if body is not None else ""
    return _out(await asyncio.to_thread(orders.acknowledge, number, by=principal, note=note))


@router.post("/{number}/assign", summary="Assign an order (planners)", responses=ACTION)
async def assign(
    orders: OrdersDep, principal: Planner, number: Number, body: AssignIn
) -> WorkOrderOut:
    return _out(
        await asyncio.to_thread(
            orders.assign, number, assignee=body.assignee, team=body.team, by=principal
        )
    )


@router.post("/{number}/start", summary="Start work (or resume it)", responses=ACTION)
async def start(
    orders: OrdersDep, principal: AnyRole, number: Number, body: NoteIn | None = None
) -> WorkOrderOut:
    note = body.note if body is not None else ""
    return _out(await asyncio.to_thread(orders.start, number, by=principal, note=note))


@router.post("/{number}/hold", summary="Put work on hold, saying why", responses=ACTION)
async def hold(orders: OrdersDep, principal: AnyRole, number: Number, body: HoldIn) -> WorkOrderOut:
    return _out(await asyncio.to_thread(orders.hold, number, by=principal, reason=body.reason))


@router.post("/{number}/done", summary="Mark the work done", responses=ACTION)
async def done(
    orders: OrdersDep, principal: AnyRole, number: Number, body: NoteIn | None = None
) -> WorkOrderOut:
    note = body.note if body is not None else ""
    return _out(await asyncio.to_thread(orders.done, number, by=principal, note=note))


@router.post(
    "/{number}/close",
    summary="Close with the codes found (planners)",
    description="Closes from any active status with the failure mode, mechanism and cause found "
    "and whether the finding was confirmed or a false alarm (which makes the equipment's signal "
    "less sensitive). A finding that recurs afterwards opens a new order.",
    responses=ACTION,
)
async def close(
    orders: OrdersDep, principal: Planner, number: Number, body: CloseIn
) -> WorkOrderOut:
    return _out(
        await asyncio.to_thread(
            orders.close_order,
            number,
            by=principal,
            outcome=body.outcome,
            failure_mode=body.failure_mode,
            mechanism=body.mechanism,
            cause=body.cause,
            note=body.note,
        )
    )


@router.post("/{number}/resolve", summary="Close without codes (planners)", responses=ACTION)
async def resolve(
    orders: OrdersDep, principal: Planner, number: Number, body: ResolveIn | None = None
) -> WorkOrderOut:
    note = body.note if body is not None else ""
    return _out(await asyncio.to_thread(orders.resolve, number, by=principal, note=note))


@router.post("/{number}/cancel", summary="Cancel, saying why (planners)", responses=ACTION)
async def cancel(
    orders: OrdersDep, principal: Planner, number: Number, body: CancelIn
) -> WorkOrderOut:
    return _out(await asyncio.to_thread(orders.cancel, number, by=principal, reason=body.reason))
