"""EWMA drift: a fast average pulling away from a slow baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite, surprise_score
from detectors.ewma import halflife_rate
from devices import FindingKind, Signal


@dataclass
class EwmaDrift(Detector):
    """Catches slow drifts (wear, fouling, loss of performance) before any limit is reached.

    A fast EWMA of the signal is compared with a slow EWMA baseline. The spread between them is
    standardised by its own learned variability, so autocorrelated signals (load swings, thermal
    lag) are judged against how they normally move, not against white noise. That variability is
    learned `variance_lag` times slower than the baseline and not at all from spreads beyond `clip`
    standard deviations, so a developing fault does not teach the detector that it is normal; once
    the baseline has caught up with a genuine change of level, the condition clears. A relative
    floor on the standard deviation keeps a very smooth signal from alarming on tiny, harmless
    changes.

    Half-lives are in samples. No score before `warmup` samples.
    """

    name: ClassVar[str] = "ewma_drift"
    kind: ClassVar[FindingKind] = FindingKind.DRIFT

    fast_halflife: float = 30.0
    slow_halflife: float = 1800.0
    variance_lag: float = 4.0
    warmup: int = 3600
    clip: float = 3.0
    min_relative_std: float = 0.005

    n: int = field(default=0, init=False)
    fast: float = field(default=0.0, init=False)
    slow: float = field(default=0.0, init=False)
    spread_var: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls()

    def _z(self, value: float) -> float:
        fast = (
            self.fast + halflife_rate(self.fast_halflife) * (value - self.fast) if self.n else value
        )
        floor = self.min_relative_std * abs(self.slow)
        std = max(math.sqrt(self.spread_var), floor, 1e-12)
        return (fast - self.slow) / std

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.n < self.warmup:
            return 0.0
        return surprise_score(self._z(value))

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        self.n += 1
        if self.n == 1:
            self.fast = self.slow = value
            return
        self.fast += halflife_rate(self.fast_halflife) * (value - self.fast)
        # Until the half-life is reached, the baseline is a plain running mean.
        self.slow += max(halflife_rate(self.slow_halflife), 1.0 / self.n) * (value - self.slow)
        spread_sq = (self.fast - self.slow) ** 2
        if self.n > self.warmup and spread_sq > self.clip**2 * self.spread_var:
            return  # a departure is evidence of a fault, not of how much the signal moves
        rate = max(halflife_rate(self.slow_halflife * self.variance_lag), 1.0 / self.n)
        self.spread_var += rate * (spread_sq - self.spread_var)

    def end_warmup(self) -> None:
        """Judge once the spread's variability rests on some 30 independent spreads: about 30
        memories of the fast EWMA (`fast_halflife / ln 2` samples each), or now if more were seen.
        """
        needed = math.ceil(30 * self.fast_halflife / math.log(2.0))
        self.warmup = min(self.warmup, max(self.n, needed))

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        direction = "up" if self.fast >= self.slow else "down"
        return (
            f"{signal.name} drifting {direction}: {self.fast:.4g}{unit} recently against a "
            f"baseline of {self.slow:.4g}{unit} (z {self._z(self.fast):+.1f})"
        )
