"""Server-sent events: work-order changes as they happen, for live pages.

Each event is one audit-trail entry on an order (`id:` its audit id, `event: work_order`, `data:`
JSON with the change and the order as it is now). A client that reconnects with `Last-Event-ID`
(browsers' EventSource do) gets what it missed. A technician gets their own and their team's
orders only. Several processes may write the database: the stream reads the trail itself when
the process's change feed wakes it (`ticketing.change_feed`: this process's writes, and on
PostgreSQL every process's through LISTEN/NOTIFY), and polls for what nothing woke it for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from ticketing.api.deps import AnyRole, StoreDep
from ticketing.api.routes.work_orders import DENIED
from ticketing.api.schemas import AuditOut, WorkOrderOut
from ticketing.base import AuditEvent, Principal, WorkOrderView
from ticketing.change_feed import ChangeFeed
from ticketing.store import EVENT_LOOKBACK, WorkOrderStore

router = APIRouter(tags=["events"])
KEEPALIVE = 15.0


@router.get(
    "/events",
    summary="Stream of work-order changes (text/event-stream)",
    response_class=StreamingResponse,
    responses={**DENIED, 200: {"content": {"text/event-stream": {}}}},
)
async def events(
    store: StoreDep,
    principal: AnyRole,
    request: Request,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="Start after this event id.")
    ] = None,
) -> StreamingResponse:
    start = after if after is not None else last_event_id
    if start is None:
        start = await asyncio.to_thread(store.access.last_event_id)
    return StreamingResponse(
        _stream(store, principal, request, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    store: WorkOrderStore, principal: Principal, request: Request, start: int
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    closing: asyncio.Event = request.app.state.closing
    feed: ChangeFeed = request.app.state.changes
    floor, newest, seen = start, start, set[int]()
    with feed.subscription() as wake:
        yield f"retry: 2000\n: stream from event {start}\n\n"
        keepalive_at = loop.time() + KEEPALIVE
        while not closing.is_set() and not await request.is_disconnected():
            wake.clear()
            since = max(floor, newest - EVENT_LOOKBACK)
            seen = {i for i in seen if i > since}
            batch = await asyncio.to_thread(
                store.access.events_after, since, principal=principal, exclude=frozenset(seen)
            )
            for event, order in batch:
                seen.add(event.id)
                newest = max(newest, event.id)
                yield _format(event, order)
            if batch:
                keepalive_at = loop.time() + KEEPALIVE
                continue
            read_at = loop.time() + feed.poll_interval
            while not wake.is_set() and not closing.is_set() and loop.time() < read_at:
                if loop.time() >= keepalive_at:
                    yield ": keepalive\n\n"
                    keepalive_at = loop.time() + KEEPALIVE
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(read_at, keepalive_at) - loop.time()):
                        await wake.wait()


def _format(event: AuditEvent, order: WorkOrderView) -> str:
    data = {
        "change": AuditOut.model_validate(event).model_dump(mode="json"),
        "work_order": WorkOrderOut.model_validate(order).model_dump(mode="json"),
    }
    return f"id: {event.id}\nevent: work_order\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
