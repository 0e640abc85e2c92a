"""The FastAPI application: routers under /api/v1, OpenAPI at /openapi.json, docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from ticketing.api.deps import ExtraStatus
from ticketing.api.handlers import install_error_handlers
from ticketing.api.routes import health, work_orders
from ticketing.store import WorkOrderStore

API_PREFIX = "/api/v1"

DESCRIPTION = """\
forewarn watches machine telemetry and opens a **predictive work order** when a machine starts to
drift toward failure: one active order per equipment and failure mode, with the evidence, the
recommended checks, a priority and (when the signal is heading for its alarm limit) a due date.
Repeated findings update that order instead of opening new ones.

Work orders move open → acknowledged → in progress (↔ on hold) → done → closed; resolving closes
an order from any active status.
"""

TAGS = [
    {"name": "work orders", "description": "List, read, acknowledge and resolve work orders."},
    {"name": "health", "description": "Liveness, database reachability and service counters."},
]


def create_app(store: WorkOrderStore, *, extra_status: ExtraStatus | None = None) -> FastAPI:
    """The API over `store`; `extra_status()` adds to what GET /api/v1/health reports."""
    app = FastAPI(
        title="forewarn work orders",
        summary="Predictive maintenance work orders opened from machine telemetry.",
        description=DESCRIPTION,
        version="1.0",
        openapi_tags=TAGS,
    )
    app.state.store = store
    app.state.extra_status = extra_status
    install_error_handlers(app)
    app.include_router(work_orders.router, prefix=API_PREFIX)
    app.include_router(health.router, prefix=API_PREFIX)
    return app
