"""Sensor health detectors on synthetic streams: each catches its fault and stays quiet on healthy
signals (white noise, AR(1), a step change, a daily cycle)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable

import numpy as np
import pytest

from detectors import DEFAULT
from detectors.bank import SENSOR_CHECKS
from detectors.base import Detector
from detectors.health import Flatline, Noise, PhysicalRange, Spikes, StaleSensor
from devices import FindingKind, Limits, Severity, Signal

HEALTH = (StaleSensor, Flatline, Noise, Spikes, PhysicalRange)


def signal(unit: str = "mm/s", period: float = 1.0, **limits: float) -> Signal:
    return Signal("vibration", unit, period, Limits(**limits), "t", "vibration")


def scores(
    det: Detector, values: Iterable[float], period: float = 1.0, start: float = 0.0
) -> list[float]:
    out = []
    for i, x in enumerate(values):
        ts = start + i * period
        out.append(det.score_one(float(x), ts))
        det.learn_one(float(x), ts)
    return out


def white(n: int, seed: int = 0) -> np.ndarray:
    return 2.0 + 0.05 * np.random.default_rng(seed).standard_normal(n)


def ar1(n: int, seed: int = 1, phi: float = 0.98) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = 0.0
    for i in range(1, n):
        x[i] = phi * x[i - 1] + 0.02 * rng.standard_normal()
    return 3.0 + x


def step(n: int, seed: int = 2) -> np.ndarray:
    x = white(n, seed)
    x[n // 2 :] += 1.5
    return x


def daily(n: int, period: float = 10.0, seed: int = 3) -> np.ndarray:
    t = np.arange(n) * period
    rng = np.random.default_rng(seed)
    return 60.0 + 8.0 * np.sin(2 * math.pi * t / 86400.0) + 0.2 * rng.standard_normal(n)


HEALTHY: dict[str, tuple[Callable[[], np.ndarray], float, str]] = {
    "white noise": (lambda: white(20_000), 1.0, "mm/s"),
    "AR(1)": (lambda: ar1(20_000), 1.0, "mm/s"),
    "step change": (lambda: step(20_000), 1.0, "mm/s"),
    "daily cycle": (lambda: daily(2 * 8640), 10.0, "degC"),
}


@pytest.mark.parametrize("case", list(HEALTHY))
@pytest.mark.parametrize("cls", HEALTH, ids=lambda c: c.name)
def test_quiet_on_healthy_signals(cls: type[Detector], case: str) -> None:
    make, period, unit = HEALTHY[case]
    det = cls.for_signal(signal(unit, period))
    assert det is not None
    values = make()
    got = scores(det, values, period)
    assert max(got) < 0.5
    assert det.score_silence(len(values) * period) < 0.5


@pytest.mark.parametrize("cls", HEALTH, ids=lambda c: c.name)
def test_contract(cls: type[Detector]) -> None:
    assert cls.kind is FindingKind.SENSOR
    det = cls.for_signal(signal())
    assert det is not None
    assert det.severity(1.0) is Severity.WARNING
    text = det.describe(signal(), 2.0, 0.6)
    assert text.startswith("vibration ")
    assert "check" in text


@pytest.mark.parametrize("cls", HEALTH, ids=lambda c: c.name)
def test_snapshot_round_trip_gives_identical_later_scores(cls: type[Detector]) -> None:
    rng = np.random.default_rng(5)
    data = white(4000, 5)
    data[3100:3400] = data[3099]  # stuck
    data[3500:3900:40] += 3.0  # spikes
    gaps = np.where(rng.random(4000) < 0.01, 90.0, 1.0).cumsum()
    det = cls.for_signal(signal())
    assert det is not None
    for x, ts in zip(data[:3000], gaps[:3000], strict=True):
        det.score_one(float(x), float(ts))
        det.learn_one(float(x), float(ts))
    clone = type(det).restore(json.loads(json.dumps(det.snapshot())))
    for x, ts in zip(data[3000:], gaps[3000:], strict=True):
        assert clone.score_one(float(x), float(ts)) == det.score_one(float(x), float(ts))
        assert clone.score_silence(float(ts) + 100.0) == det.score_silence(float(ts) + 100.0)
        clone.learn_one(float(x), float(ts))
        det.learn_one(float(x), float(ts))


def on_time(det: StaleSensor, n: int, period: float = 1.0) -> None:
    """`n` readings `period` apart, each judged for silence as it arrives: every reading its
    own delivery, none of them late."""
    for i, x in enumerate(white(n)):
        det.learn_one(float(x), i * period)
        det.score_silence(i * period)


def test_stale_scores_silence_beyond_the_expected_period() -> None:
    det = StaleSensor.for_signal(signal(period=1.0))
    assert det is not None
    assert det.score_silence(100.0) == 0.0  # nothing heard yet: nothing to be stale against
    on_time(det, 600)
    last = 599.0
    assert det.allowed_silence() == 60.0
    assert det.score_silence(last + 5.0) < 0.3
    assert det.score_silence(last + 60.0) == pytest.approx(0.5)
    assert det.score_silence(last + 200.0) == 1.0
    assert det.score_one(2.0, last + 300.0) == 0.0
    assert "sent nothing for about 60 s" in det.describe(signal(), 2.0, 0.5)
    assert "sent nothing for over 2 min" in det.describe(signal(), 2.0, 1.0)


def test_stale_learns_a_source_that_reports_less_often_than_it_samples() -> None:
    det = StaleSensor.for_signal(signal(period=1.0))
    assert det is not None
    on_time(det, 500, period=30.0)  # an OPC UA deadband: a value every 30 s
    assert det.allowed_silence() == pytest.approx(300.0)
    assert det.score_silence(499 * 30.0 + 120.0) < 0.3
    assert det.score_silence(499 * 30.0 + 300.0) >= 0.5


def test_stale_scales_with_a_slow_sample_period() -> None:
    det = StaleSensor.for_signal(signal(period=60.0))
    assert det is not None
    on_time(det, 100, period=60.0)
    assert det.score_silence(99 * 60.0 + 300.0) < 0.3
    assert det.score_silence(99 * 60.0 + 600.0) >= 0.5


def batched(
    det: StaleSensor, start: float, messages: int, judge_until: float | None = None
) -> float:
    """A gateway's messages of 30 samples 10 s apart, one every 300 s, judged every 10 s of
    source time in between (other machines' data moving the clock on); the highest score."""
    highest = 0.0
    for k in range(messages):
        sent = start + 300.0 * (k + 1)
        for ts in np.arange(sent - 290.0, sent + 1.0, 10.0):
            det.learn_one(2.0, float(ts))
        for now in np.arange(sent + 10.0, (judge_until or sent + 300.0), 10.0):
            highest = max(highest, det.score_silence(float(now)))
    return highest


def test_stale_learns_how_late_a_batching_source_delivers_and_still_sees_an_outage() -> None:
    det = StaleSensor.for_signal(signal(period=10.0))
    assert det is not None
    # The first message's span (clipped at twice the 100 s the sample period allows) says
    # how far away the next may be: four hours of messages without a stale judgment.
    assert batched(det, 0.0, 49) < 0.5
    assert det.lateness == pytest.approx(290.0, abs=2.0)  # the first learned clipped too
    assert det.allowed_silence() == pytest.approx(3 * det.lateness)  # three messages missed
    assert "(it reports every 10 s, its data arriving 5 min late)" in det.describe(
        signal(), 2.0, 0.5
    )
    last, before = 300.0 * 49, det.lateness
    # The gateway stops: stale once three messages are missing, and the outage, learned
    # clipped, moves little what is expected of the next messages.
    outage = batched(det, last, 1, judge_until=last + 3600.0)
    assert outage == 1.0
    assert det.score_silence(last + 300.0 + 850.0) < 0.5 <= det.score_silence(last + 300 + 900.0)
    batched(det, last + 3600.0, 1)
    assert before < det.lateness < 1.15 * before


def test_flatline_catches_a_stuck_sensor_within_minutes() -> None:
    det = Flatline.for_signal(signal())
    assert det is not None
    values = white(5000)
    values[3000:] = values[2999]
    got = scores(det, values)
    raised = next(i for i, s in enumerate(got) if s >= 0.5)
    assert 3000 + 290 <= raised <= 3000 + 310  # as soon as the minimum duration allows
    assert max(got[3000:]) == 1.0
    assert "has read" in det.describe(signal(), float(values[-1]), 1.0)
    # the value moves again: quiet at once
    assert det.score_one(2.1, 5000.0) == 0.0


def test_flatline_catches_a_sensor_stuck_within_a_tiny_tolerance() -> None:
    det = Flatline.for_signal(signal())
    assert det is not None
    values = ar1(4000)
    values[3000:] = values[2999] + 1e-6 * np.random.default_rng(0).standard_normal(1000)
    assert max(scores(det, values)[3300:]) >= 0.5


def test_flatline_learns_that_a_setpoint_holds_still() -> None:
    det = Flatline.for_signal(signal("bar"))
    assert det is not None
    values = np.full(20_000, 4.0)
    values[5000:] = 4.5  # a setpoint change, then hours at the new value
    values[12_000:] = 4.2
    assert max(scores(det, values)) < 0.3


def test_flatline_ignores_a_value_resting_at_zero() -> None:
    det = Flatline.for_signal(signal("m3/h"))
    assert det is not None
    values = 80.0 + np.random.default_rng(4).standard_normal(6000)
    values[3000:] = 0.0  # the pump stopped; the flow meter's low-flow cut-off reads 0
    assert max(scores(det, values)) == 0.0
    strict = Flatline(zero_is_rest=False)
    assert max(scores(strict, values)) >= 0.5


DAY = 86400.0


def shifts(days: int, period: float = 10.0, seed: int = 8) -> np.ndarray:
    """A machine run 06:00 to 22:00 and stopped at night: it reads 60 running at full load, 20
    stopped, with a 10-minute lag between; noise of 0.3 running and 0.05 stopped; a spike of
    inrush at each start; load steps to 0.6 / 0.75 / 0.9 of the running level every few hours,
    ramped over two samples."""
    rng = np.random.default_rng(seed)
    n = int(days * DAY / period)
    hour = (np.arange(n) * period % DAY) / 3600.0
    running = (hour >= 6.0) & (hour < 22.0)
    load = np.repeat(rng.choice([0.6, 0.75, 0.9, 1.0], size=n // 900 + 1), 900)[:n]
    target = np.where(running, 60.0 * load, 20.0)
    values = np.empty(n)
    level = 20.0
    alpha = period / 600.0
    for i in range(n):
        level += alpha * (target[i] - level)
        values[i] = level
    values += np.where(running, 0.3, 0.05) * rng.standard_normal(n)
    starts = np.flatnonzero(running[1:] & ~running[:-1]) + 1
    values[starts] += 30.0
    return values


def test_noise_ignores_starts_stops_and_load_steps() -> None:
    """Every start and stop, load step and inrush spike of four days is a few large movements,
    not noise, and the quiet nights do not teach the check that the running noise is too much."""
    values = shifts(4)
    moves = np.abs(np.diff(values))
    recent = np.convolve(moves, np.ones(32) / 32, "valid")
    day = int(DAY / 10.0)
    # what fooled short-term against long-term movement: starts move far more than a day's mean
    assert recent[day:].max() > 3.0 * moves[:day].mean()
    det = Noise.for_signal(signal("degC", 10.0))
    assert det is not None
    got = scores(det, values, 10.0)
    assert det.reference > 0.0  # judged for three days
    assert max(got) == 0.0


def test_noise_catches_a_sensor_ten_times_noisier_and_does_not_learn_it() -> None:
    period = 10.0
    values = shifts(4, period)
    onset = int(2.5 * DAY / period)  # midday, running
    end = onset + int(DAY / period)
    rng = np.random.default_rng(9)
    values[onset:end] += 3.0 * rng.standard_normal(end - onset)
    det = Noise.for_signal(signal("degC", period))
    assert det is not None
    got = scores(det, values[:onset], period)
    reference = det.reference
    got += scores(det, values[onset:end], period, start=onset * period)
    raised = next(i for i, s in enumerate(got) if s >= 0.5)
    assert max(got[:onset]) == 0.0
    assert onset + 30 <= raised <= onset + 120  # within 20 minutes
    # the reading stays noisy for a day, stopped and running: one episode, learned only
    # while its scale climbed to the threshold
    assert min(got[raised:]) >= 0.3
    assert det.loud > end - raised
    assert reference < det.reference < 1.1 * reference
    text = det.describe(signal("degC", period), float(values[end - 1]), got[-1])
    assert text.startswith("vibration has been ")
    assert "times noisier than its usual noisiest" in text
    assert "wiring" in text
    assert "grounding" in text
    # the sensor is repaired: quiet again within minutes
    after = scores(det, values[end:], period, start=end * period)
    assert max(after[60:]) == 0.0
    assert det.describe(signal("degC", period), float(values[-1]), 0.0).startswith("vibration is ")


def test_noise_is_a_default_sensor_check_and_runs_in_the_bank() -> None:
    assert "noise" in DEFAULT
    assert "noise" in SENSOR_CHECKS
    assert Noise.kind is FindingKind.SENSOR


def test_noise_warms_up_for_a_day_of_samples_or_after_a_named_baseline() -> None:
    fast = Noise.for_signal(signal("degC", 1.0))
    assert fast is not None
    noisy = white(6000)
    noisy[4000:] += 0.5 * np.random.default_rng(3).standard_normal(2000)
    assert max(scores(fast, noisy)) == 0.0  # 6,000 samples, but not yet a day
    baseline = Noise.for_signal(signal("degC", 1.0))
    assert baseline is not None
    scores(baseline, noisy[:4000])
    baseline.end_warmup()  # the first 4,000 samples are the healthy baseline
    assert max(scores(baseline, noisy[4000:], start=4000.0)) >= 0.5
    slow = Noise.for_signal(signal("degC", 60.0))
    assert slow is not None
    assert slow.min_duration == 1800.0


def test_noise_snapshot_round_trip_in_an_episode() -> None:
    period = 10.0
    values = shifts(2, period)
    values[-3000:] += 3.0 * np.random.default_rng(4).standard_normal(3000)
    det = Noise.for_signal(signal("degC", period))
    assert det is not None
    scores(det, values[:-2000], period)
    assert det.loud > 0
    clone = Noise.restore(json.loads(json.dumps(det.snapshot())))
    start = (len(values) - 2000) * period
    rest = values[-2000:]
    assert scores(clone, rest, period, start) == scores(det, rest, period, start)
    assert clone == det


def test_spikes_burst_is_a_finding_a_single_spike_is_not() -> None:
    det = Spikes.for_signal(signal())
    assert det is not None
    values = white(6000)
    values[500] += 2.0  # a lone spike
    got = scores(det, values[:5000])
    assert max(got) < 0.3
    for i in (5200, 5500, 5800):
        values[i] -= 1.0
    got = scores(det, values[5000:], start=5000.0)
    assert max(got) >= 0.5
    raised = 5000 + next(i for i, s in enumerate(got) if s >= 0.5)
    assert raised == 5801  # confirmed by the reading after the third spike
    assert "threw 3 isolated spikes" in det.describe(signal(), 2.0, 0.5)


def test_spikes_are_not_a_level_change_or_a_short_excursion() -> None:
    det = Spikes.for_signal(signal())
    assert det is not None
    values = white(8000)
    for i in range(1000, 8000, 700):
        values[i:] += 2.0 if (i // 700) % 2 else -2.0  # steps that stay
    values[7500:7503] += 3.0  # three readings off: not a single-sample spike
    assert max(scores(det, values)) < 0.3


def test_spikes_on_a_setpoint_use_a_relative_floor() -> None:
    det = Spikes.for_signal(signal("bar"))
    assert det is not None
    values = np.full(3000, 4.0)
    values[500::200] += 1e-9  # rounding noise, not spikes
    assert max(scores(det, values)) == 0.0
    values[1000:2000:100] = 40.0
    assert max(scores(det, values, start=3000.0)) == 1.0


def test_physical_range_from_units() -> None:
    det = PhysicalRange.for_signal(signal("mm/s", warn_high=4.5, alarm_high=7.1))
    assert det is not None
    assert (det.low, det.high) == (0.0, None)
    scores(det, white(100))
    assert det.score_one(-0.03, 0) == 0.0  # a hair below zero: within the transmitter's slack
    assert det.score_one(-1.0, 0) == 1.0
    assert "no working sensor can read" in det.describe(signal(), -1.0, 1.0)
    temp = PhysicalRange.for_signal(signal("degC"))
    assert temp is not None
    assert temp.score_one(-300.0, 0) == 1.0
    assert temp.score_one(-40.0, 0) == 0.0
    percent = PhysicalRange.for_signal(signal("%"))
    assert percent is not None
    assert percent.score_one(101.0, 0) == 1.0
    assert PhysicalRange.for_signal(signal("kN m")) is None


def test_physical_range_from_the_plant_file_is_exact() -> None:
    loop = dataclasses.replace(signal("mA"), physical_range=(3.6, 21.0))
    det = PhysicalRange.for_signal(loop)
    assert det is not None
    assert (det.low, det.high, det.slack_low, det.slack_high) == (3.6, 21.0, False, False)
    scores(det, 12.0 + np.random.default_rng(0).standard_normal(100))
    assert det.score_one(3.59, 0) == 1.0
    assert det.score_one(21.01, 0) == 1.0
    assert det.score_one(3.61, 0) == 0.0
    torque = dataclasses.replace(signal("kN m"), physical_range=(None, 50.0))
    one_sided = PhysicalRange.for_signal(torque)
    assert one_sided is not None
    assert one_sided.low is None
    assert one_sided.score_one(-20.0, 0) == 0.0
