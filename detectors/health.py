"""Sensor health: the measurement is broken, not the machine.

Five faults a maintenance team should hear about from instrumentation rather than as a machine
problem: a sensor that went silent (`StaleSensor`), one whose value froze (`Flatline`), one that
got much noisier (`Noise`), one that throws isolated spikes (`Spikes`), and one that reads what
no sensor of its kind can read (`PhysicalRange`). Each scores in the contract's [0, 1] scale
with 0.5 where the finding starts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from detectors.base import Detector, reject_non_finite
from detectors.ewma import halflife_rate
from devices import FindingKind, Signal


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def _unit(signal: Signal) -> str:
    return f" {signal.unit}" if signal.unit else ""


def _duration(seconds: float) -> str:
    if seconds < 120.0:
        return f"{seconds:.0f} s"
    if seconds < 7200.0:
        return f"{seconds / 60.0:.0f} min"
    return f"{seconds / 3600.0:.1f} h"


@dataclass
class StaleSensor(Detector):
    """A signal that stopped reporting: silence well beyond its expected sample period.

    The allowed silence is `factor` times the longer of the plant file's sample period and the gap
    the source is learned to actually report at (sources that report by exception, behind an OPC
    UA deadband, send less often than they sample), and never less than `floor` seconds. Gaps
    longer than allowed are outages, not how the source reports, so they are not learned.

    A source may also deliver late: a gateway that sends five minutes of samples per message, or
    a stream judged against other machines' newer data. So each judgment of silence is noted
    (`score_silence`), and when the stream's data next arrives the silence it had reached is how
    late this source normally is: its running mean, `lateness`, counts `lateness_factor` times
    into the allowed silence. A silence is learned clipped at twice the allowed silence, so an
    outage moves the mean little while a source that starts batching more is followed. Until its
    data has come back once, what arrived so far counts as one delivery, its span as the
    lateness (clipped alike): a first message of five minutes of samples says the next may be
    minutes away.

    Scored through `score_silence`: 0.5 at the allowed silence, 1.0 at twice it; a reading
    scores 0.
    """

    name: ClassVar[str] = "stale"
    kind: ClassVar[FindingKind] = FindingKind.SENSOR
    off_delay: ClassVar[float] = 60.0
    """Data flowing again for a minute clears it; a link that keeps dropping stays one episode."""

    sample_period: float = 1.0
    factor: float = 10.0
    floor: float = 60.0
    gap_halflife: float = 100.0
    """In gaps."""
    lateness_factor: float = 3.0
    lateness_halflife: float = 100.0
    """In deliveries (readings after a judgment of silence)."""

    gaps: int = field(default=0, init=False)
    last_ts: float | None = field(default=None, init=False)
    typical_gap: float = field(default=0.0, init=False)
    first_ts: float | None = field(default=None, init=False)
    deliveries: int = field(default=0, init=False)
    lateness: float = field(default=0.0, init=False)
    judged_at: float | None = field(default=None, init=False)
    """Source time of the latest judgment of silence since the last reading."""

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls(sample_period=signal.sample_period)

    def allowed_silence(self) -> float:
        return max(self._gap_silence(), self.lateness_factor * self._lateness())

    def _gap_silence(self) -> float:
        return max(self.factor * max(self.sample_period, self.typical_gap), self.floor)

    def _lateness(self) -> float:
        if self.deliveries or self.last_ts is None or self.first_ts is None:
            return self.lateness
        return min(self.last_ts - self.first_ts, 2.0 * self._gap_silence())

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        return 0.0

    def score_silence(self, now: float) -> float:
        """The silence score at `now`, noting the judgment (see the class)."""
        if self.last_ts is None:
            return 0.0
        if now >= self.last_ts and (self.judged_at is None or now > self.judged_at):
            self.judged_at = now
        silence = now - self.last_ts
        return max(0.0, min(1.0, 0.5 * silence / self.allowed_silence()))

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        if self.last_ts is not None:
            allowed = self.allowed_silence()
            gap = ts - self.last_ts
            if 0.0 < gap <= allowed:
                self.gaps += 1
                rate = max(halflife_rate(self.gap_halflife), 1.0 / self.gaps)
                self.typical_gap += rate * (gap - self.typical_gap)
            if self.judged_at is not None:
                late = min(self.judged_at - self.last_ts, 2.0 * allowed)
                self.deliveries += 1
                rate = max(halflife_rate(self.lateness_halflife), 1.0 / self.deliveries)
                self.lateness += rate * (late - self.lateness)
        else:
            self.first_ts = ts
        self.judged_at = None
        self.last_ts = ts

    def describe(self, signal: Signal, value: float, score: float) -> str:
        silence = _duration(2.0 * min(score, 1.0) * self.allowed_silence())
        how_long = f"over {silence}" if score >= 1.0 else f"about {silence}"
        expected = max(self.sample_period, self.typical_gap)
        lateness = self._lateness()
        late = f", its data arriving {_duration(lateness)} late" if lateness > expected else ""
        return (
            f"{signal.name} has sent nothing for {how_long} (it reports every "
            f"{expected:.3g} s{late}): check the transmitter's power and cable, the gateway or "
            f"PLC that publishes it, and the network link"
        )


@dataclass
class Flatline(Detector):
    """A stuck sensor: the value stays identical while the signal normally moves.

    A value counts as the same as the run's first one when within `tolerance` times the signal's
    typical sample-to-sample movement of it (a frozen register repeats exactly; a frozen analog
    input may still dither in its last digits). How often a value repeats is learned (a Beta(1, 1)
    prior on the share of repeats, slowly forgotten), so a run of n repeats has a probability of
    about q**n under what was learned: a moving signal (q near 0) alarms after a short run, while
    a setpoint or a signal that often holds still (q near 1) never does. The surprise, -log10 of
    that probability, is scored like `surprise_score` (0.5 at 1e-5). Repeats are not learned once
    a run is already surprising, so a stuck sensor does not teach the detector that stuck is
    normal.

    A run must last `min_samples` samples and `min_duration` seconds to score at all. A value stuck
    at exactly zero is ignored with `zero_is_rest` (a stopped machine, a low-flow cut-off: a hung
    transmitter freezes at its last live value instead).
    """

    name: ClassVar[str] = "flatline"
    kind: ClassVar[FindingKind] = FindingKind.SENSOR
    off_delay: ClassVar[float] = 60.0

    min_samples: int = 30
    min_duration: float = 300.0
    tolerance: float = 0.01
    warmup: int = 600
    memory: float = 100_000.0
    """Half-life, in samples, of the learned repeat counts."""
    learn_below: float = 3.0
    """Surprise (-log10 p) of a run beyond which its repeats are not learned."""
    zero_is_rest: bool = True

    n: int = field(default=0, init=False)
    anchor: float | None = field(default=None, init=False)
    run: int = field(default=0, init=False)
    run_start: float = field(default=0.0, init=False)
    previous: float = field(default=0.0, init=False)
    movement: float = field(default=0.0, init=False)
    moving_steps: int = field(default=0, init=False)
    repeats: float = field(default=0.0, init=False)
    moves: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls(min_duration=max(300.0, 30 * signal.sample_period))

    def _same(self, value: float) -> bool:
        return (
            self.anchor is not None and abs(value - self.anchor) <= self.tolerance * self.movement
        )

    def _surprise(self, run: int) -> float:
        """-log10 of the chance of `run` samples in a row holding the same value."""
        q = (self.repeats + 1.0) / (self.repeats + self.moves + 2.0)
        return (run - 1) * -math.log10(q)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if self.n < self.warmup or not self._same(value):
            return 0.0
        if self.zero_is_rest and self.anchor == 0.0:
            return 0.0
        run = self.run + 1
        if run < self.min_samples or ts - self.run_start < self.min_duration:
            return 0.0
        return min(1.0, self._surprise(run) / 10.0)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        self.n += 1
        if self.anchor is None:
            self.anchor, self.run, self.run_start, self.previous = value, 1, ts, value
            return
        same = self._same(value)
        step = abs(value - self.previous)
        self.previous = value
        if step > 0.0 and not same:
            self.moving_steps += 1
            rate = max(halflife_rate(1000.0), 1.0 / self.moving_steps)
            self.movement += rate * (step - self.movement)
        forget = 0.5 ** (1.0 / self.memory)
        self.repeats *= forget
        self.moves *= forget
        if same:
            if self.n <= self.warmup or self._surprise(self.run + 1) < self.learn_below:
                self.repeats += 1.0
            self.run += 1
            return
        self.moves += 1.0
        self.anchor, self.run, self.run_start = value, 1, ts

    def describe(self, signal: Signal, value: float, score: float) -> str:
        anchor = value if self.anchor is None else self.anchor
        unit = _unit(signal)
        return (
            f"{signal.name} has read {anchor:.6g}{unit} for {self.run} samples in a row while it "
            f"normally moves by about {self.movement:.3g}{unit} per sample: the sensor looks "
            f"stuck; check whether the transmitter, its driver or the PLC register is frozen"
        )


def noise_factors(
    window: float, rise: float, memory: float, sample_period: float
) -> tuple[float, float, float, float]:
    """`Noise`'s multipliers per sample: the scale's step up and down, the reference's rise
    and fall (computed once per stream, by the object and by its bank kernel alike)."""
    return (
        math.exp(1.0 / window),
        math.exp(-1.0 / window),
        math.exp(rise),
        0.5 ** (sample_period / memory),
    )


def next_scale(scale: float, movement: float, up: float, down: float) -> float:
    """One step of the running median of the movement, in proportion (see `Noise`)."""
    if movement > scale:
        return scale * up if scale > 0.0 else movement
    if 0.0 < movement < scale:
        return scale * down
    return scale


@dataclass
class Noise(Detector):
    """A sensor that got much noisier (a failing amplifier, a ground loop, a loose shield):
    the reading's high-frequency scale has risen well above the noisiest it normally is, and
    stays there.

    The movement of a reading is its second difference |x(t) - 2 x(t-1) + x(t-2)|: a steady
    ramp moves by nothing, noise of standard deviation s by about 1.65 s. Its scale is a running
    median of about the last `window` movements, learned in proportion (up by 1/`window` in log
    when a movement is larger, down as much when smaller; an exact zero, a signal at rest or
    repeating, is skipped): a start, a stop or a load step is a few large movements, which move
    a median by a few steps, while a noisier sensor makes every movement larger.

    The reference is the noisiest that scale normally is, in all the regimes the machine went
    through: the largest scale of the warm-up (`warmup` samples and `warmup_duration` seconds,
    a day by default, so a machine run in shifts is seen running and stopped; and, even after a
    named baseline, `BASELINE_WINDOWS` windows: about 30 independent medians), then an upper
    envelope that rises by `rise` in log per sample the scale is above it and halves over
    `memory` seconds of samples below it. The check is loud while the scale is at least
    `threshold` times the reference, and stays loud while its score stays above the off score;
    it scores 0.5 * ratio / `threshold` once loud for `min_samples` samples and `min_duration`
    seconds. Nothing is learned into the reference while loud, so a noisy sensor does not teach
    the check that noisy is normal. The reference is floored at `min_relative_scale` of the
    reading, so that a signal that holds still does not count its rounding as noise.
    """

    name: ClassVar[str] = "noise"
    kind: ClassVar[FindingKind] = FindingKind.SENSOR

    sample_period: float = 1.0
    window: int = 32
    threshold: float = 3.0
    rise: float = 0.001
    memory: float = 7 * 86400.0
    warmup: int = 1088
    """Samples, and never fewer than `BASELINE_WINDOWS` windows (34 x 32 by default)."""
    warmup_duration: float = 86400.0
    min_samples: int = 30
    min_duration: float = 300.0
    min_relative_scale: float = 1e-3

    n: int = field(default=0, init=False)
    first_ts: float = field(default=0.0, init=False)
    last: float = field(default=0.0, init=False)
    last_step: float = field(default=0.0, init=False)
    scale: float = field(default=0.0, init=False)
    reference: float = field(default=0.0, init=False)
    loud: int = field(default=0, init=False)
    """Samples in a row the check has been loud."""
    loud_since: float = field(default=0.0, init=False)

    check_params: ClassVar[Mapping[str, Any]] = {"warmup_duration": 600.0}
    BASELINE_WINDOWS: ClassVar[int] = 34

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls(
            sample_period=signal.sample_period,
            min_duration=max(300.0, 30 * signal.sample_period),
        )

    def settled(self) -> bool:
        """Has the scale seen enough movements to mean something?"""
        return self.n > 4 * self.window

    def least_samples(self) -> int:
        """Samples before judging, whatever the warm-up: the median settled (4 windows), then
        about 30 independent medians for the reference to be the noisiest of."""
        return self.BASELINE_WINDOWS * self.window

    def _judging(self, ts: float) -> bool:
        return (
            self.n >= self.warmup
            and self.n >= self.least_samples()
            and ts - self.first_ts >= self.warmup_duration
            and self.reference > 0.0
        )

    def _factors(self) -> tuple[float, float, float, float]:
        return noise_factors(self.window, self.rise, self.memory, self.sample_period)

    def _moved(self, value: float) -> float:
        up, down, _, _ = self._factors()
        return next_scale(self.scale, abs(value - self.last - self.last_step), up, down)

    def ratio(self, scale: float, value: float) -> float:
        """How many times the noisiest usual scale `scale` is, at reading `value`."""
        floor = max(self.reference, self.min_relative_scale * abs(value), 1e-12)
        return scale / floor

    def _loud(self, ratio: float) -> bool:
        if ratio >= self.threshold:
            return True
        return self.loud > 0 and 0.5 * ratio / self.threshold > self.off_threshold

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if not self._judging(ts):
            return 0.0
        ratio = self.ratio(self._moved(value), value)
        if not self._loud(ratio):
            return 0.0
        since = self.loud_since if self.loud else ts
        if self.loud + 1 < self.min_samples or ts - since < self.min_duration:
            return 0.0
        return min(1.0, 0.5 * ratio / self.threshold)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        judging = self._judging(ts)
        self.n += 1
        if self.n == 1:
            self.first_ts, self.last = ts, value
            return
        if self.n >= 3:
            self.scale = self._moved(value)
        self.last_step = value - self.last
        self.last = value
        if judging and self._loud(self.ratio(self.scale, value)):
            if not self.loud:
                self.loud_since = ts
            self.loud += 1
            return
        self.loud = 0
        if not self.settled():
            return
        if not judging:
            self.reference = max(self.reference, self.scale)
            return
        _, _, rise, fall = self._factors()
        self.reference *= rise if self.scale > self.reference else fall

    def end_warmup(self) -> None:
        super().end_warmup()
        self.warmup_duration = 0.0

    def describe(self, signal: Signal, value: float, score: float) -> str:
        ratio = self.ratio(self.scale, value)
        unit = _unit(signal)
        state = f"has been {ratio:.1f} times" if self.loud else f"is {ratio:.1f} times"
        how_long = f" for {self.loud} samples" if self.loud else ""
        return (
            f"{signal.name} {state} noisier than its usual noisiest{how_long} (it moves by "
            f"about {self.scale:.3g}{unit} from one sample to the next, usually at most "
            f"{self.reference:.3g}{unit}): check the sensor's wiring, "
            f"shielding and grounding, its amplifier or transmitter, and nearby electrical "
            f"noise (if the machine's other signals got unsteady at the same time, suspect the "
            f"process instead: cavitation, surge)"
        )


@dataclass
class Spikes(Detector):
    """A burst of isolated spikes: single readings far off that return at once (a loose
    connector, electrical noise), told apart from a change of level, which stays.

    Reading t-1 is a spike when it is `threshold` robust standard deviations away from the median
    of the `window` readings before it and reading t is back within `back` of that median; so a
    spike is confirmed one reading late. The robust scale is learned from the absolute residuals
    from that median, each capped at `cap` scales so spikes barely inflate it; the window's own
    median absolute deviation overrides it when larger, so a signal that just got noisier (a
    machine that started after standing still for hours) is not full of spikes while the learned
    scale catches up. The scale is floored at `min_relative_scale` of the level so that a signal
    that holds still (a setpoint) does not see spikes in rounding. One spike is nothing; `burst`
    spikes within `period` seconds score 0.5.
    """

    name: ClassVar[str] = "spike"
    kind: ClassVar[FindingKind] = FindingKind.SENSOR
    off_delay: ClassVar[float] = 3600.0
    """A reading scores only when it completes a burst; the episode lasts while bursts recur."""

    period: float = 3600.0
    burst: int = 3
    window: int = 15
    threshold: float = 8.0
    back: float = 4.0
    warmup: int = 300
    scale_halflife: float = 2000.0
    cap: float = 3.0
    min_relative_scale: float = 1e-4

    n: int = field(default=0, init=False)
    recent: list[float] = field(default_factory=list, init=False)
    """The last `window` readings, oldest first."""
    level: float | None = field(default=None, init=False)
    """Median of the `window` readings before the newest one (None until there are enough)."""
    local_scale: float = field(default=0.0, init=False)
    """Their median absolute deviation, as a standard deviation."""
    last_ts: float = field(default=0.0, init=False)
    mean_abs: float = field(default=0.0, init=False)
    spikes: list[float] = field(default_factory=list, init=False)
    """When the spikes of the last `period` seconds happened."""

    MEAN_ABS_PER_SD: ClassVar[float] = 0.8
    """E|r| / sd of a normal residual."""
    MAD_PER_SD: ClassVar[float] = 1.4826
    """sd / median absolute deviation of a normal sample."""

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        return cls(period=max(3600.0, 600.0 * signal.sample_period))

    def _scale(self, level: float) -> float:
        sd = self.mean_abs / self.MEAN_ABS_PER_SD
        return max(sd, self.min_relative_scale * abs(level), 1e-12)

    def _spiked(self, value: float) -> bool:
        """Was the newest reading a spike, now that `value` followed it?"""
        level = self.level
        if self.n < self.warmup or level is None:
            return False
        scale = max(self._scale(level), self.local_scale)
        off = abs(self.recent[-1] - level)
        return off > self.threshold * scale and abs(value - level) <= min(
            self.back * scale, 0.5 * off
        )

    def _count(self, ts: float) -> int:
        return sum(1 for t in self.spikes if t > ts - self.period)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        if not self._spiked(value):
            return 0.0  # the episode stays active through the quiet readings (off_delay)
        count = self._count(ts) + 1
        if count < self.burst:
            return 0.0  # a spike or two is no evidence of a failing sensor
        return min(1.0, 0.5 * count / self.burst)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        if self._spiked(value):
            self.spikes.append(self.last_ts)
        if self.spikes and self.spikes[0] <= ts - self.period:
            self.spikes = [t for t in self.spikes if t > ts - self.period]
        self.n += 1
        self.level = None
        if len(self.recent) >= self.window:
            level = self.level = _median(self.recent)
            self.local_scale = self.MAD_PER_SD * _median([abs(x - level) for x in self.recent])
            residual = abs(value - level)
            if self.mean_abs > 0.0:
                residual = min(residual, self.cap * self._scale(level))
            rate = max(halflife_rate(self.scale_halflife), 1.0 / (self.n - self.window))
            self.mean_abs += rate * (residual - self.mean_abs)
        self.recent.append(value)
        if len(self.recent) > self.window:
            del self.recent[0]
        self.last_ts = ts

    def describe(self, signal: Signal, value: float, score: float) -> str:
        count = len(self.spikes)
        return (
            f"{signal.name} threw {count} isolated spike{'s' if count != 1 else ''} in the last "
            f"{_duration(self.period)}, each back to normal at the next reading: check the "
            f"sensor's connector and cable shield, its grounding and nearby electrical noise"
        )


UNIT_RANGES: dict[str, tuple[float | None, float | None]] = {
    "mm/s": (0.0, None),
    "um": (0.0, None),
    "g": (0.0, None),
    "m3/h": (0.0, None),
    "m3/s": (0.0, None),
    "l/s": (0.0, None),
    "l/min": (0.0, None),
    "t/h": (0.0, None),
    "kg/h": (0.0, None),
    "kg/s": (0.0, None),
    "a": (0.0, None),
    "ma": (0.0, None),
    "rpm": (0.0, None),
    "hz": (0.0, None),
    "%": (0.0, 100.0),
    "bar": (-1.01325, None),
    "mbar": (-1013.25, None),
    "kpa": (-101.325, None),
    "mpa": (-0.101325, None),
    "psi": (-14.696, None),
    "degc": (-273.15, None),
    "°c": (-273.15, None),
    "c": (-273.15, None),
    "degf": (-459.67, None),
    "°f": (-459.67, None),
    "k": (0.0, None),
}
"""What a sensor of each unit can read at all: magnitudes (RMS vibration, flow, current, speed)
are never negative, pressures never below vacuum (gauge or absolute), temperatures never below
absolute zero, a percentage within 0..100. Vibration in g and displacement in um are taken as
RMS or peak-to-peak magnitudes."""


@dataclass
class PhysicalRange(Detector):
    """A value no working sensor of its kind can read: a broken wire, a 4-20 mA loop beyond its
    span, a wrong scaling. Any such value scores 1.0.

    The range comes from the plant file's `range` of the signal, side by side, else from its unit
    (`UNIT_RANGES`). A bound from the unit is relaxed by `slack` units, or `margin` times the
    signal's learned typical magnitude if that is larger, since a healthy transmitter near zero
    reads a hair below it; a bound from the plant file is exact.
    """

    name: ClassVar[str] = "physical_range"
    kind: ClassVar[FindingKind] = FindingKind.SENSOR

    low: float | None = None
    high: float | None = None
    slack_low: bool = False
    slack_high: bool = False
    slack: float = 0.0
    margin: float = 0.02
    magnitude_halflife: float = 1000.0

    n: int = field(default=0, init=False)
    magnitude: float = field(default=0.0, init=False)

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        explicit = signal.physical_range
        default = UNIT_RANGES.get(signal.unit.strip().lower(), (None, None))
        low = explicit[0] if explicit[0] is not None else default[0]
        high = explicit[1] if explicit[1] is not None else default[1]
        if low is None and high is None:
            return None
        lim = signal.limits
        bounds = [b for b in (lim.warn_high, lim.alarm_high, lim.warn_low, lim.alarm_low) if b]
        return cls(
            low=low,
            high=high,
            slack_low=explicit[0] is None and low is not None,
            slack_high=explicit[1] is None and high is not None,
            slack=0.01 * max((abs(b) for b in bounds), default=0.0),
        )

    def _slack(self) -> float:
        return max(self.slack, self.margin * self.magnitude)

    def _outside(self, value: float) -> bool:
        slack = self._slack()
        if self.low is not None and value < self.low - (slack if self.slack_low else 0.0):
            return True
        return self.high is not None and value > self.high + (slack if self.slack_high else 0.0)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        return 1.0 if self._outside(value) else 0.0

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        if self._outside(value):
            return
        self.n += 1
        rate = max(halflife_rate(self.magnitude_halflife), 1.0 / self.n)
        self.magnitude += rate * (abs(value) - self.magnitude)

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = _unit(signal)
        low = "" if self.low is None else f"{self.low:g}"
        high = "" if self.high is None else f"{self.high:g}"
        return (
            f"{signal.name} reads {value:.4g}{unit}, which no working sensor can read (possible: "
            f"{low}..{high}{unit}): check the wiring (a 4-20 mA loop below 3.6 mA is a broken "
            f"wire), the transmitter and its scaling in the PLC"
        )
