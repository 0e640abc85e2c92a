"""The long-trend forecast: bucketed history, onset models, a 90 % range that holds the truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors import Engine
from detectors.prediction import MIN_BUCKETS, forecast_trend
from detectors.trend import Bucket, TrendHistory, running_settled
from devices import Limits, Reading, plant_from_dict
from forewarn import snapshots

LIMIT = 7.1
ONSET = 86_400.0
TTF = 48 * 3600.0
PERIOD = 10.0


def severity(shape: str, t: float) -> float:
    x = min(max((t - ONSET) / TTF, 0.0), 1.0)
    return x if shape == "linear" else math.expm1(4.0 * x) / math.expm1(4.0)


def degrade(
    shape: str, fraction: float, seed: int, sd: float = 0.05, daily: float = 0.0
) -> tuple[TrendHistory, float, float]:
    """A signal from 2.0 rising to 7.5 at failure (plus a daily cycle of amplitude `daily`); its
    history up to `fraction` of the time to failure, that moment, and the first time a noisy
    reading reaches the limit."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, ONSET + TTF, PERIOD)
    values = (
        2.0
        + 5.5 * np.array([severity(shape, x) for x in t])
        + daily * np.sin(2.0 * math.pi * t / 86_400.0)
        + sd * rng.standard_normal(t.size)
    )
    now = ONSET + fraction * TTF
    history = TrendHistory()
    for ts, value in zip(t[t <= now], values[t <= now], strict=True):
        history.add(float(ts), float(value))
    crossed = float(t[(t > now) & (values >= LIMIT)][0])
    return history, float(t[t <= now][-1]), crossed


@pytest.mark.parametrize("shape", ["linear", "exponential"])
def test_the_range_holds_the_crossing_and_the_estimate_is_close(shape: str) -> None:
    errors = []
    held = 0
    cases = [(fraction, seed) for fraction in (0.3, 0.5, 0.7) for seed in (1, 2)]
    for fraction, seed in cases:
        history, now, crossed = degrade(shape, fraction, seed)
        got = forecast_trend(history.buckets(), Limits(alarm_high=LIMIT), now)
        assert got is not None
        actual = crossed - now
        held += got.earliest <= actual <= got.latest
        errors.append(abs(got.seconds - actual) / actual)
        assert got.earliest <= got.seconds <= got.latest
    assert held >= len(cases) - 1
    assert float(np.median(errors)) < 0.25


@pytest.mark.parametrize("shape", ["linear", "exponential"])
def test_a_daily_cycle_on_top_of_the_wear_is_fitted_not_taken_for_noise(shape: str) -> None:
    """A temperature that follows the ambient's daily cycle while it wears: once two days are
    in the history the cycle is part of the model and the range still holds the crossing."""
    errors = []
    held = 0
    cases = [(fraction, seed) for fraction in (0.5, 0.7, 0.85) for seed in (1, 2)]
    for fraction, seed in cases:
        history, now, crossed = degrade(shape, fraction, seed, daily=0.6)
        got = forecast_trend(history.buckets(), Limits(alarm_high=LIMIT), now)
        assert got is not None
        actual = crossed - now
        held += got.earliest <= actual <= got.latest
        errors.append(abs(got.seconds - actual) / actual)
    assert held >= len(cases) - 1
    assert float(np.median(errors)) < 0.25


def test_exponential_wear_is_not_forecast_as_linear() -> None:
    """Midway, accelerating wear crosses far sooner than its straight line says."""
    history, now, crossed = degrade("exponential", 0.6, seed=3)
    buckets = history.buckets()
    got = forecast_trend(buckets, Limits(alarm_high=LIMIT), now)
    assert got is not None
    recent = buckets[-36:]
    slope, level = np.polyfit([b.ts - now for b in recent], [b.mean for b in recent], 1)
    linear = (LIMIT - level) / slope
    actual = crossed - now
    assert abs(got.seconds - actual) < 0.25 * actual < abs(linear - actual)


def test_a_flat_signal_is_not_forecast_to_cross_soon() -> None:
    rng = np.random.default_rng(0)
    history = TrendHistory()
    for i in range(20_000):
        history.add(i * PERIOD, 3.0 + 0.05 * rng.standard_normal())
    got = forecast_trend(
        history.buckets(), Limits(alarm_high=LIMIT, alarm_low=0.5), 19_999 * PERIOD
    )
    assert got is None or got.seconds > 2 * 86_400.0


def test_too_short_a_history_has_no_trend_forecast() -> None:
    history = TrendHistory()
    for i in range(int((MIN_BUCKETS - 1) * 600 / PERIOD)):
        history.add(i * PERIOD, 2.0 + i * 1e-3)
    assert len(history) < MIN_BUCKETS
    assert forecast_trend(history.buckets(), Limits(alarm_high=LIMIT), i * PERIOD) is None


def test_history_keeps_two_days_of_ten_minute_buckets_and_survives_a_snapshot() -> None:
    history = TrendHistory()
    for i in range(3 * 8640):  # three days at 10 s
        history.add(i * PERIOD, float(i % 60))
    buckets = history.buckets()
    assert len(buckets) == 288
    assert buckets[-1].ts - buckets[0].ts == pytest.approx(287 * 600.0, abs=600.0)
    assert buckets[0].mean == pytest.approx(29.5)
    assert buckets[0].count == 60
    restored = TrendHistory.restore(history.snapshot())
    assert restored.buckets() == buckets
    restored.add(3 * 8640 * PERIOD, 1.0)
    history.add(3 * 8640 * PERIOD, 1.0)
    assert restored.buckets() == history.buckets()


def test_the_engine_forecasts_from_its_history_and_keeps_it_in_its_snapshot() -> None:
    """A pump whose vibration rises steadily for hours: the warning finding's time to the alarm
    limit comes from the trend, and a restored engine has the same history."""
    equipment = {"id": "P-1", "type": "centrifugal_pump", "team": "maintenance"}
    line = {"id": "l", "equipment": [equipment]}
    plant = plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})
    limits = next(iter(plant)).signals["vibration"].limits
    assert limits.warn_high is not None
    assert limits.alarm_high is not None
    engine = Engine(plant, ("limits",))
    start = limits.warn_high - 1.0
    rate = (limits.alarm_high - start) / (10 * 3600.0)  # from 1 below warning to alarm in 10 h
    rng = np.random.default_rng(4)
    findings = []
    for i in range(int(8 * 3600 / PERIOD)):
        ts = i * PERIOD
        value = start + rate * ts + 0.02 * rng.standard_normal()
        findings += engine.process([Reading("P-1", "vibration", ts, float(value))])
    warning = next(f for f in findings if f.active)
    assert warning.time_to_limit is not None
    assert warning.time_to_limit_range is not None
    actual = (limits.alarm_high - start) / rate - warning.ts
    low, high = warning.time_to_limit_range
    assert low <= actual <= high
    assert warning.time_to_limit == pytest.approx(actual, rel=0.25)
    saved = snapshots.decode(snapshots.encode(engine.snapshot()))  # as the service stores it
    resumed = Engine(plant, ("limits",))
    resumed.restore(saved)
    stream = engine._streams[("P-1", "vibration")]
    again = resumed._streams[("P-1", "vibration")]
    assert len(stream.history) > 20
    assert again.history.snapshot() == stream.history.snapshot()
    assert again.history.buckets() == stream.history.buckets()


def test_an_order_about_a_signal_with_no_limit_ahead_tells_when_another_signal_crosses() -> None:
    """A warning on a signal with no alarm limit (here a seal's leak rate) while the bearing's
    temperature climbs toward its alarm limit: the finding's time to limit is the bearing's."""
    signals = {
        "seal_leak": {"unit": "l/h", "sample_period": "10s", "limits": {"warn_high": 2.0}},
        "bearing_temp": {"limits": {"warn_high": 80.0, "alarm_high": 90.0}},
    }
    equipment = {"id": "P-1", "type": "centrifugal_pump", "team": "maintenance"}
    line = {"id": "l", "equipment": [{**equipment, "signals": signals}]}
    plant = plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})
    engine = Engine(plant, ("limits",))
    rate = 30.0 / (10 * 3600.0)  # from 60 to the alarm limit of 90 in 10 h
    rng = np.random.default_rng(5)
    findings = []
    for i in range(int(4 * 3600 / PERIOD)):
        ts = i * PERIOD
        leak = 1.0 if ts < 3.5 * 3600 else 3.0
        findings += engine.process(
            [
                Reading("P-1", "seal_leak", ts, leak + 0.01 * rng.standard_normal()),
                Reading("P-1", "bearing_temp", ts, 60.0 + rate * ts + 0.1 * rng.standard_normal()),
            ]
        )
    warning = next(f for f in findings if f.active)
    assert warning.signals == ("seal_leak",)
    assert warning.time_to_limit is not None
    assert warning.time_to_limit_range is not None
    actual = 10 * 3600.0 - warning.ts
    low, high = warning.time_to_limit_range
    assert low <= actual <= high
    assert warning.time_to_limit == pytest.approx(actual, rel=0.25)


def buckets_of(values: list[tuple[float, float]], width: float = 600.0) -> list[Bucket]:
    """A history's buckets from (time, value) readings."""
    history = TrendHistory(width)
    for ts, value in values:
        history.add(ts, value)
    return history.buckets()


def compressor_days(days: int, period: float = 60.0) -> list[tuple[float, float, float, float]]:
    """A compressor's (time, motor current, vibration, bearing temperature): 100 A from 06:05 to
    22:00, idling at 20 A between; the vibration follows the load at once, the temperature with
    a time constant of 20 minutes."""
    rng = np.random.default_rng(7)
    out, temperature = [], 30.0
    for ts in np.arange(0.0, days * 86_400.0, period):
        hour = (ts % 86_400.0) / 3600.0
        running = 6 + 5 / 60 <= hour < 22
        temperature += ((60.0 if running else 30.0) - temperature) * -math.expm1(-period / 1200.0)
        out.append(
            (
                float(ts),
                (100.0 if running else 20.0) + rng.normal(),
                (2.0 if running else 0.5) + 0.01 * rng.normal(),
                temperature + 0.05 * rng.normal(),
            )
        )
    return out


def test_buckets_are_kept_once_each_signal_settled_at_the_usual_load() -> None:
    """Each signal is kept from when it settled after the day's start, the vibration at once and
    the lagging temperature later, up to the stop; never while idling at night."""
    days = compressor_days(2)
    current = buckets_of([(ts, amps) for ts, amps, _, _ in days])

    def kept_hours(column: int) -> list[float]:
        signal = buckets_of([(row[0], row[column]) for row in days])
        return sorted({(b.ts % 86_400.0) / 3600.0 for b in running_settled(signal, current)})

    vibration, temperature = kept_hours(2), kept_hours(3)
    for hours in (vibration, temperature):
        assert hours[0] > 6 + 5 / 60
        assert hours[-1] == pytest.approx(22 - 5 / 60, abs=0.1)
    assert vibration[0] < 6.5  # the first bucket after the start's
    assert 7.0 < temperature[0] < 9.2  # three time constants and more, not the 3-hour default


def test_without_regime_readings_every_bucket_is_kept() -> None:
    signal = buckets_of([(float(ts), 1.0) for ts in range(0, 86_400, 60)])
    assert running_settled(signal, []) == signal


def test_a_machine_run_in_shifts_is_forecast_from_its_running_trend() -> None:
    """A motor run from 06:00 to 22:00 whose bearing temperature, settled at 60 degC running and
    cooling to the hall's 25 degC at night, climbs with wear at a steady rate: the warning
    finding's time to the alarm limit holds, where a fit of every bucket (running, standing and
    warming up) is far off."""
    equipment = {"id": "M-1", "type": "induction_motor", "team": "maintenance"}
    line = {"id": "l", "equipment": [equipment]}
    plant = plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})
    motor = next(iter(plant))
    limits = motor.signals["bearing_temp"].limits
    assert (limits.warn_high, limits.alarm_high) == (80.0, 95.0)
    engine = Engine(plant, ("limits",))
    regime = motor.regime_signal
    assert regime == "current"
    wear = 35.0 / (2.5 * 86_400.0)  # at the alarm limit two and a half days after the first
    rng = np.random.default_rng(3)
    temperature, findings = 25.0, []
    step = 60.0
    for ts in np.arange(0.0, 4 * 86_400.0, step):
        running = 6.0 <= (ts % 86_400.0) / 3600.0 < 22.0
        target = 60.0 + wear * max(ts - 86_400.0, 0.0) if running else 25.0
        temperature += (target - temperature) * -math.expm1(-step / 1200.0)
        findings += engine.process(
            [
                Reading("M-1", regime, float(ts), (40.0 if running else 0.0) + 0.2 * rng.normal()),
                Reading("M-1", "bearing_temp", float(ts), temperature + 0.1 * rng.normal()),
            ]
        )
        if any(f.active for f in findings):
            break
    warning = next(f for f in findings if f.active)
    assert warning.time_to_limit is not None
    assert warning.time_to_limit_range is not None
    actual = 86_400.0 + (limits.alarm_high - 60.0) / wear - warning.ts
    low, high = warning.time_to_limit_range
    assert low <= actual <= high
    assert warning.time_to_limit == pytest.approx(actual, rel=0.25)
    stream = engine._streams[("M-1", "bearing_temp")]
    every = forecast_trend(stream.history.buckets(), limits, warning.ts)
    assert every is None or every.seconds != pytest.approx(actual, rel=0.25)
