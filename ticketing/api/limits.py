"""Request size limits: a body larger than the limit is refused with 413 before the application
sees it (by its Content-Length, or as it streams in: bodies are read up to the limit first), and
a URL longer than its limit with 414."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024
MAX_URL = 8 * 1024
WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SizeLimits:
    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY, max_url: int = MAX_URL) -> None:
        self.app = app
        self.max_body = max_body
        self.max_url = max_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_length = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
        if url_length > self.max_url:
            await refuse(send, 414, f"the URL is longer than {self.max_url} bytes")
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await refuse(send, 413, self._too_large())
                return
        if scope.get("method") not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body.extend(message.get("body", b""))
            if len(body) > self.max_body:
                await refuse(send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(bytes(body), receive), send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body} bytes"


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the already read `body` first, then passes on to `receive`."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def refuse(
    send: Send, status: int, detail: str, errors: list[dict[str, object]] | None = None
) -> None:
    """Answer with a `Problem` body (see ticketing.api.schemas) without calling the app."""
    problem: dict[str, object] = {"detail": detail}
    if errors:
        problem["errors"] = errors
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
