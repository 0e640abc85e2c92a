"""Whether the service and its database answer."""

from __future__ import annotations

from fastapi import APIRouter

from ticketing.api.deps import ExtraStatusDep, StoreDep
from ticketing.api.schemas import Health, Problem

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Health and counters",
    responses={503: {"model": Problem, "description": "The work-order database does not answer."}},
)
def health(store: StoreDep, extra_status: ExtraStatusDep) -> Health:
    store.ping()
    extra = dict(extra_status()) if extra_status is not None else {}
    return Health.model_validate({**extra, "status": "ok"})
