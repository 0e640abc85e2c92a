"""The streams' evidence windows: each stream's latest readings, kept for the findings it may give.

Every stream keeps one, so its size is the engine's memory per stream: a deque of `(ts, value)`
tuples costs about 100 bytes a point (the tuple and its two floats), a ring of doubles 16.

The engine's rings live in one `EvidenceRings`: a `ts` and a `value` array of streams x points,
and each stream's `head` and `count`, so that a batch of readings of many streams is appended with
a few numpy operations (`EvidenceRings.append`). `Evidence` is one stream's window on them, for
the code that goes reading by reading (the engine's reference path, findings, snapshots); it reads
and writes through memoryviews, which cost about what `array.array` does per point.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from detectors.ragged import pack, unpack
from devices import Point

POINTS = 600
"""Readings a window keeps."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


class EvidenceRings:
    """The evidence windows of `streams` streams, `size` points each."""

    def __init__(self, streams: int, size: int = POINTS) -> None:
        self.size = size
        self.ts: FloatArray = np.zeros((streams, size))
        self.value: FloatArray = np.zeros((streams, size))
        self.head: IntArray = np.zeros(streams, dtype=np.intp)
        """Where each stream's next point goes."""
        self.count: IntArray = np.zeros(streams, dtype=np.intp)
        self._heads: memoryview[int] = self.head.data
        self._counts: memoryview[int] = self.count.data

    def window(self, stream: int) -> Evidence:
        """Stream `stream`'s window, reading and writing these arrays."""
        return Evidence(self.size, _rings=self, _stream=stream)

    def append(
        self, streams: IntArray, ts: FloatArray, values: FloatArray, rank: IntArray, last: BoolArray
    ) -> None:
        """Append a batch of readings, each stream's in time order: `rank` is each reading's place
        among its stream's readings in the batch (0, 1, ...), `last` marks each stream's last one.
        Leaves the same points as `Evidence.append` reading by reading."""
        size = self.size
        ends = streams[last]
        added = rank[last] + 1
        if added.max(initial=0) > size:  # a stream's earliest readings would be overwritten
            per_stream = np.zeros_like(self.head)
            per_stream[ends] = added
            kept = rank >= per_stream[streams] - size
            streams, ts, values, rank = streams[kept], ts[kept], values[kept], rank[kept]
        slots = (self.head[streams] + rank) % size
        self.ts[streams, slots] = ts
        self.value[streams, slots] = values
        self.head[ends] = (self.head[ends] + added) % size
        self.count[ends] = np.minimum(self.count[ends] + added, size)

    def state(self) -> dict[str, Any]:
        """Every stream's points as arrays: `count` per stream, and `ts` and `value` of every
        point, oldest first, stream after stream."""
        streams = self.head.size
        slots = (((self.head - self.count) % self.size)[:, None] + np.arange(self.size)) % self.size
        rows = np.arange(streams)[:, None]
        return {
            "size": self.size,
            "count": self.count.copy(),
            "ts": pack(self.ts[rows, slots], self.count),
            "value": pack(self.value[rows, slots], self.count),
        }

    def restore_state(self, state: dict[str, Any], saved_of: IntArray) -> None:
        """Each stream `i` with `saved_of[i] >= 0` gets the points stream `saved_of[i]` had in
        `state` (what `state()` gave; the newest `size` of them), as if appended one by one to
        an empty window."""
        picks = np.flatnonzero(saved_of >= 0)
        saved = saved_of[picks]
        count = np.asarray(state["count"], dtype=np.intp)
        self.ts[picks], n = unpack(
            np.asarray(state["ts"], dtype=np.float64), count, saved, self.size
        )
        self.value[picks], _ = unpack(
            np.asarray(state["value"], dtype=np.float64), count, saved, self.size
        )
        self.head[picks] = n % self.size
        self.count[picks] = n


class Evidence:
    """The latest `size` readings of a stream as `(ts, value)` points, oldest first.

    Built alone, a window of its own; from `EvidenceRings.window`, one stream's row of the rings.
    """

    __slots__ = ("_counts", "_heads", "_i", "_size", "_ts", "_value")

    def __init__(
        self, size: int = POINTS, *, _rings: EvidenceRings | None = None, _stream: int = 0
    ) -> None:
        rings = _rings if _rings is not None else EvidenceRings(1, size)
        self._size = size
        self._i = _stream
        self._ts = cast("memoryview[float]", rings.ts[_stream].data)
        self._value = cast("memoryview[float]", rings.value[_stream].data)
        self._heads = rings._heads
        self._counts = rings._counts

    def __len__(self) -> int:
        count: int = self._counts[self._i]
        return count

    def append(self, ts: float, value: float) -> None:
        i = self._i
        head = self._heads[i]
        self._ts[head] = ts
        self._value[head] = value
        self._heads[i] = head + 1 if head + 1 < self._size else 0
        if self._counts[i] < self._size:
            self._counts[i] += 1

    def extend(self, points: Iterable[Point]) -> None:
        for ts, value in points:
            self.append(ts, value)

    def last(self) -> Point:
        """The newest point; IndexError when there is none."""
        i = self._i
        if not self._counts[i]:
            raise IndexError("no evidence yet")
        head = self._heads[i]
        at = head - 1 if head else self._size - 1
        return self._ts[at], self._value[at]

    def points(self) -> tuple[Point, ...]:
        """Every point kept, oldest first."""
        i = self._i
        count, size = self._counts[i], self._size
        start = (self._heads[i] - count) % size
        ts, value = self._ts.tolist(), self._value.tolist()
        if start + count <= size:
            return tuple(zip(ts[start : start + count], value[start : start + count], strict=True))
        wrap = start + count - size
        return (
            *zip(ts[start:], value[start:], strict=True),
            *zip(ts[:wrap], value[:wrap], strict=True),
        )
