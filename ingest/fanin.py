"""Several sources as one: the MQTT source and an OPC UA source per server feed one pipeline.

A task per source moves its batches, in its order, into one queue bounded by batches and by bytes
(`ingest.queues`). Overflow policy: block. When the pipeline falls behind, the queue fills, a
source's task waits, and that source's own queue takes the backlog (and applies its own policy:
the MQTT broker keeps the unacknowledged messages, an OPC UA subscription drops its oldest
notifications).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from ingest.base import Batch, Source, SourceStats
from ingest.errors import IngestError
from ingest.queues import DEFAULT_MAX_BYTES, AsyncByteQueue
from ingest.rejects import DeadLetters

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Item:
    source: str
    position: int
    batch: Batch


@dataclass(frozen=True, slots=True)
class _Ended:
    source: str
    error: BaseException | None = None


class FanIn:
    """The batches of `sources` (by name) in one stream; each source's batches keep their order."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        *,
        queue_batches: int = 64,
        queue_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if not sources:
            raise ValueError("a fan-in needs at least one source")
        self.sources = dict(sources)
        self._queue: AsyncByteQueue[_Item | _Ended] = AsyncByteQueue(queue_bytes, queue_batches)
        self._handed: dict[str, int] = {}
        """Per source, the position of its last batch handed out."""
        self._position = 0
        self._pumps: list[asyncio.Task[None]] = []
        self._stack = contextlib.AsyncExitStack()

    @property
    def stats(self) -> SourceStats:
        """All sources' counters added up (connected: all of them are); a snapshot."""
        parts = [source.stats for source in self.sources.values()]
        lag_counts = sum(p.lag_count for p in parts)
        return SourceStats(
            messages=sum(p.messages for p in parts),
            readings=sum(p.readings for p in parts),
            connected=all(p.connected for p in parts),
            connects=sum(p.connects for p in parts),
            disconnects=sum(p.disconnects for p in parts),
            loop_restarts=sum(p.loop_restarts for p in parts),
            last_reading_at=max(
                (p.last_reading_at for p in parts if p.last_reading_at is not None), default=None
            ),
            queue_depth=sum(p.queue_depth for p in parts) + self.queue_depth,
            queue_bytes=sum(p.queue_bytes for p in parts) + self._queue.bytes,
            dead_letters=DeadLetters.combined(p.dead_letters for p in parts),
            lag_seconds=max(p.lag_seconds for p in parts),
            lag_sum=sum(p.lag_sum for p in parts),
            lag_count=lag_counts,
            gaps=sum(p.gaps for p in parts),
            gap_seconds=sum(p.gap_seconds for p in parts),
            queue_full_seconds=sum(p.queue_full_seconds for p in parts),
        )

    @property
    def queue_depth(self) -> int:
        """Batches waiting for the pipeline."""
        return self._queue.qsize()

    async def __aenter__(self) -> Self:
        async with contextlib.AsyncExitStack() as stack:
            for source in self.sources.values():
                await stack.enter_async_context(source)
            self._stack = stack.pop_all()
        self._pumps = [
            asyncio.create_task(self._pump(name, source), name=f"fan-in-{name}")
            for name, source in self.sources.items()
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.close_intake()
        finally:
            for pump in self._pumps:
                pump.cancel()
            await asyncio.gather(*self._pumps, return_exceptions=True)
            await self._stack.aclose()

    async def close_intake(self) -> None:
        """Stop every source's intake; `batches()` then hands out what they had and ends."""
        await asyncio.gather(*(source.close_intake() for source in self.sources.values()))

    @property
    def position(self) -> int:
        return self._position

    def commit(self, through: int | None = None) -> None:
        """Commit, at each source, what the batches handed out so far came from (`through` is
        not supported: the consumer commits in order, everything it was handed)."""
        if through is not None and through != self._position:
            raise ValueError("a fan-in commits everything it handed out, in order")
        for name, position in self._handed.items():
            self.sources[name].commit(position)

    async def batches(self) -> AsyncIterator[Batch]:
        running = len(self._pumps)
        while running:
            item = await self._queue.get()
            if isinstance(item, _Ended):
                running -= 1
                if item.error is not None:
                    raise IngestError(f"source {item.source} failed: {item.error}") from item.error
                continue
            self._handed[item.source] = item.position
            self._position += 1
            yield item.batch

    async def _pump(self, name: str, source: Source) -> None:
        error: BaseException | None = None
        try:
            async for batch in source.batches():
                await self._queue.put(_Item(name, source.position, batch), batch.nbytes)
        except Exception as exc:
            log.exception("source %s failed", name)
            error = exc
        await self._queue.put(_Ended(name, error), 0)
