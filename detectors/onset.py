"""Onset: the first moment a signal stops behaving like itself, reported once per episode.

The best detectors of the Numenta Anomaly Benchmark share a shape: they judge each stream against
its own history (so one threshold fits signals of any scale), they alarm early in an anomaly, and
they stay quiet after it. `OnsetDetector` does that with three kinds of evidence, each a tail
probability against the stream's own past:

- prediction error: the anomaly likelihood of `detectors.likelihood` (the recent surprise of the
  better of a last-value-plus-daily-step and a level predictor, against its own history);
- value rarity: how far the recent values are from the stream's long-run level, in units of its
  long-run spread;
- volatility rarity: how large the recent sample-to-sample steps are, in the same units.

The rarity features are short EWMAs (`short_halflife`) whose cube roots are compared with their
own long-run mean and variance, learned from clipped values, as the likelihood does. The evidence
is the smallest of the three tail probabilities p, corrected for having looked three times
(Bonferroni); with E = -log10(3 p), the score is 0.5 * E / (E + `onset_log10`): 0.25 where E
reaches `onset_log10` (an onset), and on towards 0.5 without reaching it, so that stronger
evidence always ranks higher.

A score below the onset level is reported once per burst of evidence, at the burst's peak, as
the evidence turns down (one sample after the peak), and not on its way up: for any threshold
between a burst's first samples and its peak (NAB's, or a plant's), the burst is one detection, not
one per sample while the short averages build up. A burst that goes on to reach the onset level is
reported there as an onset. A burst below the onset level that follows a reported one is reported
only if its peak is higher than that one's, decayed with a half-life of `refractory` samples: the
aftermath of a burst (the evidence dips and rises again as the averages catch up) is not news.

After an onset the detector stays quiet (scores 0) for `refractory` samples, and then until the
evidence has fallen back to `off_threshold`: an episode is reported at its start, once, and its
persistence is left to `ewma_drift` and the limits. The quiet period adapts to how often the
stream itself is unusual: it learns (over `long_halflife`) its rate of surprises, samples whose
corrected tail probability is below 1 in 100 (`SURPRISE_LOG10`), and a stream that surprises k
times as often as that nominal rate stays quiet k times as long after an onset. A calibrated
stream keeps `refractory`; one that is often unusual (a spiky load, a busy server) needs its
surprises to be rare against its own rate before the next one is reported.

It judges only signals without limits (`for_signal`), and its findings are notices: they stay
below 0.5, the score an anomaly finding needs to open a work order
(`ticketing.suppression.FEEDBACK_BASE`), so on a plant they record where a signal first behaved
unusually without sending anyone out; a machine's starts and stops are unusual in exactly this
sense.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Self

from detectors.base import reject_non_finite
from detectors.ewma import halflife_rate
from detectors.likelihood import MIN_SPREAD, AnomalyLikelihood, _normalised, _upper_tail_log10
from devices import FindingKind, Signal

LOOKS = math.log10(3.0)
"""Bonferroni: the smallest of three tail probabilities, times three."""
SURPRISE_LOG10 = 2.0
"""-log10 of the corrected tail probability that counts as a surprise of the stream."""
SETTLE = 30
"""Samples the long-run level and spread settle for before values and steps are judged in
their units: the first few estimates depend on the signal's offset through the relative floor."""


@dataclass
class OnsetDetector(AnomalyLikelihood):
    """Scores the start of unusual behaviour of a signal, once per episode; see the module.

    The prediction-error parameters are the likelihood's; `value_halflife` (samples) sets the
    long-run level and spread that values and steps are judged against. No score before `warmup`
    samples.
    """

    name: ClassVar[str] = "onset"
    kind: ClassVar[FindingKind] = FindingKind.ANOMALY
    on_threshold: ClassVar[float] = 0.25
    off_threshold: ClassVar[float] = 0.1
    on_delay: ClassVar[float] = 0.0
    off_delay: ClassVar[float] = 0.0
    """An onset is one reading long: the detector is quiet right after it."""
    check_params: ClassVar[dict[str, object]] = {"warmup": 120, "refractory": 30}

    value_halflife: float = 2000.0
    onset_log10: float = 3.0
    """-log10 of the corrected tail probability that makes an onset."""
    refractory: int = 150
    """Samples of quiet after an onset in a stream that surprises at the nominal rate, and the
    least after any onset."""

    value_mean: float = field(default=0.0, init=False)
    value_var: float = field(default=0.0, init=False)
    deviation: float = field(default=0.0, init=False)
    """Recent average of |value - long-run level| / spread."""
    step: float = field(default=0.0, init=False)
    """Recent average of |step| / spread."""
    deviation_mean: float = field(default=0.0, init=False)
    deviation_var: float = field(default=0.0, init=False)
    step_mean: float = field(default=0.0, init=False)
    step_var: float = field(default=0.0, init=False)
    quiet: int = field(default=0, init=False)
    """Samples of quiet left."""
    armed: bool = field(default=True, init=False)
    """False from an onset until the evidence has fallen back after the refractory period."""
    burst_peak: float = field(default=0.0, init=False)
    """The highest score of the current burst of evidence below the onset level."""
    burst_reported: bool = field(default=False, init=False)
    notice: float = field(default=0.0, init=False)
    """The score of the last burst reported below the onset level, decaying with a half-life of
    `refractory` samples: a later burst is reported only if stronger."""
    surprise_rate: float = field(default=10.0**-SURPRISE_LOG10, init=False)
    """The stream's recent fraction of samples with evidence of at least `SURPRISE_LOG10`."""

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        """Only a signal without limits: where an engineer set limits, they (and `ewma_drift`)
        say what is abnormal; where nobody did (a bare recording), the onset of unusual
        behaviour is the judgement there is. The twin of `limits`, which needs them."""
        limits = signal.limits
        bounds = (limits.warn_high, limits.alarm_high, limits.warn_low, limits.alarm_low)
        if any(bound is not None for bound in bounds):
            return None
        return cls(sample_period=signal.sample_period)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.quiet > 0 or not self.armed:
            return 0.0
        score = self._score(value, ts)
        if score >= self.on_threshold:
            return score
        turned_down = not self.burst_reported and score < self.burst_peak
        return self.burst_peak if turned_down and self.burst_peak > self.notice else 0.0

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        if self.n >= self.warmup:
            evidence = self._evidence(value, ts)
            surprise = 1.0 if evidence >= SURPRISE_LOG10 else 0.0
            self.surprise_rate += halflife_rate(self.long_halflife) * (
                surprise - self.surprise_rate
            )
            score = self._as_score(evidence)
            if self.quiet > 0:
                self.quiet -= 1
            elif not self.armed:
                self.armed = score <= self.off_threshold
            elif score >= self.on_threshold:
                self.quiet, self.armed = self.quiet_after_onset(), False
                self.burst_peak, self.burst_reported = 0.0, False
            else:
                self._follow_burst(score)
            self.notice *= 0.5 ** (1.0 / self.refractory)
        if self.n == 0:
            self.value_mean = value
        else:
            if self.n >= SETTLE:
                self.deviation, self.step = self._features(value)
                self.deviation_mean, self.deviation_var = self._learn_feature(
                    self.deviation, self.deviation_mean, self.deviation_var
                )
                self.step_mean, self.step_var = self._learn_feature(
                    self.step, self.step_mean, self.step_var
                )
            spread = self._spread()
            change = value - self.value_mean
            if self.n > self.warmup:
                change = max(-self.clip * spread, min(change, self.clip * spread))
            rate = max(halflife_rate(self.value_halflife), 1.0 / self.n)
            self.value_mean += rate * change
            self.value_var = (1.0 - rate) * (self.value_var + rate * change**2)
        super().learn_one(value, ts)

    def _follow_burst(self, score: float) -> None:
        """A score below the onset level, armed: the current burst's peak, reported (by
        `score_one`) as the evidence turns down; the burst ends where the evidence is back at
        `off_threshold`."""
        if not self.burst_reported and score < self.burst_peak:
            self.burst_reported = True
            self.notice = max(self.notice, self.burst_peak)
        if score <= self.off_threshold:
            self.burst_peak, self.burst_reported = 0.0, False
        elif not self.burst_reported:
            self.burst_peak = score

    def quiet_after_onset(self) -> int:
        """Samples of quiet after an onset now: `refractory`, times how many times the nominal
        rate the stream has lately been surprising (at least once)."""
        excess: float = self.surprise_rate / 10.0**-SURPRISE_LOG10
        return math.ceil(self.refractory * max(excess, 1.0))

    def _spread(self) -> float:
        floor = self.min_relative_scale * abs(self.value_mean)
        return max(math.sqrt(self.value_var), floor, 1e-12)

    def _features(self, value: float) -> tuple[float, float]:
        """The recent averages of deviation and step, with `value`."""
        spread = self._spread()
        rate = halflife_rate(self.short_halflife)
        deviation = self.deviation + rate * (abs(value - self.value_mean) / spread - self.deviation)
        step = self.step + rate * (abs(value - self.last) / spread - self.step)
        return deviation, step

    def _learn_feature(self, feature: float, mean: float, var: float) -> tuple[float, float]:
        x = _normalised(feature)
        if self.n > self.warmup:
            x = min(x, mean + self.clip * math.sqrt(var))
        rate = max(halflife_rate(self.long_halflife), 1.0 / (self.n - SETTLE + 1))
        change = x - mean
        return mean + rate * change, (1.0 - rate) * (var + rate * change**2)

    def _score(self, value: float, ts: float) -> float:
        """The score of `value`'s evidence, whether or not the detector is quiet."""
        if self.n < self.warmup:
            return 0.0
        return self._as_score(self._evidence(value, ts))

    def _as_score(self, evidence: float) -> float:
        return 0.5 * evidence / (evidence + self.onset_log10)

    def _evidence(self, value: float, ts: float) -> float:
        """-log10 of the smallest tail probability of `value`'s features, corrected for three
        looks (0 when none is below 1 in 3)."""
        deviation, step = self._features(value)
        log10_p = max(
            _upper_tail_log10(self._z(self._average(value, ts))),
            _upper_tail_log10(_rarity(deviation, self.deviation_mean, self.deviation_var)),
            _upper_tail_log10(_rarity(step, self.step_mean, self.step_var)),
        )
        return max(log10_p - LOOKS, 0.0)

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        evidence = self.onset_log10 * score / max(0.5 - score, 1e-12)
        return (
            f"{signal.name} started behaving unusually: {value:.4g}{unit} against a long-run "
            f"level of {self.value_mean:.4g}{unit} (spread {self._spread():.3g}{unit}); its "
            "recent values, steps or prediction errors are the most surprising in about "
            f"1 in {10.0 ** min(evidence, 15.0):,.0f} (score {score:.2f})"
        )


def _rarity(feature: float, mean: float, var: float) -> float:
    return (_normalised(feature) - mean) / max(math.sqrt(var), MIN_SPREAD)
