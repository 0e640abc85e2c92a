"""Whether the service and its database answer, and Prometheus metrics. Both are open (no
token): load balancers and scrapers call them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from ticketing.api.deps import ExtraStatusDep, StoreDep
from ticketing.api.metrics import CONTENT_TYPE
from ticketing.api.schemas import Health, Problem

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Health and counters",
    responses={503: {"model": Problem, "description": "The work-order database does not answer."}},
)
async def health(store: StoreDep, extra_status: ExtraStatusDep) -> Health:
    await asyncio.to_thread(store.ping)
    extra = dict(extra_status()) if extra_status is not None else {}
    return Health.model_validate({**extra, "status": "ok"})


@router.get(
    "/metrics",
    summary="Prometheus metrics of work orders, deliveries and the API",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(request: Request) -> Response:
    text = await asyncio.to_thread(request.app.state.metrics.exposition)
    return Response(text, media_type=CONTENT_TYPE)
