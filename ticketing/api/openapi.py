"""The OpenAPI document as the API answers: every error in the one `Problem` schema, and each
operation declaring the errors it can return besides its own (422 for any parameter or body,
400 and 413 for a body), so clients and schemathesis can rely on it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
INVALID = "The request is not valid: `detail` says what to change, `errors` each invalid part."
BODY_ERRORS = {
    "400": "The body is not text in a known encoding.",
    "413": "The body is larger than the limit.",
}
FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


def _documented(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    has_input = "requestBody" in operation or bool(operation.get("parameters"))
    if has_input or "422" in responses:
        responses["422"] = {"description": INVALID, "content": PROBLEM}
    if "requestBody" in operation:
        for status, description in BODY_ERRORS.items():
            responses.setdefault(status, {"description": description, "content": PROBLEM})


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with one that builds the document above (once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    _documented(operation)
            schemas = document.get("components", {}).get("schemas", {})
            for name in FASTAPI_ERRORS:
                schemas.pop(name, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
