"""The signals of a replay, kept small enough to chart: per signal, the minimum, maximum and mean
of every one of a fixed number of time buckets. Spikes survive (they are a bucket's max), a week
of one signal every second fits in a few kilobytes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simulators import Sample

DEFAULT_BUCKETS = 480


@dataclass(frozen=True, slots=True)
class Series:
    """One signal over the run, bucketed: bucket i covers [start + i*width, start + (i+1)*width).
    Empty buckets (no reading) are NaN."""

    start: float
    width: float
    low: tuple[float, ...]
    high: tuple[float, ...]
    mean: tuple[float, ...]

    def times(self) -> list[float]:
        """The middle of every bucket."""
        return [self.start + (i + 0.5) * self.width for i in range(len(self.mean))]

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "width": self.width,
            "low": [_finite(v) for v in self.low],
            "high": [_finite(v) for v in self.high],
            "mean": [_finite(v) for v in self.mean],
        }


class _Accumulator:
    __slots__ = ("count", "high", "low", "total")

    def __init__(self, buckets: int) -> None:
        self.low = [math.inf] * buckets
        self.high = [-math.inf] * buckets
        self.total = [0.0] * buckets
        self.count = [0] * buckets


class TelemetryRecorder:
    """A publisher that buckets every sample it is given, for the report's charts."""

    def __init__(self, start: float, end: float, buckets: int = DEFAULT_BUCKETS) -> None:
        self.start = start
        self.buckets = buckets
        self.width = max(end - start, 1e-9) / buckets
        self.readings = 0
        self._series: dict[tuple[str, str], _Accumulator] = {}

    async def publish(self, samples: Sequence[Sample]) -> None:
        self.add(samples)

    async def flush(self) -> None:
        return None

    def add(self, samples: Sequence[Sample]) -> None:
        last = self.buckets - 1
        series = self._series
        for sample in samples:
            index = int((sample.ts - self.start) / self.width)
            if index < 0 or index > last:
                continue
            for name, value in sample.values.items():
                key = (sample.equipment_id, name)
                acc = series.get(key)
                if acc is None:
                    acc = series[key] = _Accumulator(self.buckets)
                if value < acc.low[index]:
                    acc.low[index] = value
                if value > acc.high[index]:
                    acc.high[index] = value
                acc.total[index] += value
                acc.count[index] += 1
            self.readings += len(sample.values)

    def series(self) -> dict[str, dict[str, Series]]:
        """Equipment -> signal -> bucketed series."""
        out: dict[str, dict[str, Series]] = {}
        for (eq_id, name), acc in self._series.items():
            empty = [n == 0 for n in acc.count]
            out.setdefault(eq_id, {})[name] = Series(
                start=self.start,
                width=self.width,
                low=tuple(math.nan if e else v for e, v in zip(empty, acc.low, strict=True)),
                high=tuple(math.nan if e else v for e, v in zip(empty, acc.high, strict=True)),
                mean=tuple(
                    math.nan if n == 0 else t / n for n, t in zip(acc.count, acc.total, strict=True)
                ),
            )
        return out


def series_from_json(data: Mapping[str, Any]) -> Series:
    def floats(values: list[float | None]) -> tuple[float, ...]:
        return tuple(math.nan if v is None else float(v) for v in values)

    return Series(
        start=float(data["start"]),
        width=float(data["width"]),
        low=floats(data["low"]),
        high=floats(data["high"]),
        mean=floats(data["mean"]),
    )


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None
