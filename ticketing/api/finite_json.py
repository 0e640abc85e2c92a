"""JSON request bodies with NaN, Infinity, -Infinity or a number too large for a float (1e400)
are refused with 422 and the place of the first such number, before any endpoint parses them:
JSON has no such numbers, and echoing them back could not be rendered as JSON either."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ticketing.api.limits import WITH_BODY, refuse, replaying

FINITE = "give one within ±1.8e308 (NaN and Infinity are not JSON)"


class _NonFinite:
    def __init__(self, text: str) -> None:
        self.text = text


def _float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def non_finite(body: bytes) -> tuple[list[str | int], str] | None:
    """Where the first non-finite number of a JSON `body` is and how it was written, or None
    (also when the body is no JSON at all: the endpoint's own parsing reports that)."""
    try:
        document = json.loads(body, parse_constant=_NonFinite, parse_float=_float)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    return _find(document, ["body"])


def _find(node: Any, loc: list[str | int]) -> tuple[list[str | int], str] | None:
    if isinstance(node, _NonFinite):
        return loc, node.text
    children: Any = ()
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    for key, child in children:
        found = _find(child, [*loc, key])
        if found is not None:
            return found
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True  # FastAPI parses a body without a content type as JSON


class FiniteJson:
    """Refuses JSON bodies with non-finite numbers (422); must sit inside `SizeLimits`, which
    bounds the body it reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in WITH_BODY or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        found = non_finite(bytes(body)) if body else None
        if found is not None:
            loc, text = found
            msg = f"{text} is not a finite number; {FINITE}"
            where = ".".join(map(str, loc))
            error: dict[str, object] = {"loc": loc, "msg": msg, "type": "non_finite_number"}
            await refuse(send, 422, f"{where}: {msg}", errors=[error])
            return
        await self.app(scope, replaying(bytes(body), receive), send)
