"""Anomaly likelihood: how unusual the recent prediction errors are, against their own history.

Two layers, after Numenta's anomaly likelihood. The first predicts each value from what came
before and turns the error into a raw surprise. The second asks how unlikely the recent average
of raw surprise is, given the distribution of that average so far. The score therefore spikes when
a signal starts to behave differently (a jump, a burst of noise, a broken daily rhythm) and decays
as the predictors and the distribution adapt to the new behaviour: it flags the onset of a change,
not its persistence (`ewma_drift` and `limits` watch persistence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite, surprise_score
from detectors.ewma import halflife_rate
from devices import FindingKind, Signal

DAY = 86_400.0
HALF_LOG10 = 5.0
"""-log10 of the tail probability that scores 0.5, as in `base.surprise_score`."""
MIN_SPREAD = 0.05
"""Floor on the standard deviation of the normalised average: about what white noise gives, so
that a signal predicted perfectly so far (constant, or a clean ramp) does not score its first
tiny error as a certainty."""
MAE_TO_STD = math.sqrt(math.pi / 2.0)
"""The standard deviation of normal errors over their mean absolute value."""


def _upper_tail_log10(z: float) -> float:
    """-log10 of the one-sided normal tail probability of z (asymptotic where erfc underflows)."""
    if z <= 0.0:
        return 0.0
    if z < 30.0:
        return -math.log10(0.5 * math.erfc(z / math.sqrt(2.0)))
    return (z * z / 2.0 + math.log(z * math.sqrt(2.0 * math.pi))) / math.log(10.0)


def _score(log10_p: float) -> float:
    """-log10(p) / 10 up to 0.5 (p = 1e-5), then on towards 1 without reaching it, so that stronger
    evidence always scores higher: no ties at the top, where a threshold must separate events."""
    if log10_p <= HALF_LOG10:
        return log10_p / (2.0 * HALF_LOG10)
    return 1.0 - 0.5 * math.exp(-(log10_p - HALF_LOG10) / HALF_LOG10)


def _normalised(average: float) -> float:
    """Averages of -log p surprises are gamma-like, skewed right; their cube root is close to
    normal (Wilson-Hilferty), so a normal tail probability is calibrated on it."""
    return float(average ** (1.0 / 3.0))


@dataclass
class AnomalyLikelihood(Detector):
    """Scores the onset of unusual behaviour of any signal, learned online, with no limits.

    Two predictors (half-lives in samples): the last value plus the typical change at this time
    of day (a daily profile of `bins` bins, each an average over about `profile_days` days, used
    once two days were seen), and an EWMA level of `level_halflife`. Each predictor's typical
    error is an EWMA of its absolute errors over `scale_halflife`, learning each error clipped at
    `clip` times the typical size, so that outliers barely move it. The raw surprise of a value is
    `surprise_score` of the error of the predictor that is usually the more accurate (a random
    walk follows its last value, a noisy steady signal its level), standardised by its typical
    size. A relative floor on the typical size keeps a very smooth or quantised signal from
    scoring tiny changes.

    The raw surprise is averaged over `short_halflife`, and that average (through a cube root,
    which makes it close to normal) is compared with its own mean and variance over
    `long_halflife`, learned from values clipped at `clip` standard deviations so that an anomaly
    does not teach the detector to expect anomalies. Its one-sided normal tail probability p
    gives the score: -log10(p) / 10 up to 0.5, and on towards 1 beyond. No score before `warmup`
    samples.
    """

    name: ClassVar[str] = "likelihood"
    kind: ClassVar[FindingKind] = FindingKind.ANOMALY
    on_threshold: ClassVar[float] = 0.5
    on_delay: ClassVar[float] = 3.0
    """A surprise must last: a lone outlier is for the sensor checks, not an anomaly episode."""

    level_halflife: float = 8.0
    scale_halflife: float = 500.0
    short_halflife: float = 3.0
    long_halflife: float = 2000.0
    clip: float = 4.0
    bins: int = 48
    profile_days: float = 7.0
    sample_period: float = 1.0
    """Seconds between samples: how many samples a day brings to each bin of the profile."""
    warmup: int = 240
    min_relative_scale: float = 1e-3

    n: int = field(default=0, init=False)
    first_ts: float = field(default=0.0, init=False)
    last_ts: float = field(default=0.0, init=False)
    last: float = field(default=0.0, init=False)
    level: float = field(default=0.0, init=False)
    last_scale: float = field(default=0.0, init=False)
    level_scale: float = field(default=0.0, init=False)
    profile: list[float] = field(default_factory=list, init=False)
    counts: list[int] = field(default_factory=list, init=False)
    average: float = field(default=0.0, init=False)
    """The recent average of raw surprise."""
    mean: float = field(default=0.0, init=False)
    var: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls(sample_period=signal.sample_period)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.n < self.warmup:
            return 0.0
        return _score(_upper_tail_log10(self._z(self._average(value, ts))))

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        self.n += 1
        if self.n == 1:
            self.last = self.level = value
            self.first_ts = self.last_ts = ts
            self.profile = [0.0] * self.bins
            self.counts = [0] * self.bins
            self._learn_profile(value, ts)
            return
        average = self._average(value, ts)
        last_error = abs(value - self.last - self._daily_step(ts))
        level_error = abs(value - self.level)
        if self.n > self.warmup:
            last_error = min(last_error, self.clip * self.last_scale)
            level_error = min(level_error, self.clip * self.level_scale)
        rate = max(halflife_rate(self.scale_halflife), 1.0 / (self.n - 1))
        self.last_scale += rate * (last_error - self.last_scale)
        self.level_scale += rate * (level_error - self.level_scale)
        self._learn_profile(value, ts)
        self.last, self.last_ts = value, ts
        self.level += halflife_rate(self.level_halflife) * (value - self.level)
        self.average = average
        normalised = _normalised(average)
        if self.n > self.warmup:
            normalised = min(normalised, self.mean + self.clip * math.sqrt(self.var))
        rate = max(halflife_rate(self.long_halflife), 1.0 / (self.n - 1))
        deviation = normalised - self.mean
        self.mean += rate * deviation
        self.var = (1.0 - rate) * (self.var + rate * deviation**2)

    def _average(self, value: float, ts: float) -> float:
        return self.average + halflife_rate(self.short_halflife) * (
            self._raw(value, ts) - self.average
        )

    def _raw(self, value: float, ts: float) -> float:
        floor = max(self.min_relative_scale * abs(self.level), 1e-12)
        if self.last_scale <= self.level_scale:
            error, scale = value - self.last - self._daily_step(ts), self.last_scale
        else:
            error, scale = value - self.level, self.level_scale
        return surprise_score(MAE_TO_STD * error / max(scale, floor))

    def _z(self, average: float) -> float:
        return (_normalised(average) - self.mean) / max(math.sqrt(self.var), MIN_SPREAD)

    def _bin(self, ts: float) -> int:
        return int((ts % DAY) / DAY * self.bins) % self.bins

    def _learn_profile(self, value: float, ts: float) -> None:
        k = self._bin(ts)
        per_day = max(1.0, DAY / self.bins / self.sample_period)
        self.counts[k] += 1
        self.profile[k] += max(1.0 / self.counts[k], 1.0 / (per_day * self.profile_days)) * (
            value - self.profile[k]
        )

    def _daily_step(self, ts: float) -> float:
        """The typical change from the last sample's time of day to `ts`'s (0 until two days)."""
        if self.last_ts - self.first_ts < 2.0 * DAY:
            return 0.0
        return self._profile_at(ts) - self._profile_at(self.last_ts)

    def _profile_at(self, ts: float) -> float:
        """The profile interpolated between the centres of the visited bins around `ts`."""
        position = (ts % DAY) / DAY * self.bins - 0.5
        lower = math.floor(position)
        below, above = lower % self.bins, (lower + 1) % self.bins
        if not self.counts[below]:
            return self.profile[above]
        if not self.counts[above]:
            return self.profile[below]
        fraction = position - lower
        return (1.0 - fraction) * self.profile[below] + fraction * self.profile[above]

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        return (
            f"{signal.name} behaves unusually: {value:.4g}{unit} against a recent level of "
            f"{self.level:.4g}{unit}; its recent prediction errors are the most surprising in "
            f"about {_odds(score)} (score {score:.2f})"
        )


def _odds(score: float) -> str:
    """The tail probability behind `score`, as '1 in N' for a person."""
    if score <= 0.5:
        log10_p = score * 2.0 * HALF_LOG10
    else:
        log10_p = HALF_LOG10 - HALF_LOG10 * math.log(max(2.0 * (1.0 - score), 1e-300))
    return f"1 in {10.0 ** min(log10_p, 15.0):,.0f}"
