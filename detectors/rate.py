"""Rate of change: a value that moves faster than the signal ever normally moves."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite
from detectors.ewma import halflife_rate
from detectors.surprise import threshold_score
from devices import FindingKind, Signal


@dataclass
class RateOfChange(Detector):
    """Catches steps and run-aways: the signal changing faster than it normally does.

    The rate is an EWMA (half-life `halflife` samples) of the change per second between
    consecutive samples, so irregular sampling is handled and the unit is the signal's per second.
    It is standardised by its typical magnitude: the root mean square of that smoothed rate,
    learned slowly (`variance_halflife`) and not at all from rates beyond `clip` typical
    magnitudes, so a run-away does not teach the detector that running away is normal. A step of
    s standard deviations of the signal's noise scores about like a z of s; a ramp is caught once
    its slope stays above `threshold` typical rates. A relative floor (as if the signal had at
    least `min_relative_std` of its level as white noise) keeps a very smooth signal quiet.

    A sample with a timestamp not after the previous one carries no rate and is ignored.
    Half-lives and warmup are in samples (defaults: 10 s / 1 h / 10 min of a 1 s signal).
    """

    name: ClassVar[str] = "rate_of_change"
    kind: ClassVar[FindingKind] = FindingKind.DRIFT

    halflife: float = 10.0
    variance_halflife: float = 3600.0
    warmup: int = 600
    threshold: float = 6.0
    clip: float = 4.0
    min_relative_std: float = 0.001

    n: int = field(default=0, init=False)
    last_value: float = field(default=0.0, init=False)
    last_ts: float = field(default=0.0, init=False)
    rate: float = field(default=0.0, init=False)
    """Smoothed change per second."""
    rate_var: float = field(default=0.0, init=False)
    """Mean square of `rate`: its typical magnitude, squared."""
    interval: float = field(default=0.0, init=False)
    """Mean seconds between samples (for the floor)."""

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls()

    def _rate_with(self, value: float, ts: float) -> float:
        """The smoothed rate once (value, ts) is learned; the first difference starts it."""
        dt = ts - self.last_ts
        if self.n == 1:
            return (value - self.last_value) / dt
        return self.rate + halflife_rate(self.halflife) * (
            (value - self.last_value) / dt - self.rate
        )

    def _std(self) -> float:
        floor = (
            self.min_relative_std
            * abs(self.last_value)
            * halflife_rate(self.halflife)
            / self.interval
        )
        return max(math.sqrt(self.rate_var), floor, 1e-12)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        reject_non_finite(self, ts)
        if self.n < max(self.warmup, 2) or ts <= self.last_ts:
            return 0.0
        return threshold_score(self._rate_with(value, ts) / self._std(), self.threshold)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        reject_non_finite(self, ts)
        if self.n:
            if ts <= self.last_ts:
                return
            dt = ts - self.last_ts
            self.rate = self._rate_with(value, ts)
            slow = max(halflife_rate(self.variance_halflife), 1.0 / self.n)
            self.interval += slow * (dt - self.interval)
            square = self.rate * self.rate
            if self.n < self.warmup or square <= self.clip * self.clip * self.rate_var:
                self.rate_var += slow * (square - self.rate_var)
        self.n += 1
        self.last_value = value
        self.last_ts = ts

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        direction = "rising" if self.rate >= 0 else "falling"
        per, scale = _time_unit(abs(self.rate))
        return (
            f"{signal.name} {direction} fast: {self.rate * scale:+.3g}{unit} per {per}, against a "
            f"typical ±{math.sqrt(self.rate_var) * scale:.2g}{unit} per {per} "
            f"(now {value:.4g}{unit})"
        )


def _time_unit(rate_per_second: float) -> tuple[str, float]:
    """The time unit in which a rate reads as a number of at least about 1."""
    for per, scale in (("second", 1.0), ("minute", 60.0), ("hour", 3600.0)):
        if rate_per_second * scale >= 1.0:
            return per, scale
    return "day", 86400.0
