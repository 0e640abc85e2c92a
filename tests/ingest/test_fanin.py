"""The fan-in: every batch of every source, each source's in order, through a bounded queue;
closing drains; a failing source surfaces; the counters add up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

import pytest

from devices import Reading, ReadingColumns
from ingest import Batch, FanIn, IngestError, Reject, RejectReason, SourceStats


class ListSource:
    """Hands out its batches (as fast as they are taken), then waits until its intake is closed."""

    def __init__(self, name: str, batches: int, *, fail_after: int | None = None) -> None:
        self.stats = SourceStats()
        self.name = name
        self.count = batches
        self.fail_after = fail_after
        self.handed = 0
        self.committed = 0
        self.entered = self.exited = False
        self._closed = asyncio.Event()

    async def __aenter__(self) -> Self:
        self.entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.exited = True

    async def close_intake(self) -> None:
        self._closed.set()

    @property
    def position(self) -> int:
        return self.handed

    def commit(self, through: int | None = None) -> None:
        assert through is not None
        assert self.committed <= through <= self.handed
        self.committed = through

    async def batches(self) -> AsyncIterator[Batch]:
        for i in range(self.count):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("the device caught fire")
            self.handed += 1
            self.stats.readings += 1
            yield ReadingColumns.of([Reading(self.name, "s", float(i), float(i))])
        await self._closed.wait()


async def test_every_batch_arrives_in_order_per_source() -> None:
    sources = {name: ListSource(name, 200) for name in ("mqtt", "opcua:a", "opcua:b")}
    fanin = FanIn(sources, queue_batches=4)
    seen: dict[str, list[float]] = {name: [] for name in sources}
    async with fanin:
        assert all(s.entered for s in sources.values())
        async with asyncio.timeout(10):
            async for batch in fanin.batches():
                for reading in batch:
                    seen[reading.equipment_id].append(reading.ts)
                if sum(map(len, seen.values())) == 600:
                    break
        assert fanin.stats.readings == 600
    assert all(s.exited for s in sources.values())
    assert all(ts == [float(i) for i in range(200)] for ts in seen.values())


async def test_a_slow_pipeline_holds_the_sources_back() -> None:
    source = ListSource("mqtt", 100)
    fanin = FanIn({"mqtt": source}, queue_batches=3)
    async with fanin:
        await asyncio.sleep(0.1)
        # the queue is full and the pump holds one more batch: the source waits for the pipeline
        assert fanin.queue_depth == 3
        assert source.handed == 4
        taken = 0
        async with asyncio.timeout(10):
            async for _ in fanin.batches():
                taken += 1
                assert fanin.queue_depth <= 3
                if taken == 100:
                    break


async def test_closing_the_intake_drains_and_ends_the_stream() -> None:
    sources = {"a": ListSource("a", 10), "b": ListSource("b", 5)}
    fanin = FanIn(sources, queue_batches=100)
    async with fanin:
        await asyncio.sleep(0.05)
        await fanin.close_intake()
        async with asyncio.timeout(10):
            batches = [batch async for batch in fanin.batches()]
    assert len(batches) == 15


async def test_a_failing_source_is_reported_not_swallowed() -> None:
    fanin = FanIn({"good": ListSource("good", 3), "bad": ListSource("bad", 10, fail_after=2)})

    async def run() -> int:
        taken = 0
        async with fanin, asyncio.timeout(10):
            async for _ in fanin.batches():
                taken += 1
        return taken

    with pytest.raises(IngestError, match="source bad failed: the device caught fire"):
        await run()


def test_counters_add_up() -> None:
    a, b = ListSource("a", 0), ListSource("b", 0)
    a.stats = SourceStats(messages=3, readings=5, connected=True, connects=1, queue_depth=2)
    b.stats = SourceStats(messages=4, readings=6, connected=False, gaps=1, gap_seconds=2.5)
    a.stats.dead_letters.add(Reject(RejectReason.PARSE_ERROR, "t", "x", b"", 2.0))
    b.stats.dead_letters.add(Reject(RejectReason.PARSE_ERROR, "t", "y", b"", 1.0))
    b.stats.dead_letters.add(Reject(RejectReason.UNKNOWN_SIGNAL, "n", "z", b"", 3.0))
    total = FanIn({"a": a, "b": b}).stats
    assert (total.messages, total.readings, total.queue_depth) == (7, 11, 2)
    assert total.connected is False  # one of them is down
    assert (total.gaps, total.gap_seconds) == (1, 2.5)
    assert total.dead_letters.counts == {
        RejectReason.PARSE_ERROR: 2,
        RejectReason.UNKNOWN_SIGNAL: 1,
    }
    assert [r.detail for r in total.dead_letters.samples()] == ["y", "x", "z"]
    with pytest.raises(ValueError, match="at least one source"):
        FanIn({})


async def test_a_commit_reaches_each_source_for_what_was_handed_out_of_it() -> None:
    sources = {name: ListSource(name, 50) for name in ("mqtt", "opcua:a")}
    fanin = FanIn(sources, queue_batches=4)
    seen: dict[str, int] = {name: 0 for name in sources}
    async with fanin:
        async with asyncio.timeout(10):
            async for batch in fanin.batches():
                seen[next(iter(batch)).equipment_id] += 1
                fanin.commit()
                assert {n: s.committed for n, s in sources.items()} == seen
                if sum(seen.values()) == 100:
                    break
    assert fanin.position == 100
    assert all(s.committed == 50 for s in sources.values())
