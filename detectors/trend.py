"""A signal's long trend: the mean and spread of its values in fixed buckets of source time.

The evidence window of a finding covers minutes; wear develops over hours and days. A
`TrendHistory` keeps, per signal, one `(mid time, mean, standard deviation, count)` per bucket
(10 minutes by default) for the last `max_buckets` buckets (2 days), in constant memory and a few
additions per reading. It is part of the engine's state snapshot.

The engine's histories live in one `TrendStore`: the open buckets' accumulators (start, count, sum,
sum of squares, sum of timestamps) as arrays over the streams, so that a batch adds to every
stream's open bucket at once (`TrendStore.add`, with `np.add.at`, which adds in order: the sums
are the same doubles as reading by reading), and each stream's closed buckets, oldest first, in
one array of streams x buckets x (mid time, mean, sd, count) (32 bytes a bucket, where a `Bucket`
object costs about 170). A `TrendHistory` is one stream's view of the store, for the code that
goes reading by reading.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from detectors.ragged import pack, unpack

BUCKET_SECONDS = 600.0
PER_STREAM = ("width", "start", "count", "sum", "sum_sq", "sum_ts", "closed_count")
"""The arrays over the streams of a store's `state()` (beside its closed buckets)."""
MAX_BUCKETS = 288
OFF_FRACTION = 0.1
"""Below this fraction of the highest bucket mean its regime signal has had, equipment is off."""
LEVEL_CHANGE = 0.15
"""A regime level this far (relative) from its run's first is a start, a stop or a new load."""
SETTLE_SECONDS = 3 * 3600.0
"""The longest a signal is taken to settle after a start or a new load, and how long it is taken
to when its history holds no start to learn from: about five time constants of a large motor's
windings or a gearbox's oil."""

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
        self.closed: FloatArray = np.zeros((streams, max_buckets - 1, 4))
        """Each stream's closed buckets, oldest first: (mid time, mean, sd, count)."""
        self.closed_count: IntArray = np.zeros(streams, dtype=np.intp)
        """How many of each stream's rows of `closed` hold buckets."""
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

    @property
    def capacity(self) -> int:
        """Closed buckets a stream keeps (`max_buckets` - 1: the open one counts too)."""
        capacity: int = self.closed.shape[1]
        return capacity

    def close(self, stream: int, bucket: Bucket) -> None:
        """Append a closed bucket to `stream`'s, dropping its oldest when they are full."""
        capacity, n = self.capacity, int(self.closed_count[stream])
        if capacity == 0:
            return
        row = self.closed[stream]
        if n == capacity:
            row[:-1] = row[1:]
            n -= 1
        row[n] = (bucket.ts, bucket.mean, bucket.sd, bucket.count)
        self.closed_count[stream] = n + 1

    def closed_buckets(self, stream: int) -> list[Bucket]:
        """`stream`'s closed buckets, oldest first."""
        rows = self.closed[stream, : self.closed_count[stream]].tolist()
        return [Bucket(t, m, s, int(n)) for t, m, s, n in rows]

    def state(self) -> dict[str, Any]:
        """Every stream's history as arrays: the open buckets' accumulators per stream, and the
        closed buckets (`closed_count` per stream, then all of them, stream after stream)."""
        return {
            "max_buckets": self.capacity + 1,
            **{name: getattr(self, name).copy() for name in PER_STREAM},
            "closed": pack(self.closed, self.closed_count),
        }

    def restore_state(self, state: dict[str, Any], saved_of: IntArray) -> None:
        """Each stream `i` with `saved_of[i] >= 0` gets the history stream `saved_of[i]` had in
        `state` (what `state()` gave; of more closed buckets than this store keeps, the newest)."""
        picks = np.flatnonzero(saved_of >= 0)
        saved = saved_of[picks]
        for name in ("width", "start", "sum", "sum_sq", "sum_ts"):
            getattr(self, name)[picks] = np.asarray(state[name], dtype=np.float64)[saved]
        self.count[picks] = np.asarray(state["count"], dtype=np.intp)[saved]
        closed = np.asarray(state["closed"], dtype=np.float64).reshape(-1, 4)
        counts = np.asarray(state["closed_count"], dtype=np.intp)
        self.closed[picks], self.closed_count[picks] = unpack(closed, counts, saved, self.capacity)

    def restore(self, stream: int, state: dict[str, Any]) -> None:
        """Stream `stream`'s history as `TrendHistory.snapshot` saved it (of a history that kept
        more buckets than this store does, the newest)."""
        _check(state["width"], state["max_buckets"])
        self.width[stream] = state["width"]
        closed = state["closed"][len(state["closed"]) - self.capacity :] if self.capacity else []
        self.closed[stream] = 0.0
        if closed:
            self.closed[stream, : len(closed)] = closed
        self.closed_count[stream] = len(closed)
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
        closed = self._store.closed_buckets(self._i)
        current = self._current()
        return [*closed, current] if current is not None else closed

    def __len__(self) -> int:
        return int(self._store.closed_count[self._i]) + (self._count[self._i] > 0)

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
            self._store.close(i, current)
        self._count[i] = 0
        self._sum[i] = self._sum_sq[i] = self._sum_ts[i] = 0.0

    def snapshot(self) -> dict[str, Any]:
        i, store = self._i, self._store
        start: float = self._start[i]
        return {
            "width": self.width,
            "max_buckets": store.capacity + 1,
            "closed": [[b.ts, b.mean, b.sd, b.count] for b in store.closed_buckets(i)],
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
    The regime's buckets fall into runs (`_runs`) of one load. A signal is settled in a run once
    as long after its start as it took to settle after the starts the history holds
    (`_settling`): a vibration at once, an oil temperature after hours. The usual level is the
    regime level that the most settled buckets share (within `LEVEL_CHANGE`): a compressor
    idling at night is forecast at its day load, not at idle. A signal bucket is kept when it is
    settled and its regime bucket is at the usual level. With no regime bucket at all (the
    regime signal has not reported), nothing tells running from standing, and every bucket is
    kept.
    """
    if not regime:
        return list(buckets)
    runs = _runs(regime, width)
    means = {b.ts // width: b.mean for b in buckets}
    settle = _settling(runs, means, width)
    level = {b.ts // width: abs(b.mean) for b in regime}
    settled = [slot for run in runs for slot in run.slots[settle:]]
    if not settled:
        return []
    levels = np.array([level[slot] for slot in settled])
    shares = _near(levels[:, None], levels[None, :]).sum(axis=1)
    usual = float(levels[len(levels) - 1 - int(np.argmax(shares[::-1]))])
    kept = {slot for slot in settled if _near(level[slot], usual)}
    return [b for b in buckets if b.ts // width in kept]


@dataclass(frozen=True, slots=True)
class _Run:
    """Consecutive buckets of equipment running at one load."""

    slots: list[float]
    """Each bucket's slot of time (its time // the width), consecutive."""
    started: bool
    """The history saw it begin (a start, a stop or a load change before its first bucket)."""


def _runs(regime: Sequence[Bucket], width: float) -> list[_Run]:
    """The runs of a regime signal's buckets: running (a mean of at least `OFF_FRACTION` of the
    highest), each bucket in the slot after the one before and within `LEVEL_CHANGE` of the
    run's first. A compressor's load and unload cycles average out in a bucket, a ramp from one
    load to another does not pass as one load."""
    peak = max(abs(b.mean) for b in regime)
    first = regime[0].ts // width
    runs: list[_Run] = []
    slots: list[float] = []
    run_level = 0.0
    """The level of the run's first bucket."""

    def close() -> None:
        if slots:
            runs.append(_Run(slots.copy(), slots[0] != first))
        slots.clear()

    for bucket in regime:
        level, slot = abs(bucket.mean), bucket.ts // width
        if slots and (slot != slots[-1] + 1 or not _near(level, run_level)):
            close()
        if level < OFF_FRACTION * peak:
            close()
            continue
        if not slots:
            run_level = level
        slots.append(slot)
    close()
    return runs


def _settling(runs: Sequence[_Run], means: Mapping[float, float], width: float) -> int:
    """Buckets a signal takes to settle after its equipment starts or changes load: the median,
    over the runs the history saw begin and that lasted `SETTLE_SECONDS` and an hour more, of
    the first bucket after which the signal stays within three residual deviations of the line
    its later buckets follow (the wear's slow trend, carried back); `SETTLE_SECONDS` without such
    a run."""
    span = round(SETTLE_SECONDS / width)
    tail = round(3600.0 / width)
    found = []
    for run in runs:
        values = np.array([means.get(slot, math.nan) for slot in run.slots])
        if not run.started or values.size < span + tail or not np.isfinite(values).all():
            continue
        later = np.arange(span, values.size)
        slope, intercept = np.polyfit(later, values[span:], 1)
        residual = values[span:] - (intercept + slope * later)
        deviation = max(
            np.median(np.abs(np.diff(residual))) / math.sqrt(2.0) / 0.6745,
            1e-9 * float(np.abs(values).max()),  # a constant signal: rounding, not noise
        )
        early = np.abs(values[:span] - (intercept + slope * np.arange(span)))
        away = np.flatnonzero(early > 3.0 * deviation)
        found.append(int(away[-1]) + 1 if away.size else 1)
    return int(statistics.median_low(found)) if found else span


def _near(a: Any, b: Any) -> Any:
    """Two regime levels of one load (within `LEVEL_CHANGE` of the larger): for numbers or,
    element by element, arrays."""
    return np.abs(a - b) <= LEVEL_CHANGE * np.maximum(a, b)


def _check(width: float, max_buckets: int) -> None:
    if width <= 0.0 or max_buckets < 1:
        raise ValueError("a trend history needs a positive bucket width and at least a bucket")
