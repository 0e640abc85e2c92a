"""Errors of the store as HTTP answers: 404 unknown order, 409 refused transition, 503 database
unavailable. Bad input never reaches here: FastAPI answers it with 422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ticketing.api.schemas import Problem, TransitionProblem
from ticketing.errors import InvalidTransition, StorageError, WorkOrderNotFound


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WorkOrderNotFound)
    async def not_found(request: Request, exc: WorkOrderNotFound) -> JSONResponse:
        return JSONResponse(Problem(detail=str(exc)).model_dump(mode="json"), status_code=404)

    @app.exception_handler(InvalidTransition)
    async def invalid_transition(request: Request, exc: InvalidTransition) -> JSONResponse:
        body = TransitionProblem(
            detail=str(exc),
            status=exc.current,
            requested=exc.requested,
            allowed=list(exc.allowed),
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=409)

    @app.exception_handler(StorageError)
    async def unavailable(request: Request, exc: StorageError) -> JSONResponse:
        return JSONResponse(Problem(detail=str(exc)).model_dump(mode="json"), status_code=503)
