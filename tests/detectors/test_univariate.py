"""Behaviour of the univariate detectors: each catches what it is for and keeps quiet otherwise."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pytest

from detectors import REGISTRY
from detectors.base import Detector, surprise_score
from detectors.cusum import Cusum
from detectors.errors import InvalidInput
from detectors.rate import RateOfChange
from detectors.surprise import Z_AT_ONSET, surprise_scores, threshold_score
from detectors.zscore import EwmaZScore
from devices import Limits, Signal

SIGNAL = Signal("bearing_temp", "°C", 1.0, Limits(), "t", "bearing_temp")
UNIVARIATE: tuple[type[Detector], ...] = (EwmaZScore, RateOfChange, Cusum)


def run(det: Detector, values: Sequence[float], ts: Sequence[float] | None = None) -> np.ndarray:
    scores = np.empty(len(values))
    for i, value in enumerate(values):
        t = float(i) if ts is None else float(ts[i])
        scores[i] = det.score_one(float(value), t)
        det.learn_one(float(value), t)
    return scores


def first_at(scores: np.ndarray, level: float = 0.5) -> int | None:
    hits = np.flatnonzero(scores >= level)
    return int(hits[0]) if hits.size else None


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    noise = rng.standard_normal(n) * math.sqrt(1 - phi * phi)
    out = np.empty(n)
    out[0] = noise[0]
    for i in range(1, n):
        out[i] = phi * out[i - 1] + noise[i]
    return out


def test_array_surprise_scores_match_the_scalar_ones() -> None:
    z = np.concatenate([np.linspace(-9.0, 9.0, 20_001), [0.0, Z_AT_ONSET, -6.47, 6.48]])
    expected = np.array([surprise_score(float(v)) for v in z])
    assert np.max(np.abs(surprise_scores(z) - expected)) < 1e-12
    assert surprise_score(Z_AT_ONSET) == pytest.approx(0.5, abs=1e-12)
    assert threshold_score(6.0, 6.0) == pytest.approx(0.5, abs=1e-12)
    assert threshold_score(-3.0, 6.0) < 0.3 < threshold_score(5.0, 6.0) < 0.5


@pytest.mark.parametrize("cls", UNIVARIATE, ids=lambda c: c.name)
def test_quiet_on_100k_samples_of_gaussian_noise(cls: type[Detector]) -> None:
    rng = np.random.default_rng(11)
    scores = run(cls(), 80.0 + 0.5 * rng.standard_normal(100_000))
    assert scores.max() < 0.5
    assert scores.min() >= 0.0


@pytest.mark.parametrize("cls", UNIVARIATE, ids=lambda c: c.name)
def test_quiet_on_an_autocorrelated_signal(cls: type[Detector]) -> None:
    rng = np.random.default_rng(12)
    scores = run(cls(), 60.0 + 0.3 * ar1(rng, 60_000, 0.95))
    assert scores.max() < 0.5


@pytest.mark.parametrize("cls", UNIVARIATE, ids=lambda c: c.name)
def test_registered_and_configured_for_every_signal(cls: type[Detector]) -> None:
    assert REGISTRY[cls.name] is cls
    det = cls.for_signal(SIGNAL)
    assert isinstance(det, cls)
    run(det, [70.0 + 0.01 * (i % 7) for i in range(700)] + [90.0])
    sentence = det.describe(SIGNAL, 90.0, 1.0)
    assert sentence.startswith("bearing_temp ")
    assert "°C" in sentence


@pytest.mark.parametrize("cls", UNIVARIATE, ids=lambda c: c.name)
def test_snapshot_round_trip_gives_identical_scores(cls: type[Detector]) -> None:
    rng = np.random.default_rng(14)
    data = 5.0 + np.cumsum(rng.standard_normal(3000)) * 0.05
    data[2200:2210] += 4.0
    det = cls()
    run(det, data[:2000])
    clone = cls.restore(json.loads(json.dumps(det.snapshot())))
    assert np.array_equal(run(clone, data[2000:]), run(det, data[2000:]))


def test_zscore_flags_a_spike_without_learning_it() -> None:
    rng = np.random.default_rng(21)
    det = EwmaZScore()
    run(det, 10.0 + rng.standard_normal(2000))
    mean, std = det.mean, math.sqrt(det.var)
    assert det.score_one(10.0 + 8 * std, 2000) >= 0.5
    assert det.score_one(10.0 + 3 * std, 2000) < 0.3
    det.learn_one(10.0 + 1000 * std, 2000)
    assert abs(det.mean - mean) < 0.01 * std
    assert math.sqrt(det.var) < 1.02 * std


def test_zscore_flags_a_step_then_accepts_the_new_level() -> None:
    rng = np.random.default_rng(22)
    data = 10.0 + rng.standard_normal(6000)
    data[3000:] += 10.0
    scores = run(EwmaZScore(), data)
    assert first_at(scores[3000:]) == 0
    assert scores[3000 + 600 :].max() < 0.3


def test_rate_flags_a_step_and_a_run_away_but_not_a_slow_drift() -> None:
    rng = np.random.default_rng(31)
    noise = 50.0 + 0.2 * rng.standard_normal(4000)

    step = noise.copy()
    step[3000:] += 3.0  # 15 sd of the noise
    assert first_at(run(RateOfChange(), step)[3000:]) == 0

    runaway = noise.copy()
    runaway[3000:] += 0.2 * np.arange(1000)  # one noise sd per sample
    found = first_at(run(RateOfChange(), runaway)[3000:])
    assert found is not None
    assert found < 30

    drift = noise.copy()
    drift[3000:] += 0.001 * np.arange(1000)
    assert run(RateOfChange(), drift)[3000:].max() < 0.3


def test_rate_is_per_second_on_irregular_and_5_minute_sampling() -> None:
    rng = np.random.default_rng(32)
    n = 2000
    ts = np.cumsum(rng.uniform(200.0, 400.0, n))  # about 5 minutes apart, jittered
    temperature = 40.0 + 0.01 * ts / 3600 + 0.001 * rng.standard_normal(n)
    det = RateOfChange()
    assert run(det, temperature, ts).max() < 0.5
    assert det.rate == pytest.approx(0.01 / 3600, rel=0.5)
    assert "per day" in det.describe(SIGNAL, float(temperature[-1]), 0.0)
    # the cooling fails: 2 °C per 5 minutes
    later = ts[-1] + 300.0 * np.arange(1, 20)
    scores = run(det, temperature[-1] + 2.0 * np.arange(1, 20), later)
    assert first_at(scores) is not None


def test_rate_ignores_a_repeated_timestamp_and_rejects_a_non_finite_one() -> None:
    det = RateOfChange(warmup=10)
    run(det, [1.0 + 0.01 * (i % 3) for i in range(100)])
    before = det.snapshot()
    assert det.score_one(500.0, 99.0) == 0.0
    det.learn_one(500.0, 99.0)
    with pytest.raises(InvalidInput):
        det.learn_one(1.0, math.inf)
    assert det.snapshot() == before


@pytest.mark.parametrize(("shift", "within"), [(1.5, 40), (3.0, 15)])
def test_cusum_catches_a_small_shift_as_one_episode(shift: float, within: int) -> None:
    rng = np.random.default_rng(41)
    data = 20.0 + rng.standard_normal(6000)
    data[3000:] += shift
    det = Cusum()
    scores = run(det, data)
    assert scores[:3000].max() < 0.3
    onset = first_at(scores[3000:])
    assert onset is not None
    assert onset < within
    # one episode: above the off level from the onset until the shift is accepted ...
    accepted = 3000 + onset + det.relearn_after
    assert scores[3000 + onset : accepted - 1].min() > 0.3
    # ... then quiet on the new level
    assert scores[accepted + 10 :].max() < 0.3
    assert det.mean == pytest.approx(20.0 + shift, abs=0.3)


def test_cusum_ignores_a_spike_and_clears_when_the_value_returns() -> None:
    rng = np.random.default_rng(42)
    data = 20.0 + rng.standard_normal(4000)
    data[2000] += 50.0
    data[3000:3100] += 3.0
    scores = run(Cusum(), data)
    assert scores[:3000].max() < 0.3
    assert scores[3000:3100].max() >= 0.5
    assert scores[3100 + 80 :].max() < 0.3


def test_cusum_learns_the_autocorrelation_of_a_wandering_signal() -> None:
    rng = np.random.default_rng(43)
    data = 60.0 + ar1(rng, 30_000, 0.95)
    det = Cusum()
    assert run(det, data).max() < 0.5
    assert det.lag_cov / det.var == pytest.approx(0.95, abs=0.03)
