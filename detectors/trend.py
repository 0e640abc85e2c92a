"""A signal's long trend: the mean and spread of its values in fixed buckets of source time.

The evidence window of a finding covers minutes; wear develops over hours and days. A
`TrendHistory` keeps, per signal, one `(mid time, mean, standard deviation, count)` per bucket
(10 minutes by default) for the last `max_buckets` buckets (2 days), in constant memory and a few
additions per reading. It is part of the engine's state snapshot.

The engine's histories live in one `TrendStore`: the open buckets' accumulators (start, count, sum,
sum of squares, sum of timestamps) as arrays over the streams, so that a batch adds to every
stream's open bucket at once (`TrendStore.add`, with `np.add.at`, which adds in order: the sums
are the same doubles as reading by reading), and each stream's closed buckets in a deque. A
`TrendHistory` is one stream's view of the store, for the code that goes reading by reading.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

BUCKET_SECONDS = 600.0
MAX_BUCKETS = 288
OFF_FRACTION = 0.1
"""Below this fraction of the highest bucket mean its regime signal has had, equipment is off."""
LEVEL_CHANGE = 0.15
"""A regime level this far (relative) from the bucket before is a start, a stop or a new load."""
SETTLE_SECONDS = 3 * 3600.0
"""How long after a start or a new load the signals that lag it (temperatures) are not steady:
about five time constants of a large motor's windings or a gearbox's oil."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Bucket:
    ts: float
    """Mean source time of the bucket's readings."""
    mean: float
    sd: float
    """Standard deviation of the readings around their mean (0.0 for a single reading)."""
    count: int


class TrendStore:
    """The trend histories of `streams` streams."""

    def __init__(
        self, streams: int, width: float = BUCKET_SECONDS, max_buckets: int = MAX_BUCKETS
    ) -> None:
        _check(width, max_buckets)
        self.width: FloatArray = np.full(streams, width)
        self.start: FloatArray = np.full(streams, -math.inf)
        """Each open bucket's start (-inf: none yet)."""
        self.count: IntArray = np.zeros(streams, dtype=np.intp)
        self.sum: FloatArray = np.zeros(streams)
        self.sum_sq: FloatArray = np.zeros(streams)
        self.sum_ts: FloatArray = np.zeros(streams)
        self.closed: list[deque[Bucket]] = [deque(maxlen=max_buckets - 1) for _ in range(streams)]
        self.views = (
            cast("memoryview[float]", self.width.data),
            cast("memoryview[float]", self.start.data),
            self.count.data,
            cast("memoryview[float]", self.sum.data),
            cast("memoryview[float]", self.sum_sq.data),
            cast("memoryview[float]", self.sum_ts.data),
        )
        """Per-element access for `TrendHistory`: width, start, count, sum, sum_sq, sum_ts."""

    def history(self, stream: int) -> TrendHistory:
        """Stream `stream`'s history, reading and writing this store."""
        return TrendHistory(_store=self, _stream=stream)

    def add(self, streams: IntArray, ts: FloatArray, values: FloatArray) -> None:
        """Add a batch of readings, each stream's in time order, as `TrendHistory.add` one by one
        would: a stream whose readings close its open bucket takes that sequential way."""
        crossing = ts >= self.start[streams] + self.width[streams]
        if crossing.any():
            sequential = np.isin(streams, streams[crossing])
            histories: dict[int, TrendHistory] = {}
            for i, t, x in zip(
                streams[sequential].tolist(),
                ts[sequential].tolist(),
                values[sequential].tolist(),
                strict=True,
            ):
                history = histories.get(i)
                if history is None:
                    history = histories[i] = self.history(i)
                history.add(t, x)
            kept = ~sequential
            streams, ts, values = streams[kept], ts[kept], values[kept]
        np.add.at(self.count, streams, 1)
        np.add.at(self.sum, streams, values)
        np.add.at(self.sum_sq, streams, values * values)
        np.add.at(self.sum_ts, streams, ts)

    def restore(self, stream: int, state: dict[str, Any]) -> None:
        """Stream `stream`'s history as `TrendHistory.snapshot` saved it."""
        _check(state["width"], state["max_buckets"])
        self.width[stream] = state["width"]
        closed: deque[Bucket] = deque(maxlen=state["max_buckets"] - 1)
        closed.extend(Bucket(t, m, s, int(n)) for t, m, s, n in state["closed"])
        self.closed[stream] = closed
        start, count, total, total_sq, total_ts = state["open"]
        self.start[stream] = -math.inf if start is None else start
        self.count[stream] = int(count)
        self.sum[stream], self.sum_sq[stream], self.sum_ts[stream] = total, total_sq, total_ts


class TrendHistory:
    """Bucketed means of one signal; the bucket being filled counts as the newest.

    Built alone, a history of its own; from `TrendStore.history`, one stream's part of a store.
    """

    __slots__ = ("_count", "_i", "_start", "_store", "_sum", "_sum_sq", "_sum_ts", "_width")

    def __init__(
        self,
        width: float = BUCKET_SECONDS,
        max_buckets: int = MAX_BUCKETS,
        *,
        _store: TrendStore | None = None,
        _stream: int = 0,
    ) -> None:
        store = _store if _store is not None else TrendStore(1, width, max_buckets)
        self._store, self._i = store, _stream
        self._width, self._start, self._count, self._sum, self._sum_sq, self._sum_ts = store.views

    @property
    def width(self) -> float:
        width: float = self._width[self._i]
        return width

    def add(self, ts: float, value: float) -> None:
        """One reading, in time order."""
        i = self._i
        if ts >= self._start[i] + self._width[i]:
            self._close()
            self._start[i] = ts - ts % self._width[i]
        self._count[i] += 1
        self._sum[i] += value
        self._sum_sq[i] += value * value
        self._sum_ts[i] += ts

    def buckets(self) -> list[Bucket]:
        """Oldest first, the one being filled last."""
        closed = self._store.closed[self._i]
        current = self._current()
        return [*closed, current] if current is not None else list(closed)

    def __len__(self) -> int:
        return len(self._store.closed[self._i]) + (self._count[self._i] > 0)

    def _current(self) -> Bucket | None:
        i = self._i
        n: int = self._count[i]
        if n == 0:
            return None
        mean = self._sum[i] / n
        variance = max(0.0, self._sum_sq[i] / n - mean * mean)
        sd = math.sqrt(variance * n / (n - 1)) if n > 1 else 0.0
        return Bucket(self._sum_ts[i] / n, mean, sd, n)

    def _close(self) -> None:
        i = self._i
        current = self._current()
        if current is not None:
            self._store.closed[i].append(current)
        self._count[i] = 0
        self._sum[i] = self._sum_sq[i] = self._sum_ts[i] = 0.0

    def snapshot(self) -> dict[str, Any]:
        i, closed = self._i, self._store.closed[self._i]
        start: float = self._start[i]
        return {
            "width": self.width,
            "max_buckets": (closed.maxlen or 0) + 1,
            "closed": [[b.ts, b.mean, b.sd, b.count] for b in closed],
            "open": [
                start if math.isfinite(start) else None,
                self._count[i],
                self._sum[i],
                self._sum_sq[i],
                self._sum_ts[i],
            ],
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> TrendHistory:
        history = cls(state["width"], state["max_buckets"])
        history._store.restore(0, state)
        return history


def running_settled(
    buckets: Sequence[Bucket], regime: Sequence[Bucket], width: float = BUCKET_SECONDS
) -> list[Bucket]:
    """The buckets of a signal's history (`buckets`) taken while its equipment ran settled at
    its usual level, as the history of its regime signal (`regime`, oldest first, buckets of
    `width` seconds like the signal's) tells.

    A wear trend is a trend of the running machine: a bucket of a machine standing, starting,
    changing load or still warming up after a start is a step of its operation, not of its wear.
    The regime's buckets fall into runs: consecutive buckets of the equipment running (a mean of
    at least `OFF_FRACTION` of the highest), each within `LEVEL_CHANGE` of the one before (a
    compressor's load and unload cycles average out in a bucket; a start, a stop or a new load
    does not). A run's buckets from `SETTLE_SECONDS` after its start on are settled. The usual
    level is the median level of settled runs that the most settled buckets share (within
    `LEVEL_CHANGE`): a compressor idling at night is forecast at its day load, not at idle. A
    signal bucket is kept when the regime bucket of the same slot of time is a settled one of a
    run at the usual level. With no regime bucket at all (the regime signal has not reported),
    nothing tells running from standing, and every bucket is kept.
    """
    if not regime:
        return list(buckets)
    peak = max(abs(b.mean) for b in regime)
    runs: list[list[float]] = []
    """Per run, the slots of its settled buckets."""
    levels: list[list[float]] = []
    """Per run, its settled buckets' levels."""
    start = last_slot = last_level = -math.inf
    for bucket in regime:
        level, slot = abs(bucket.mean), bucket.ts // width
        if level < OFF_FRACTION * peak:
            last_slot = -math.inf
            continue
        if slot != last_slot + 1 or not _near(level, last_level):
            runs.append([])
            levels.append([])
            start = slot
        if (slot - start) * width >= SETTLE_SECONDS:
            runs[-1].append(slot)
            levels[-1].append(level)
        last_slot, last_level = slot, level
    settled = [(statistics.median(lv), run) for lv, run in zip(levels, runs, strict=True) if run]
    if not settled:
        return []
    shares = [sum(len(run) for m, run in settled if _near(median, m)) for median, _ in settled]
    usual = settled[max(range(len(settled)), key=lambda k: (shares[k], k))][0]
    slots = {slot for median, run in settled if _near(median, usual) for slot in run}
    return [b for b in buckets if b.ts // width in slots]


def _near(a: float, b: float) -> bool:
    """Two regime levels of one load (within `LEVEL_CHANGE` of the larger)."""
    return abs(a - b) <= LEVEL_CHANGE * max(a, b)


def _check(width: float, max_buckets: int) -> None:
    if width <= 0.0 or max_buckets < 1:
        raise ValueError("a trend history needs a positive bucket width and at least a bucket")
