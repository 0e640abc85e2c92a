"""The time the service goes by: the wall clock, or a simulation's (the demo), said as such so
that a page shows one clock and labels it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ticketing.api.deps import AnyRole, StoreDep
from ticketing.api.routes.work_orders import DENIED

router = APIRouter(tags=["health"])


class ClockOut(BaseModel):
    now: datetime
    """The service's now: every time it stores (created, due, acknowledged) is on this clock."""
    simulated: bool
    note: str
    """How to label times, e.g. 'simulated time ×120'; empty for the wall clock."""


@router.get("/clock", summary="The service's clock (wall or simulated)", responses=DENIED)
async def clock(store: StoreDep, principal: AnyRole, request: Request) -> ClockOut:
    note: str | None = request.app.state.clock_note
    return ClockOut(now=store.now(), simulated=note is not None, note=note or "")
