"""Tail calibration: a raw anomaly score becomes the rarity of that score among recent ones.

Raw scores of different models (a half-space-tree mass, a reconstruction error) mean nothing on
their own: 0.8 may be routine on one pump and unheard of on another. `TailCalibrator` learns the
recent distribution of one detector's raw scores and maps a raw score `r` to
`min(1, -log10(P(raw >= r)) / 10)`, the same scale as `detectors.base.surprise_score`: 0.3 is a
raw score exceeded by 1 in 1,000 recent ones, 0.5 by 1 in 100,000.

A histogram cannot tell 1 in 100,000 from 1 in a million without millions of samples, so beyond
a high quantile `u` of the histogram (`tail_quantile`) the tail is extrapolated as an
exponential whose scale is the mean excess over `u` (peaks over threshold, as in SPOT, with the
generalised Pareto shape fixed at 0). Bins are evenly spaced in the raw score or in its
logarithm (`log_spaced`, for raw scores spanning decades; the tail is then a power law).

Old scores fade with a half-life of `halflife` samples. While a condition is active (calibrated
score reached `on_score` and has not yet fallen to `off_score`) raw scores above `u` are not
learned: a developing fault must not teach the calibrator that it is normal.

State is plain numbers and lists, so a dataclass snapshot of a detector holding a calibrator is
JSON data. To calibrate any detector, keep one calibrator beside it and, per sample::

    raw = model.score_one(x)                 # the detector's own, uncalibrated score
    score = calibrator.score_one(raw)        # what the engine sees, in [0, 1]
    model.learn_one(x)
    calibrator.learn_one(raw)

(`HalfSpaceTreesDetector` in `detectors.hst` does exactly this.)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from detectors.base import _Stateful
from detectors.errors import DetectorError

_RESCALE_AT = 1e100


@dataclass
class TailCalibrator(_Stateful):
    """Raw scores in, tail-probability scores in [0, 1] out; see the module docstring.

    `low` and `high` bound the histogram (raw scores outside it are counted in the end bins but
    still scored by their true value); with `log_spaced`, `low` must be positive. No score (0.0)
    before `warmup` raw scores have been learned. The tail fit is refreshed every `refresh`
    learned scores, which keeps `score_one` O(1).
    """

    low: float = 0.0
    high: float = 1.0
    bins: int = 200
    log_spaced: bool = False
    halflife: float = 50_000.0
    warmup: int = 2_000
    tail_quantile: float = 0.99
    refresh: int = 100
    on_score: float = 0.5
    off_score: float = 0.3

    n: int = field(default=0, init=False)
    counts: list[float] = field(default_factory=list, init=False)
    weight: float = field(default=1.0, init=False)
    """What the next learned score adds to its bin: growing instead of decaying every bin keeps
    forgetting O(1); every count is divided down when it grows too large."""
    total: float = field(default=0.0, init=False)
    tail: list[float] = field(default_factory=list, init=False)
    """Cached: tail[i] is the share of recent scores in bins i and above."""
    u: float = field(default=math.inf, init=False)
    """Cached: the `tail_quantile` of recent raw scores, as a histogram position in [0, 1]."""
    excess: float = field(default=1.0, init=False)
    """Cached: mean excess over `u`, in histogram position units."""
    since_refresh: int = field(default=0, init=False)
    active: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not self.high > self.low:
            raise DetectorError(f"calibrator: high ({self.high}) must be above low ({self.low})")
        if self.log_spaced and self.low <= 0:
            raise DetectorError(f"calibrator: log_spaced needs a positive low, got {self.low}")
        if self.bins < 10:
            raise DetectorError(f"calibrator: use at least 10 bins, got {self.bins}")
        if not 0.5 < self.tail_quantile < 1.0:
            raise DetectorError(
                f"calibrator: tail_quantile must be in (0.5, 1), got {self.tail_quantile}"
            )
        if not self.counts:
            self.counts = [0.0] * self.bins
            self.tail = [1.0] * (self.bins + 1)

    def snapshot(self) -> dict[str, Any]:
        """Parameters and state as plain data (copies: later learning does not change it)."""
        return copy.deepcopy(super().snapshot())

    def _position(self, raw: float) -> float:
        """Where `raw` falls on the histogram's axis: 0 at `low`, 1 at `high`, unclipped."""
        if self.log_spaced:
            return math.log(max(raw, 1e-300) / self.low) / math.log(self.high / self.low)
        return (raw - self.low) / (self.high - self.low)

    def tail_probability(self, raw: float) -> float:
        """Estimated share of recent raw scores at or above `raw`."""
        pos = self._position(raw)
        if pos > self.u:
            return (1.0 - self.tail_quantile) * math.exp(-(pos - self.u) / self.excess)
        if pos <= 0.0:
            return 1.0
        i = min(int(pos * self.bins), self.bins - 1)
        within = pos * self.bins - i
        p = self.tail[i] - within * (self.tail[i] - self.tail[i + 1])
        return min(1.0, max(p, 1.0 - self.tail_quantile))

    def score_one(self, raw: float) -> float:
        """Calibrated score of `raw` in [0, 1] (0.0 during warmup or for a non-finite score)."""
        if self.n < self.warmup or not math.isfinite(raw):
            return 0.0
        p = self.tail_probability(raw)
        if p <= 1e-10:
            return 1.0
        return -math.log10(p) / 10.0

    def learn_one(self, raw: float) -> None:
        if not math.isfinite(raw):
            return
        score = self.score_one(raw)
        if self.active and score <= self.off_score:
            self.active = False
        elif not self.active and score >= self.on_score:
            self.active = True
        if self.active and self._position(raw) > self.u:
            return
        self.n += 1
        i = min(max(int(self._position(raw) * self.bins), 0), self.bins - 1)
        self.weight /= 0.5 ** (1.0 / self.halflife)
        self.counts[i] += self.weight
        self.total += self.weight
        if self.weight > _RESCALE_AT:
            self.counts = [c / self.weight for c in self.counts]
            self.total /= self.weight
            self.weight = 1.0
        self.since_refresh += 1
        if self.since_refresh >= self.refresh or self.n == self.warmup:
            self._fit_tail()

    def _fit_tail(self) -> None:
        self.since_refresh = 0
        running = 0.0
        tail = [0.0] * (self.bins + 1)
        for i in range(self.bins - 1, -1, -1):
            running += self.counts[i]
            tail[i] = running / self.total
        self.tail = tail
        target = 1.0 - self.tail_quantile
        k = next(i for i in range(self.bins - 1, -1, -1) if tail[i] >= target)
        # tail[k] >= target > tail[k + 1]: u lies inside bin k, where the tail crosses target.
        mass = tail[k] - tail[k + 1]
        u_bin = k + (tail[k] - target) / mass if mass > 0 else float(k)
        self.u = u_bin / self.bins
        excess_sum = 0.0
        for j in range(k, self.bins):
            share = tail[j] - tail[j + 1]
            if j == k:
                share = target - tail[k + 1]
                centre = (u_bin + k + 1) / 2.0
            else:
                centre = j + 0.5
            excess_sum += share * (centre - u_bin)
        self.excess = max(excess_sum / target, 1.0) / self.bins
