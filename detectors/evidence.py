"""A stream's evidence window: its latest readings, kept for the findings it may give rise to.

Every stream keeps one, so its size is the engine's memory per stream: a deque of `(ts, value)`
tuples costs about 100 bytes a point (the tuple and its two floats), a ring of doubles 16.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from devices import Point

POINTS = 600
"""Readings a window keeps."""


class Evidence:
    """The latest `size` readings of a stream as `(ts, value)` points, oldest first."""

    __slots__ = ("_buffer", "_count", "_head", "_size")

    def __init__(self, size: int = POINTS) -> None:
        self._size = size
        self._buffer = array("d", bytes(16 * size))
        """ts, value, ts, value, ...; point i at 2i and 2i + 1."""
        self._head = 0
        """Where the next point goes."""
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, ts: float, value: float) -> None:
        head = self._head
        self._buffer[2 * head] = ts
        self._buffer[2 * head + 1] = value
        self._head = head + 1 if head + 1 < self._size else 0
        if self._count < self._size:
            self._count += 1

    def extend(self, points: Iterable[Point]) -> None:
        for ts, value in points:
            self.append(ts, value)

    def last(self) -> Point:
        """The newest point; IndexError when there is none."""
        if not self._count:
            raise IndexError("no evidence yet")
        i = 2 * (self._head - 1 if self._head else self._size - 1)
        return self._buffer[i], self._buffer[i + 1]

    def points(self) -> tuple[Point, ...]:
        """Every point kept, oldest first."""
        start = (self._head - self._count) % self._size
        flat = (self._buffer[2 * start :] + self._buffer[: 2 * start])[: 2 * self._count]
        return tuple(zip(flat[0::2], flat[1::2], strict=True))
