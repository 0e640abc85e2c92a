"""The API served by a real uvicorn in a thread, on a free port, for the event-stream and the
browser tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from tests.conftest import free_port, wait_for_port
from ticketing.api import close_streams


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(close_streams, app)
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
