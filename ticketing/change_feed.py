"""Wake-ups for the event streams of one API process when any process changes a work order.

On PostgreSQL the store NOTIFYs `CHANGES_CHANNEL` in the transaction that writes an audit row or
queues a delivery, so the notification goes out at commit, and only if it commits. A
`ChangeFeed` LISTENs on one connection of its own, opened when the first stream subscribes, and
wakes every subscriber on each notification from its schema. When that connection drops (a
server restart, `pg_terminate_backend`, a dead network found by the heartbeat) it reconnects
with backoff, and wakes everyone on each connect: what was written meanwhile was not notified.
This process's own writes wake the subscribers directly (a store listener), on any database.

Subscribers read the trail when woken, and also every `Polling.interval` while nothing listens
(SQLite, or the listener reconnecting) or every `Polling.listening` while it does (a safety net).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ticketing.store_base import CHANGES_CHANNEL, Storage

if TYPE_CHECKING:
    from psycopg import AsyncConnection

log = logging.getLogger(__name__)

HEARTBEAT = 10.0
"""Seconds without a notification after which the listener checks that its connection answers."""
RETRY_FIRST = 0.5
RETRY_LIMIT = 15.0


@dataclass(frozen=True)
class Polling:
    """Seconds between two reads of the audit trail by a stream that nothing woke."""

    interval: float = 1.0
    """While no listener is connected (SQLite, or PostgreSQL while reconnecting)."""
    listening: float = 30.0
    """While the listener is connected and notifications wake the streams."""


@dataclass
class FeedStats:
    connected: bool = False
    connects: int = 0
    """Connections the listener made: 1 at start, one more after each drop."""
    drops: int = 0
    notifications: int = 0
    """Notifications from this feed's schema (each woke every subscriber)."""


class ChangeFeed:
    """The fan-out of one process's event streams; `subscription()` in the event loop."""

    def __init__(self, store: Storage, polling: Polling | None = None) -> None:
        self._store = store
        self.polling = polling or Polling()
        self.stats = FeedStats()
        self._wakes: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def subscribers(self) -> int:
        return len(self._wakes)

    @property
    def poll_interval(self) -> float:
        """How long a stream that nothing woke waits before it reads the trail anyway."""
        return self.polling.listening if self.stats.connected else self.polling.interval

    @contextlib.contextmanager
    def subscription(self) -> Iterator[asyncio.Event]:
        """An event set whenever the trail may have grown (the subscriber clears it)."""
        self._start()
        wake = asyncio.Event()
        self._wakes.add(wake)
        try:
            yield wake
        finally:
            self._wakes.discard(wake)

    def close(self) -> None:
        """Stop listening for good and wake every subscriber (so that a closing stream ends)."""
        self._closed = True
        self._stop()
        self._wake_all()

    def _stop(self) -> None:
        if self._loop is not None:
            self._store.remove_listener(self._written_here)
        if self._listener is not None:
            self._listener.cancel()
        self._loop, self._listener = None, None
        self.stats.connected = False

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._closed or self._loop is loop:
            return
        self._stop()  # a loop of its own per test client, say
        self._loop = loop
        self._store.add_listener(self._written_here)
        arguments = self._store.listen_arguments()
        if arguments is None:
            log.info("event streams poll the audit trail every %.1f s", self.polling.interval)
        else:
            self._listener = loop.create_task(self._listen(arguments))

    def _written_here(self) -> None:
        """A store listener: called from the thread that committed."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for wake in self._wakes:
            wake.set()

    async def _listen(self, arguments: dict[str, Any]) -> None:
        import psycopg

        retry = RETRY_FIRST
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    **{"connect_timeout": int(HEARTBEAT), **arguments},  # the URL's wins
                    autocommit=True,
                    application_name=f"forewarn-events-{os.getpid()}",
                ) as connection:
                    retry = RETRY_FIRST
                    await self._follow(connection)
            except (psycopg.Error, OSError, TimeoutError) as exc:
                if self.stats.connected:
                    self.stats.drops += 1
                self.stats.connected = False
                self._wake_all()  # the streams poll until the listener is back
                log.warning(
                    "the event streams' database listener is disconnected (%s); reconnecting in "
                    "%.1f s, polling every %.1f s meanwhile",
                    " ".join(str(exc).split()),
                    retry,
                    self.polling.interval,
                )
            await asyncio.sleep(retry)
            retry = min(retry * 2, RETRY_LIMIT)

    async def _follow(self, connection: AsyncConnection[Any]) -> None:
        row = await (await connection.execute("SELECT coalesce(current_schema(), '')")).fetchone()
        schema = row[0] if row else ""
        await connection.execute(f"LISTEN {CHANGES_CHANNEL}")
        self.stats.connected = True
        self.stats.connects += 1
        log.info(
            "event streams wake on the database's notifications (LISTEN %s, schema %s; "
            "connection %d)",
            CHANGES_CHANNEL,
            schema,
            self.stats.connects,
        )
        self._wake_all()
        while True:
            async for notify in connection.notifies(timeout=HEARTBEAT):
                if notify.payload == schema:
                    self.stats.notifications += 1
                    self._wake_all()
            async with asyncio.timeout(HEARTBEAT):  # a hung server is a dropped listener
                await connection.execute("SELECT 1")
