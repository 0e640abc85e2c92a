"""An MQTT broker for the demo, so `forewarn demo` needs nothing installed: amqtt, in a child
process (its own core, its own event loop), bound to 127.0.0.1 only.

The child runs in a session of its own, so that a Ctrl-C at the terminal reaches only the demo,
which stops its clients before the broker; the child exits by itself when its parent is gone
(the end of a pipe on its stdin), even after a SIGKILL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
import time
from types import TracebackType
from typing import Self

from forewarn.errors import ForewarnError

STOP_TIMEOUT = 3.0
"""Seconds the broker has to exit after SIGTERM before it is killed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """`with EmbeddedBroker() as broker:` starts amqtt on a free loopback port; leaving stops it."""

    def __init__(self, port: int | None = None, *, start_timeout: float = 20.0) -> None:
        self.port = port or free_port()
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "forewarn.embedded_broker", "--port", str(self.port)],
            stdin=subprocess.PIPE,  # its end tells the child that the parent is gone
            start_new_session=True,
        )
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ForewarnError(
                    f"the embedded MQTT broker exited with {self._process.returncode}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise ForewarnError(f"the embedded MQTT broker did not listen on port {self.port} in time")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


async def _serve(port: int) -> None:
    from amqtt.broker import Broker

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
    )
    await broker.start()
    try:
        await _parent_gone()
    finally:
        await broker.shutdown()


async def _parent_gone() -> None:
    """Return when stdin, a pipe from the parent, ends: the parent closed it or died."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # amqtt reports every client that disconnects without a DISCONNECT packet (port probes,
    # killed publishers) as an error; for a demo broker that is noise.
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
