"""A signal's long trend: the mean and spread of its values in fixed buckets of source time.

The evidence window of a finding covers minutes; wear develops over hours and days. A
`TrendHistory` keeps, per signal, one `(mid time, mean, standard deviation, count)` per bucket
(10 minutes by default) for the last `max_buckets` buckets (2 days), in constant memory and a few
additions per reading. It is part of the engine's state snapshot.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

BUCKET_SECONDS = 600.0
MAX_BUCKETS = 288


@dataclass(frozen=True, slots=True)
class Bucket:
    ts: float
    """Mean source time of the bucket's readings."""
    mean: float
    sd: float
    """Standard deviation of the readings around their mean (0.0 for a single reading)."""
    count: int


class TrendHistory:
    """Bucketed means of one signal; the bucket being filled counts as the newest."""

    __slots__ = ("_closed", "_count", "_start", "_sum", "_sum_sq", "_sum_ts", "width")

    def __init__(self, width: float = BUCKET_SECONDS, max_buckets: int = MAX_BUCKETS) -> None:
        if width <= 0.0 or max_buckets < 1:
            raise ValueError("a trend history needs a positive bucket width and at least a bucket")
        self.width = width
        self._closed: deque[Bucket] = deque(maxlen=max_buckets - 1)
        self._start = -math.inf
        self._count = 0
        self._sum = self._sum_sq = self._sum_ts = 0.0

    def add(self, ts: float, value: float) -> None:
        """One reading, in time order."""
        if ts >= self._start + self.width:
            self._close()
            self._start = ts - ts % self.width
        self._count += 1
        self._sum += value
        self._sum_sq += value * value
        self._sum_ts += ts

    def buckets(self) -> list[Bucket]:
        """Oldest first, the one being filled last."""
        current = self._current()
        return [*self._closed, current] if current is not None else list(self._closed)

    def __len__(self) -> int:
        return len(self._closed) + (self._count > 0)

    def _current(self) -> Bucket | None:
        n = self._count
        if n == 0:
            return None
        mean = self._sum / n
        variance = max(0.0, self._sum_sq / n - mean * mean)
        sd = math.sqrt(variance * n / (n - 1)) if n > 1 else 0.0
        return Bucket(self._sum_ts / n, mean, sd, n)

    def _close(self) -> None:
        current = self._current()
        if current is not None:
            self._closed.append(current)
        self._count = 0
        self._sum = self._sum_sq = self._sum_ts = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "max_buckets": (self._closed.maxlen or 0) + 1,
            "closed": [[b.ts, b.mean, b.sd, b.count] for b in self._closed],
            "open": [
                self._start if math.isfinite(self._start) else None,
                self._count,
                self._sum,
                self._sum_sq,
                self._sum_ts,
            ],
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> TrendHistory:
        history = cls(state["width"], state["max_buckets"])
        history._closed.extend(Bucket(t, m, s, int(n)) for t, m, s, n in state["closed"])
        start, count, total, total_sq, total_ts = state["open"]
        history._start = -math.inf if start is None else start
        history._count = int(count)
        history._sum, history._sum_sq, history._sum_ts = total, total_sq, total_ts
        return history
