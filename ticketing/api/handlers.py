"""Errors as HTTP answers with a reason: 401 no or bad token, 403 role or team refuses, 404
unknown, 409 refused transition (naming the allowed ones), 422 bad input, 503 database
unavailable. Bad input never becomes a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ticketing.api.schemas import Problem, TransitionProblem
from ticketing.errors import (
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    StorageError,
    WorkOrderNotFound,
)

log = logging.getLogger(__name__)


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        Problem(detail=detail).model_dump(mode="json"), status_code=status, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WorkOrderNotFound)
    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return _problem(404, str(exc))

    @app.exception_handler(InvalidTransition)
    async def invalid_transition(request: Request, exc: InvalidTransition) -> JSONResponse:
        body = TransitionProblem(
            detail=str(exc),
            status=exc.current,
            requested=exc.requested,
            allowed=list(exc.allowed),
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=409)

    @app.exception_handler(InvalidRequest)
    async def invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        return _problem(422, str(exc))

    @app.exception_handler(NotAuthenticated)
    async def unauthenticated(request: Request, exc: NotAuthenticated) -> JSONResponse:
        return _problem(401, str(exc), {"WWW-Authenticate": "Bearer"})

    @app.exception_handler(NotAllowed)
    async def forbidden(request: Request, exc: NotAllowed) -> JSONResponse:
        return _problem(403, str(exc))

    @app.exception_handler(StorageError)
    async def unavailable(request: Request, exc: StorageError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return _problem(503, str(exc))
