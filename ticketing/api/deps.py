"""Dependencies of the endpoints, as `Annotated` aliases so signatures read like prose."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request

from ticketing.store import WorkOrderStore

ExtraStatus = Callable[[], Mapping[str, Any]]
"""Returns what the health endpoint reports besides the store (the pipeline's counters)."""


def get_store(request: Request) -> WorkOrderStore:
    store: WorkOrderStore = request.app.state.store
    return store


def get_extra_status(request: Request) -> ExtraStatus | None:
    extra: ExtraStatus | None = request.app.state.extra_status
    return extra


StoreDep = Annotated[WorkOrderStore, Depends(get_store)]
ExtraStatusDep = Annotated[ExtraStatus | None, Depends(get_extra_status)]
