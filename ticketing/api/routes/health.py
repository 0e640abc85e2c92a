"""Whether the service and its database answer, and Prometheus metrics. Both are open (no
token): load balancers and scrapers call them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ticketing.api.deps import ExtraStatusDep, StoreDep
from ticketing.api.metrics import CONTENT_TYPE
from ticketing.api.schemas import Health, Problem

router = APIRouter(tags=["health"])
status_router = APIRouter(tags=["health"])
"""Only GET /health: what a process that serves no work-order API still answers."""


@status_router.get(
    "/health",
    summary="Health and counters",
    response_model=Health,
    responses={
        503: {
            "model": Health | Problem,
            "description": "The work-order database does not answer (a Problem), or the "
            "service's own checks say it is failing (a Health with its reasons).",
        }
    },
)
async def health(store: StoreDep, extra_status: ExtraStatusDep) -> Health | JSONResponse:
    await asyncio.to_thread(store.ping)
    extra = dict(extra_status()) if extra_status is not None else {}
    report = Health.model_validate({"status": "ok", **extra})
    if report.status == "failing":
        return JSONResponse(report.model_dump(mode="json"), status_code=503)
    return report


router.include_router(status_router)


@router.get(
    "/metrics",
    summary="Prometheus metrics of work orders, deliveries and the API",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(request: Request) -> Response:
    text = await asyncio.to_thread(request.app.state.metrics.exposition)
    return Response(text, media_type=CONTENT_TYPE)
