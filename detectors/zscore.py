"""EWMA z-score: a value far from the signal's recent level, judged by its recent spread."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite
from detectors.ewma import halflife_rate
from detectors.surprise import threshold_score
from devices import FindingKind, Signal


@dataclass
class EwmaZScore(Detector):
    """Catches single values or short bursts far outside how the signal has recently behaved.

    An EWMA mean and variance of the value are the reference; the score is the z of the new value
    against them, 0.5 at `threshold` standard deviations (a per-sample test, so its onset is far
    rarer than `surprise_score`'s 1 in 100,000: 6 sd is about 2 in a billion on Gaussian noise).

    After `warmup` samples a departure is learned only up to `clip` standard deviations
    (winsorised), so an outlier barely moves the reference, while a lasting change of level is
    still absorbed within a few half-lives and the condition clears. A relative floor on the
    standard deviation keeps a very smooth or quantised signal from alarming on tiny, harmless
    changes.

    Half-life and warmup are in samples: the defaults are 10 minutes / 5 minutes of a 1 s signal,
    or 2 days / 1 day of a 5-minute one.
    """

    name: ClassVar[str] = "zscore"
    kind: ClassVar[FindingKind] = FindingKind.DRIFT

    halflife: float = 600.0
    warmup: int = 300
    threshold: float = 6.0
    clip: float = 4.0
    min_relative_std: float = 0.001

    n: int = field(default=0, init=False)
    mean: float = field(default=0.0, init=False)
    var: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls()

    def _std(self) -> float:
        return max(math.sqrt(self.var), self.min_relative_std * abs(self.mean), 1e-12)

    def z(self, value: float) -> float:
        """Standard deviations of `value` from the learned mean."""
        return (value - self.mean) / self._std()

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.n < self.warmup:
            return 0.0
        return threshold_score(self.z(value), self.threshold)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        self.n += 1
        if self.n == 1:
            self.mean = value
            self.var = 0.0
            return
        rate = max(halflife_rate(self.halflife), 1.0 / self.n)
        deviation = value - self.mean
        if self.n > self.warmup:
            limit = self.clip * self._std()
            deviation = min(max(deviation, -limit), limit)
        self.mean += rate * deviation
        self.var = (1.0 - rate) * (self.var + rate * deviation * deviation)

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        return (
            f"{signal.name} {value:.4g}{unit} is far from its recent level of "
            f"{self.mean:.4g} ± {math.sqrt(self.var):.2g}{unit} (z {self.z(value):+.1f})"
        )
