"""CUSUM: a lasting shift of the signal's level, too small for any single sample to show."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite
from detectors.ewma import halflife_rate
from detectors.surprise import threshold_score
from devices import FindingKind, Signal

MAX_AUTOCORRELATION = 0.99


@dataclass
class Cusum(Detector):
    """Two-sided CUSUM (Page's) against a slowly learned baseline.

    Each value is standardised against the baseline (EWMA mean and standard deviation, half-life
    `baseline_halflife` samples) and, because most machine signals wander, by the long-run
    standard deviation of an AR(1) process with the learned lag-1 autocorrelation ρ: the standard
    deviation is inflated by √((1 + ρ)/(1 − ρ)), so a slowly wandering signal is not mistaken for a
    shift. The upper and lower sums grow by z − `k` per sample (z clipped at ±`clip`, so a single
    spike cannot fire it) and the larger of them is the statistic: `k` is the slack, half the
    shift to detect, and `h` the decision level, both in those standard deviations. The score is
    `threshold_score(statistic, h)`: 0.5 when the statistic reaches `h`, 1.0 at about 1.5 `h`,
    where the sums are capped so they fall back quickly once the signal returns.

    The baseline does not learn while the statistic is above `h` / 2: a shift is evidence, not
    the new normal. If the statistic stays at or above `h` for `relearn_after` samples the shift
    is accepted: the baseline moves to the recent level (an EWMA of half-life `recent_halflife`)
    and the sums restart from 0, so one lasting shift is one episode, not an alarm forever.

    With the defaults (k 0.5, h 16) the in-control run length is over 10^7 samples per side and
    a 1 sd shift is caught in about 35 samples, a 2 sd shift in about 12. Half-lives, warmup and
    `relearn_after` are in samples.
    """

    name: ClassVar[str] = "cusum"
    kind: ClassVar[FindingKind] = FindingKind.DRIFT

    k: float = 0.5
    h: float = 16.0
    baseline_halflife: float = 3600.0
    warmup: int = 600
    clip: float = 4.0
    relearn_after: int = 600
    recent_halflife: float = 60.0
    min_relative_std: float = 0.001

    n: int = field(default=0, init=False)
    mean: float = field(default=0.0, init=False)
    var: float = field(default=0.0, init=False)
    lag_cov: float = field(default=0.0, init=False)
    """EWMA of the product of consecutive deviations from the mean (lag-1 autocovariance)."""
    last_deviation: float = field(default=0.0, init=False)
    recent: float = field(default=0.0, init=False)
    upper: float = field(default=0.0, init=False)
    lower: float = field(default=0.0, init=False)
    alarmed: int = field(default=0, init=False)
    """Consecutive samples with the statistic at or above `h`."""

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls()

    def _std(self) -> float:
        return max(math.sqrt(self.var), self.min_relative_std * abs(self.mean), 1e-12)

    def _z(self, value: float) -> float:
        rho = 0.0
        if self.var > 0.0:
            rho = min(max(self.lag_cov / self.var, 0.0), MAX_AUTOCORRELATION)
        z = (value - self.mean) / (self._std() * math.sqrt((1.0 + rho) / (1.0 - rho)))
        return min(max(z, -self.clip), self.clip)

    def _sums(self, value: float) -> tuple[float, float]:
        z = self._z(value)
        cap = 1.5 * self.h
        upper = min(max(self.upper + z - self.k, 0.0), cap)
        lower = min(max(self.lower - z - self.k, 0.0), cap)
        return upper, lower

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.n < self.warmup:
            return 0.0
        return threshold_score(max(self._sums(value)), self.h)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        self.n += 1
        if self.n == 1:
            self.mean = self.recent = value
            return
        self.recent += halflife_rate(self.recent_halflife) * (value - self.recent)
        deviation = value - self.mean
        if self.n > self.warmup:
            limit = self.clip * self._std()
            self.upper, self.lower = self._sums(value)
            statistic = max(self.upper, self.lower)
            self.alarmed = self.alarmed + 1 if statistic >= self.h else 0
            if self.alarmed >= self.relearn_after:
                self.mean = self.recent
                self.upper = self.lower = self.last_deviation = 0.0
                self.alarmed = 0
                return
            if statistic > 0.5 * self.h:
                self.last_deviation = 0.0
                return
            deviation = min(max(deviation, -limit), limit)
        rate = max(halflife_rate(self.baseline_halflife), 1.0 / self.n)
        self.mean += rate * deviation
        self.var = (1.0 - rate) * (self.var + rate * deviation * deviation)
        self.lag_cov += rate * (deviation * self.last_deviation - self.lag_cov)
        self.last_deviation = deviation

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        direction = "up" if self.upper >= self.lower else "down"
        return (
            f"{signal.name} has shifted {direction}: {self.recent:.4g}{unit} recently against a "
            f"baseline of {self.mean:.4g} ± {self._std():.2g}{unit} (CUSUM "
            f"{max(self.upper, self.lower):.1f} of {self.h:g} standard deviations)"
        )
