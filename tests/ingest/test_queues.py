"""Byte-bounded queues: the bound holds, producers wait (overflow policy block), an oversized item
still passes an empty queue, order is kept."""

from __future__ import annotations

import asyncio
import queue
import threading

import pytest

from ingest.queues import AsyncByteQueue, ByteQueue, OverflowPolicy


def test_a_producer_waits_while_the_queue_is_over_its_bytes() -> None:
    q: ByteQueue[int] = ByteQueue(max_bytes=100)
    assert q.policy is OverflowPolicy.BLOCK
    assert q.put(1, 60, timeout=0)
    assert q.put(2, 40, timeout=0)
    assert not q.put(3, 1, timeout=0.05)
    assert (q.bytes, q.qsize()) == (100, 2)
    released = threading.Event()

    def producer() -> None:
        q.put(3, 50)
        released.set()

    thread = threading.Thread(target=producer)
    thread.start()
    assert not released.wait(0.1)
    assert q.get(timeout=1) == 1
    assert released.wait(5)
    thread.join()
    assert [q.get_nowait(), q.get_nowait()] == [2, 3]
    assert q.bytes == 0
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)


def test_an_item_larger_than_the_bound_passes_an_empty_queue() -> None:
    q: ByteQueue[str] = ByteQueue(max_bytes=10)
    assert q.put("big", 1000, timeout=0)
    assert not q.put("next", 1, timeout=0.01)
    assert q.get_nowait() == "big"
    assert q.put("next", 1, timeout=0)


def test_an_item_count_bound_as_well() -> None:
    q: ByteQueue[int] = ByteQueue(max_bytes=1 << 20, max_items=2)
    assert q.put(1, 1, timeout=0)
    assert q.put(2, 1, timeout=0)
    assert not q.put(3, 1, timeout=0.01)


def test_many_threads_keep_the_bound_and_lose_nothing() -> None:
    q: ByteQueue[int] = ByteQueue(max_bytes=1000)
    peak = 0

    def produce(start: int) -> None:
        for i in range(start, start + 500):
            q.put(i, 100)
            assert q.bytes <= 1000

    producers = [threading.Thread(target=produce, args=(k * 500,)) for k in range(4)]
    for t in producers:
        t.start()
    got: list[int] = []
    while len(got) < 2000:
        peak = max(peak, q.bytes)
        got.append(q.get(timeout=5))
    for t in producers:
        t.join()
    assert sorted(got) == list(range(2000))
    assert peak <= 1000


async def test_the_async_queue_blocks_its_producer_task() -> None:
    q: AsyncByteQueue[int] = AsyncByteQueue(max_bytes=1000)
    await q.put(1, 1000)
    blocked = asyncio.create_task(q.put(2, 500))
    await asyncio.sleep(0.05)
    assert not blocked.done()
    assert await q.get() == 1
    await asyncio.wait_for(blocked, 1)
    assert await q.get() == 2
    assert q.bytes == 0
