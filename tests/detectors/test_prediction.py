"""Time to limit: a Theil-Sen trend with a 95% range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.prediction import Forecast, forecast
from devices import Limits, Point

LIMITS = Limits(warn_high=4.5, alarm_high=7.1, alarm_low=0.5)


def ramp(
    slope: float, n: int = 600, level: float = 2.0, sd: float = 0.05, seed: int = 0
) -> list[Point]:
    """`n` points a second apart rising by `slope` per second from `level`, with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    y = level + slope * t + sd * rng.standard_normal(n)
    return list(zip(t.tolist(), y.tolist(), strict=True))


def truth(slope: float, limit: float, n: int = 600, level: float = 2.0) -> float:
    return (limit - (level + slope * (n - 1))) / slope


def test_a_noisy_ramp_crosses_when_expected_within_its_range() -> None:
    points = ramp(0.001)
    got = forecast(points, LIMITS)
    assert got is not None
    expected = truth(0.001, 7.1)
    assert got.limit == 7.1
    assert got.slope == pytest.approx(0.001, rel=0.05)
    assert got.seconds == pytest.approx(expected, rel=0.05)
    assert got.earliest <= expected <= got.latest
    assert got.earliest < got.seconds < got.latest < math.inf


def test_a_falling_trend_heads_for_the_low_limit() -> None:
    got = forecast(ramp(-0.001), LIMITS)
    assert got is not None
    assert got.limit == 0.5
    assert got.seconds == pytest.approx(truth(-0.001, 0.5), rel=0.05)


def test_spikes_barely_move_it_where_least_squares_is_thrown_off() -> None:
    points = ramp(0.001)
    rng = np.random.default_rng(3)
    spiked = list(points)
    for i in rng.choice(len(points) - 1, size=60, replace=False):  # 10% of the window
        t, y = spiked[i]
        spiked[i] = (t, y - 3.0)  # a sensor that drops out to a low reading
    clean = forecast(points, LIMITS)
    robust = forecast(spiked, LIMITS)
    assert clean is not None
    assert robust is not None
    data = np.asarray(spiked)
    ls_slope, ls_level = np.polyfit(data[:, 0] - data[-1, 0], data[:, 1], 1)
    least_squares = (7.1 - ls_level) / ls_slope
    expected = truth(0.001, 7.1)
    assert abs(robust.seconds - expected) < 0.05 * expected
    assert abs(least_squares - expected) > 4 * abs(robust.seconds - expected)
    assert robust.earliest <= expected <= robust.latest


def test_the_range_covers_the_truth_in_most_noisy_trials() -> None:
    covered = 0
    trials = 200
    for seed in range(trials):
        slope = 0.0005 + 0.001 * (seed % 5)
        got = forecast(ramp(slope, n=300, sd=0.2, seed=seed), LIMITS)
        assert got is not None
        if got.earliest <= truth(slope, 7.1, n=300) <= got.latest:
            covered += 1
    assert covered >= 0.88 * trials  # a 95% interval, less the noise of sampling pairs


def test_a_trend_away_from_every_limit_has_no_forecast() -> None:
    assert forecast(ramp(0.001), Limits(alarm_low=0.5)) is None
    assert forecast(ramp(-0.001), Limits(alarm_high=7.1)) is None


def test_already_past_the_limit_is_now() -> None:
    got = forecast(ramp(0.001, level=7.5), LIMITS)
    assert got == Forecast(0.0, 0.0, 0.0, got.slope if got else 0.0, 7.1)


def test_too_few_points_or_no_time_span_has_no_forecast() -> None:
    assert forecast(ramp(0.001, n=29), LIMITS) is None
    assert forecast(ramp(0.001, n=10), LIMITS, min_points=5) is not None
    assert forecast([(5.0, float(i)) for i in range(40)], LIMITS) is None


def test_noisy_flat_signal_has_no_forecast_or_an_open_range() -> None:
    """A 95% interval excludes a zero slope in about 5% of flat windows, no more."""
    trials = 50
    open_ended = 0
    for seed in range(trials):
        got = forecast(ramp(0.0, sd=0.5, seed=seed), LIMITS)
        if got is None or got.latest == math.inf:
            open_ended += 1
    assert open_ended >= 0.88 * trials


def test_a_constant_signal_has_no_forecast() -> None:
    assert forecast([(float(i), 3.0) for i in range(100)], LIMITS) is None


def test_the_same_window_gives_the_same_forecast() -> None:
    points = ramp(0.002, n=600, sd=0.3, seed=9)
    assert forecast(points, LIMITS) == forecast(list(points), LIMITS)


def test_irregular_timestamps_with_duplicates() -> None:
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 600, 400)).round()  # some share a second
    y = 2.0 + 0.001 * t + 0.05 * rng.standard_normal(400)
    got = forecast(list(zip(t.tolist(), y.tolist(), strict=True)), LIMITS)
    assert got is not None
    assert got.seconds == pytest.approx((7.1 - 2.0 - 0.001 * t[-1]) / 0.001, rel=0.05)
