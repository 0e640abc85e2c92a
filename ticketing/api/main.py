"""The FastAPI application: routers under /api/v1, OpenAPI at /openapi.json, docs at /docs
(Swagger UI's assets served from the `fastapi-offline` package: no network needed), and the
planners' web page at / (static files from `ticketing/web`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from devices import Plant
from ticketing.api.deps import ExtraStatus
from ticketing.api.finite_json import FiniteJson
from ticketing.api.handlers import install_error_handlers
from ticketing.api.limits import MAX_BODY, SizeLimits
from ticketing.api.metrics import Metrics, RequestTimer
from ticketing.api.openapi import install_openapi
from ticketing.api.routes import (
    admin,
    alarms,
    analytics,
    clock,
    equipment,
    events,
    floor,
    health,
    suppression,
    work_orders,
)
from ticketing.change_feed import ChangeFeed, Polling
from ticketing.store import WorkOrderStore

API_PREFIX = "/api/v1"
WEB = Path(__file__).resolve().parent.parent / "web"

DESCRIPTION = """\
forewarn watches machine telemetry and opens a **predictive work order** when a machine starts to
drift toward failure: one active order per equipment and failure mode, with the evidence, the
recommended checks, a priority, a team and a technician, and a due date. Repeated findings update
that order instead of opening new ones; people can report **corrective** orders too.

Work orders move open → acknowledged → in progress (↔ on hold) → done → closed, or are
cancelled; an order not acknowledged in time escalates (team lead, maintenance manager, plant
manager by default). Every change is in the audit trail, on the event stream and, through a
transactional outbox, delivered to webhooks.

**Authentication**: `Authorization: Bearer <token>` (create tokens with `forewarn tokens create`).
Roles: *technician* (their own and their team's orders), *planner* (all orders, assignment,
closing, maintenance windows, shelving, analytics), *admin* (tokens and webhooks besides).
`/api/v1/health` and `/api/v1/metrics` are open.
"""

TAGS = [
    {"name": "work orders", "description": "List, read, report and work on work orders."},
    {"name": "alarms", "description": "Condition episodes behind the orders."},
    {"name": "equipment", "description": "The plant tree with health, and its people."},
    {
        "name": "maintenance windows and shelving",
        "description": "Findings inside them are recorded but open no order.",
    },
    {"name": "analytics", "description": "MTTA, MTTR, backlog, failure modes, precision."},
    {"name": "events", "description": "Server-sent events of work-order changes."},
    {
        "name": "from the floor",
        "description": "Machine labels, problems reported at a machine, progress codes.",
    },
    {"name": "audit", "description": "Who changed what, when, before and after."},
    {"name": "webhooks", "description": "Outgoing events, signed, retried, idempotent."},
    {"name": "access", "description": "API tokens and roles."},
    {"name": "health", "description": "Liveness, database reachability, metrics."},
]


def create_app(
    store: WorkOrderStore,
    *,
    plant: Plant | None = None,
    extra_status: ExtraStatus | None = None,
    max_body: int = MAX_BODY,
    clock_note: str | None = None,
    event_polling: Polling | None = None,
) -> FastAPI:
    """The API and web page over `store`; `plant` (default: the store's) gives the equipment
    tree; `extra_status()` adds to what GET /api/v1/health reports; `clock_note` (e.g.
    'simulated time ×120') says the store's clock is not the wall clock; `event_polling` says how
    often event streams read the trail when nothing wakes them (`ticketing.change_feed`). Call
    `close_streams(app)` before shutting the server down so that open event streams end."""
    app = FastAPIOffline(
        redoc_url=None,  # ReDoc's bundle fetches its logo from a CDN; Swagger UI needs nothing
        title="forewarn work orders",
        summary="Predictive maintenance work orders opened from machine telemetry.",
        description=DESCRIPTION,
        version="1.0",
        openapi_tags=TAGS,
    )
    app.state.store = store
    app.state.plant = plant if plant is not None else store.plant
    app.state.extra_status = extra_status
    app.state.clock_note = clock_note
    app.state.closing = asyncio.Event()
    app.state.changes = ChangeFeed(store, event_polling)
    app.state.metrics = Metrics(store, app.state.changes)
    install_error_handlers(app)
    routers = (work_orders, alarms, equipment, suppression, analytics, events, admin, health, clock)
    for module in (*routers, floor):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(floor.pages)
    app.add_middleware(RequestTimer, metrics=app.state.metrics)
    app.add_middleware(FiniteJson)
    app.add_middleware(SizeLimits, max_body=max_body)
    install_openapi(app)
    _web(app)
    return app


def create_status_app(store: WorkOrderStore, *, extra_status: ExtraStatus) -> FastAPI:
    """Only GET /api/v1/health, answered as the API answers it (the database, then
    `extra_status()`), for a process that serves no work-order API: a worker behind
    `forewarn api`. Whoever serves it adds its metrics."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.extra_status = extra_status
    install_error_handlers(app)
    app.include_router(health.status_router, prefix=API_PREFIX)
    return app


def close_streams(app: FastAPI) -> None:
    """End the open event streams (they otherwise keep a shutting-down server waiting)."""
    closing: asyncio.Event = app.state.closing
    closing.set()
    changes: ChangeFeed = app.state.changes
    changes.close()


def _web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg")
