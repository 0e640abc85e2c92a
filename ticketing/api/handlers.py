"""Errors as HTTP answers with a reason, all in the `Problem` shape: 400 a body that is not
text, 401 no or bad token, 403 role or team refuses, 404 unknown, 405 method (with every allowed
one), 409 refused transition (naming the allowed ones) or a name in use, 422 bad input (each
invalid part, never echoing the input), 503 database unavailable. Bad input never becomes a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from ticketing.api.schemas import FieldProblem, Problem, TransitionProblem
from ticketing.errors import (
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    StorageError,
    WorkOrderNotFound,
)

log = logging.getLogger(__name__)


def _problem(
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[FieldProblem] | None = None,
) -> JSONResponse:
    body = Problem(detail=detail, errors=errors).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_problems(exc: RequestValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(
            loc=[part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            msg=str(error.get("msg", "invalid")),
            type=str(error.get("type", "invalid")),
        )
        for error in exc.errors()
    ]


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document declares for the requested path."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        regex, _, _ = compile_path(template)
        if regex.match(path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


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

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> JSONResponse:
        return _problem(409, str(exc))

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

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _field_problems(exc)
        reasons = "; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems)
        return _problem(422, reasons or "the request is not valid", errors=problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _problem(exc.status_code, str(exc.detail), headers or None)
