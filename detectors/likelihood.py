"""Anomaly likelihood: how unusual the recent prediction errors are, against their own history.

Two layers, after Numenta's anomaly likelihood. The first predicts each value from what came
before and turns the error into a raw surprise. The second asks how unlikely the recent average
of raw surprise is given the distribution of that average so far. The score therefore spikes when
a signal starts to behave differently (a jump, a burst of noise, a broken rhythm) and decays as
the predictors and the distribution adapt to the new behaviour: it flags the onset of a change,
not its persistence (`ewma_drift` and `limits` watch persistence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite, surprise_score
from devices import FindingKind, Signal

DAY = 86_400.0
MAX_SCORE_LOG10 = 10.0
HALF_LOG10 = 5.0
"""A tail probability of 1e-5 scores 0.5, as in `base.surprise_score`."""
SQRT2 = math.sqrt(2.0)
MAE_TO_STD = math.sqrt(math.pi / 2.0)
"""The standard deviation of normal errors over their mean absolute value."""


def _alpha(halflife: float) -> float:
    return float(1.0 - 0.5 ** (1.0 / halflife))


def _upper_tail_log10(z: float) -> float:
    """-log10 of the one-sided normal tail probability of z (asymptotic beyond where erfc
    underflows)."""
    if z <= 0.0:
        return 0.0
    if z < 30.0:
        return -math.log10(0.5 * math.erfc(z / SQRT2))
    return (z * z / 2.0 + math.log(z * math.sqrt(2.0 * math.pi))) / math.log(10.0)


def _score(log10_p: float) -> float:
    """-log10(p) / 10 up to 0.5 (p = 1e-5), then on towards 1 without reaching it, so that
    stronger evidence always scores higher (no ties at the top)."""
    if log10_p <= HALF_LOG10:
        return log10_p / MAX_SCORE_LOG10
    return 1.0 - 0.5 * math.exp(-(log10_p - HALF_LOG10) / HALF_LOG10)


@dataclass
class AnomalyLikelihood(Detector):
    """Scores the onset of unusual behaviour of any signal, learned online with no limits.

    Predictors (half-lives in samples): the last value, and an EWMA of `level_halflife`. Each
    predictor's error is divided by its typical size (an EWMA of absolute errors over
    `scale_halflife`, learning each error clipped at `clip` times the typical size, so one
    outlier barely moves it); the raw surprise is the smallest of these, so a value is surprising
    only if no predictor expected it. A relative floor on the typical size keeps a very smooth or
    quantised signal from scoring tiny changes.

    The raw surprise is averaged over `short_halflife`, and that average is compared with its own
    mean and variance over `long_halflife` (learned from averages clipped at `clip` standard
    deviations, so an anomaly does not teach the detector to expect anomalies). The one-sided
    normal tail probability p of the average gives the score -log10(p) / 10. No score before
    `warmup` samples.
    """

    name: ClassVar[str] = "likelihood"
    kind: ClassVar[FindingKind] = FindingKind.ANOMALY
    on_threshold: ClassVar[float] = 0.5
    off_threshold: ClassVar[float] = 0.2
    off_delay: ClassVar[float] = 600.0

    level_halflife: float = 8.0
    scale_halflife: float = 500.0
    short_halflife: float = 3.0
    long_halflife: float = 2000.0
    clip: float = 4.0
    bins: int = 48
    sample_period: float = 1.0
    profile_days: float = 7.0
    warmup: int = 240
    min_relative_scale: float = 1e-3

    n: int = field(default=0, init=False)
    last: float = field(default=0.0, init=False)
    level: float = field(default=0.0, init=False)
    last_scale: float = field(default=0.0, init=False)
    level_scale: float = field(default=0.0, init=False)
    short: float = field(default=0.0, init=False)
    mean: float = field(default=0.0, init=False)
    first_ts: float = field(default=0.0, init=False)
    last_ts: float = field(default=0.0, init=False)
    profile: list[float] = field(default_factory=list, init=False)
    counts: list[int] = field(default_factory=list, init=False)
    var: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls(sample_period=signal.sample_period)

    def _profile_at(self, ts: float) -> float:
        position = (ts % DAY) / DAY * self.bins - 0.5
        lower = math.floor(position)
        frac = position - lower
        return (1.0 - frac) * self.profile[lower % self.bins] + frac * self.profile[
            (lower + 1) % self.bins
        ]

    def _seasonal_step(self, ts: float) -> float:
        if self.n < 2 or self.last_ts - self.first_ts < 2 * DAY:
            return 0.0
        return self._profile_at(ts) - self._profile_at(self.last_ts)

    def _learn_profile(self, value: float, ts: float) -> None:
        k = int((ts % DAY) / DAY * self.bins) % self.bins
        per_day = max(1.0, DAY / self.bins / self.sample_period)
        self.counts[k] += 1
        rate = max(1.0 / self.counts[k], 1.0 / (per_day * self.profile_days))
        self.profile[k] += rate * (value - self.profile[k])

    def _floor(self) -> float:
        return max(self.min_relative_scale * abs(self.level), 1e-12)

    def _raw(self, value: float, ts: float) -> float:
        floor = self._floor()
        z1 = MAE_TO_STD * abs(value - self.last - self._seasonal_step(ts)) / max(self.last_scale, floor)
        z2 = MAE_TO_STD * abs(value - self.level) / max(self.level_scale, floor)
        return surprise_score(min(z1, z2))

    def _short(self, value: float, ts: float) -> float:
        return self.short + _alpha(self.short_halflife) * (self._raw(value, ts) - self.short)

    def _z(self, short: float) -> float:
        std = max(math.sqrt(self.var), 1e-9)
        return (short - self.mean) / std

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.n < self.warmup:
            return 0.0
        return _score(_upper_tail_log10(self._z(self._short(value, ts))))

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        self.n += 1
        if self.n == 1:
            self.last = self.level = value
            self.first_ts = self.last_ts = ts
            self.profile = [0.0] * self.bins
            self.counts = [0] * self.bins
            return
        short = self._short(value, ts)
        last_error = abs(value - self.last - self._seasonal_step(ts))
        self._learn_profile(value, ts)
        level_error = abs(value - self.level)
        scale_rate = max(_alpha(self.scale_halflife), 1.0 / (self.n - 1))
        if self.n > self.warmup:
            last_error = min(last_error, self.clip * self.last_scale)
            level_error = min(level_error, self.clip * self.level_scale)
        self.last_scale += scale_rate * (last_error - self.last_scale)
        self.level_scale += scale_rate * (level_error - self.level_scale)
        self.last = value
        self.last_ts = ts
        self.level += _alpha(self.level_halflife) * (value - self.level)
        self.short = short
        long_rate = max(_alpha(self.long_halflife), 1.0 / (self.n - 1))
        if self.n > self.warmup:
            short = min(short, self.mean + self.clip * math.sqrt(self.var))
        deviation = short - self.mean
        self.mean += long_rate * deviation
        self.var = (1.0 - long_rate) * (self.var + long_rate * deviation**2)

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        return (
            f"{signal.name} behaves unusually: {value:.4g}{unit} against an expected "
            f"{self.level:.4g}{unit}, recent prediction errors {self.short:.1f} times their "
            f"typical size (usually {self.mean:.1f})"
        )
