"""Ctrl-C and SIGTERM for long-running commands: the first asks for an orderly stop (which has
deadlines of its own), the second ends the process at once, whatever it is waiting for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from types import TracebackType
from typing import Self, TypeVar

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)
FORCED_EXIT = 130
"""The exit status of a process ended by Ctrl-C (128 + SIGINT)."""

T = TypeVar("T")


class Interrupts:
    """`with Interrupts() as interrupts:` inside a running event loop; `interrupts.stop` is set
    by the first SIGINT or SIGTERM (the code may set it too), `interrupts.signalled` only by
    that signal, and the second one exits with status 130 at once."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.signalled = asyncio.Event()
        self.received = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            self._loop.add_signal_handler(sig, self._signalled, sig)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            for sig in SIGNALS:
                self._loop.remove_signal_handler(sig)

    def _signalled(self, sig: signal.Signals) -> None:
        self.received += 1
        if self.received == 1:
            log.warning("%s: stopping (again to stop at once)", sig.name)
            self.signalled.set()
            self.stop.set()
            return
        log.warning("%s again: exiting now", sig.name)
        logging.shutdown()
        os._exit(FORCED_EXIT)

    async def finish(self, task: asyncio.Task[T], what: str, deadline: float) -> T | None:
        """Wait for `task`; once a signal has come (before or while waiting), give it at most
        `deadline` seconds more, then cancel it (see `within`)."""
        if not self.signalled.is_set():
            signalled = asyncio.ensure_future(self.signalled.wait())
            try:
                await asyncio.wait({task, signalled}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                signalled.cancel()
            if task.done():
                return task.result()
        return await within(deadline, task, what)


async def within(seconds: float, task: asyncio.Task[T], what: str) -> T | None:
    """Wait up to `seconds` for `task` to finish, then cancel it (and wait for that); its
    result, or None when it had to be cancelled. The task's own error propagates."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    log.warning("%s did not stop within %g s; cancelling it", what, seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
