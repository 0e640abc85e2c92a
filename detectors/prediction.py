"""When will a signal cross its alarm limit? A robust trend over the recent evidence window.

The trend is Theil-Sen: the median of the slopes between pairs of points. Unlike least squares, a
few spikes or a short glitch in the window barely move it (its breakdown point is about 29%), which
matters because the window that raised a finding is exactly where odd values are. The uncertainty
comes from the rank-based confidence interval of the slope (Sen 1968, from the null variance of
Kendall's S): each end of the interval gives its own line, hence its own crossing time. The
interval assumes independent residuals; strongly autocorrelated noise makes it too narrow.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devices import Limits, Point

MAX_PAIRS = 6000
"""Pairs of points whose slopes are computed; beyond, a fixed sample of them (all 179,700 pairs
of a 600-point window cost milliseconds, this sample tens of microseconds, and moves the interval
ends by a small fraction of its width)."""

Z_95 = 1.959963984540054
"""Two-sided 95% normal quantile."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """When the trend reaches `limit`, in seconds after the last point, with a 95% range.

    `earliest <= seconds <= latest`; `latest` is infinite when the slope's interval reaches zero
    (the trend may as well be flat). All three are 0.0 when the signal is already past the limit.
    `slope` is in signal units per second.
    """

    seconds: float
    earliest: float
    latest: float
    slope: float
    limit: float


def forecast(
    points: Sequence[Point], limits: Limits, *, min_points: int = 30, confidence_z: float = Z_95
) -> Forecast | None:
    """The forecast of the alarm limit the trend of `points` ((ts, value), time order) heads to.

    None when there are fewer than `min_points` points, they span no time, the trend is exactly
    flat, or there is no alarm limit in its direction.
    """
    n = len(points)
    if n < min_points or n < 3:
        return None
    data = np.fromiter(
        itertools.chain.from_iterable(points), dtype=np.float64, count=2 * n
    ).reshape(n, 2)
    t = data[:, 0] - data[-1, 0]
    y = data[:, 1]
    if t[0] == 0.0:
        return None
    i, j = _pairs(n)
    dt = t[j] - t[i]
    keep = dt != 0.0
    slopes = (y[j] - y[i])[keep] / dt[keep]
    if slopes.size == 0:
        return None
    slope, low, high = _slope_interval(slopes, n, confidence_z)
    if slope == 0.0:
        return None
    limit = limits.alarm_high if slope > 0.0 else limits.alarm_low
    if limit is None:
        return None
    level = _level(t, y, slope)
    past = level >= limit if slope > 0.0 else level <= limit
    if past:
        return Forecast(0.0, 0.0, 0.0, slope, limit)
    seconds = (limit - level) / slope
    # The steeper end of the interval arrives first; an end on the far side of zero never does.
    steep, shallow = (high, low) if slope > 0.0 else (low, high)
    earliest = _crossing(t, y, steep, slope, limit)
    latest = _crossing(t, y, shallow, slope, limit)
    return Forecast(seconds, min(earliest, seconds), max(latest, seconds), slope, limit)


def _slope_interval(
    slopes: npt.NDArray[np.float64], n: int, z: float
) -> tuple[float, float, float]:
    """Median slope and the ends of its rank-based confidence interval."""
    total = n * (n - 1) / 2.0
    half_width = z * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0) / (2.0 * total)
    if slopes.size < total:
        # A sample of the pairs places each quantile only to within sqrt(p (1 - p) / m).
        half_width = math.hypot(half_width, z * 0.5 / math.sqrt(slopes.size))
    q_low = max(0.0, 0.5 - half_width)
    q_high = min(1.0, 0.5 + half_width)
    last = slopes.size - 1
    ranks = [round(q * last) for q in (q_low, 0.5, q_high)]
    low, median, high = np.partition(slopes, ranks)[ranks]
    return float(median), float(low), float(high)


def _level(t: npt.NDArray[np.float64], y: npt.NDArray[np.float64], slope: float) -> float:
    """The line's value at the last point (t = 0): the median intercept for this slope."""
    return float(np.median(y - slope * t))


def _crossing(
    t: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    slope: float,
    trend: float,
    limit: float,
) -> float:
    """When the line of `slope` reaches `limit`; never if it does not head the way `trend` does."""
    if slope * trend <= 0.0:
        return math.inf
    return max(0.0, (limit - _level(t, y, slope)) / slope)


@functools.lru_cache(maxsize=32)
def _pairs(n: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Indices (i < j) of the pairs to take slopes of: all of them, or a fixed sample.

    Seeded by `n` alone so the same window always gives the same forecast.
    """
    total = n * (n - 1) // 2
    if total <= MAX_PAIRS:
        i, j = np.triu_indices(n, k=1)
        return i, j
    rng = np.random.default_rng(n)
    i = rng.integers(0, n, size=2 * MAX_PAIRS)
    j = rng.integers(0, n, size=2 * MAX_PAIRS)
    keep = i != j
    i, j = i[keep][:MAX_PAIRS], j[keep][:MAX_PAIRS]
    return np.minimum(i, j), np.maximum(i, j)
