"""When will a signal cross its alarm limit? A trend over the recent evidence window."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from devices import Limits, Point


def time_to_limit(points: Sequence[Point], limits: Limits, *, min_points: int = 30) -> float | None:
    """Seconds after the last point until the linear trend of `points` reaches an alarm limit.

    0.0 if the trend is already past it; None when there is no alarm limit in the direction of the
    trend, the trend is flat, or there are too few points to say.
    """
    if len(points) < min_points:
        return None
    data = np.asarray(points, dtype=np.float64)
    t = data[:, 0] - data[-1, 0]
    if t[0] == 0.0:
        return None
    slope, intercept = np.polyfit(t, data[:, 1], 1)
    level = float(intercept)
    if slope > 0.0 and limits.alarm_high is not None:
        return max(0.0, (limits.alarm_high - level) / float(slope))
    if slope < 0.0 and limits.alarm_low is not None:
        return max(0.0, (level - limits.alarm_low) / float(-slope))
    return None
