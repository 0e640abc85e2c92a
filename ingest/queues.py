"""Queues bounded by the memory of what they hold, not by a count of items (one MQTT message may
carry one reading or fifteen thousand).

Overflow policy `BLOCK`: a producer waits while the queue is over its bound, so the backlog stays
where it is safe (the broker's persistent session keeps unacknowledged messages; an OPC UA
subscription's own bounded queue drops its oldest). An item larger than the whole bound is let in
when the queue is empty, so it never waits forever.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import queue
import threading
import time
from collections.abc import Sized
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_MAX_BYTES = 64 << 20


class OverflowPolicy(enum.StrEnum):
    BLOCK = "block"
    """The producer waits for room: nothing is dropped here."""


class ByteQueue(Generic[T]):
    """A FIFO between threads, bounded by `max_bytes` of its items' declared sizes (and, if
    given, by `max_items`)."""

    policy = OverflowPolicy.BLOCK

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_items: int | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self.max_items = max_items
        self._items: collections.deque[tuple[T, int]] = collections.deque()
        self._bytes = 0
        self._changed = threading.Condition()

    @property
    def bytes(self) -> int:
        return self._bytes

    def qsize(self) -> int:
        return len(self._items)

    def put(self, item: T, size: int, timeout: float | None = None) -> bool:
        """Add `item`, waiting up to `timeout` seconds for room; False if there was none."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not _room(self._items, self._bytes, size, self.max_bytes, self.max_items):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            self._items.append((item, size))
            self._bytes += size
            self._changed.notify_all()
            return True

    def get(self, timeout: float | None = None) -> T:
        """The oldest item; `queue.Empty` if none came within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self._items:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise queue.Empty
                self._changed.wait(remaining)
            return self._pop()

    def get_nowait(self) -> T:
        with self._changed:
            if not self._items:
                raise queue.Empty
            return self._pop()

    def _pop(self) -> T:
        item, size = self._items.popleft()
        self._bytes -= size
        self._changed.notify_all()
        return item


class AsyncByteQueue(Generic[T]):
    """The same bound for one event loop's tasks."""

    policy = OverflowPolicy.BLOCK

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_items: int | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self.max_items = max_items
        self._items: collections.deque[tuple[T, int]] = collections.deque()
        self._bytes = 0
        self._changed = asyncio.Condition()

    @property
    def bytes(self) -> int:
        return self._bytes

    def qsize(self) -> int:
        return len(self._items)

    async def put(self, item: T, size: int) -> None:
        async with self._changed:
            await self._changed.wait_for(
                lambda: _room(self._items, self._bytes, size, self.max_bytes, self.max_items)
            )
            self._items.append((item, size))
            self._bytes += size
            self._changed.notify_all()

    async def get(self) -> T:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))
            item, size = self._items.popleft()
            self._bytes -= size
            self._changed.notify_all()
            return item


def _room(items: Sized, held: int, size: int, max_bytes: int, max_items: int | None) -> bool:
    if not items:
        return True
    return held + size <= max_bytes and (max_items is None or len(items) < max_items)
