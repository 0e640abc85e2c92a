from __future__ import annotations

import json
import math

import numpy as np
import pytest

from detectors import REGISTRY, Debounce, InvalidInput, Transition
from detectors.checks import run_signal
from detectors.likelihood import AnomalyLikelihood
from devices import Limits, Signal

ONSET = 3000
N = 5000


def scores(values: np.ndarray, period: float = 1.0, start: float = 0.0) -> np.ndarray:
    detector = AnomalyLikelihood(sample_period=period)
    series = [(start + i * period, float(v)) for i, v in enumerate(values)]
    return np.array(run_signal(detector, series))


def episodes(result: np.ndarray, period: float = 1.0) -> int:
    """Condition episodes the engine would raise from these scores (the class's decision)."""
    decision = Debounce(
        AnomalyLikelihood.on_threshold,
        AnomalyLikelihood.off_threshold,
        AnomalyLikelihood.on_delay,
        AnomalyLikelihood.off_delay,
    )
    return sum(
        decision.update(float(s), i * period, 1) is Transition.RAISED for i, s in enumerate(result)
    )


def noise(seed: int = 1, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).normal(10.0, 1.0, n)


def after_onset(onset: int = ONSET) -> np.ndarray:
    return (np.arange(N) >= onset).astype(float)


def test_registered_and_applies_to_a_bare_signal() -> None:
    assert REGISTRY["likelihood"] is AnomalyLikelihood
    signal = Signal("flow", "m3/h", 5.0, Limits(), "t", "flow")
    detector = AnomalyLikelihood.for_signal(signal)
    assert detector is not None
    assert detector.sample_period == 5.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quiet_on_white_noise(seed: int) -> None:
    result = scores(noise(seed, 20_000))
    assert np.mean(result >= 0.3) < 5e-3  # 0.3 is p = 1e-3: calibrated within a few times
    assert episodes(result) == 0


def test_quiet_on_a_slow_autoregressive_signal() -> None:
    rng = np.random.default_rng(4)
    values = np.zeros(20_000)
    for i in range(1, values.size):
        values[i] = 0.95 * values[i - 1] + rng.normal()
    assert episodes(scores(values)) == 0


def test_quiet_on_a_daily_cycle() -> None:
    """Ten days sampled every 5 minutes of a strong daily swing with noise."""
    rng = np.random.default_rng(5)
    period = 300.0
    t = np.arange(10 * 288) * period
    values = 50.0 + 20.0 * np.sin(2 * math.pi * t / 86_400.0) + rng.normal(0.0, 1.0, t.size)
    assert episodes(scores(values, period), period) == 0


def test_level_shift_scores_high_at_onset_then_decays() -> None:
    result = scores(noise() + 4.0 * after_onset())
    assert episodes(result[:ONSET]) == 0
    assert result[ONSET : ONSET + 5].max() > 0.7
    assert result[ONSET + 200 :].max() < 0.5


def test_a_clear_level_shift_is_one_episode() -> None:
    assert episodes(scores(noise() + 8.0 * after_onset())) == 1


def test_variance_change_scores_high_at_onset() -> None:
    values = 10.0 + (noise() - 10.0) * (1.0 + 2.0 * after_onset())
    result = scores(values)
    assert episodes(result[:ONSET]) == 0
    assert result[ONSET : ONSET + 20].max() > 0.7
    assert episodes(result) == 1


def test_no_score_during_warmup() -> None:
    detector = AnomalyLikelihood(warmup=100)
    result = run_signal(detector, [(float(i), float(i % 7) * 1e6) for i in range(100)])
    assert not any(result)


def test_constant_signal_then_small_change_is_not_alarming() -> None:
    values = np.full(3000, 100.0)
    values[2000:] = 100.01  # below the relative floor of the typical error
    assert scores(values).max() < 0.5


def test_snapshot_round_trip_mid_stream() -> None:
    rng = np.random.default_rng(7)
    series = [(i * 600.0, float(v)) for i, v in enumerate(rng.normal(size=1500))]
    original = AnomalyLikelihood(sample_period=600.0)
    run_signal(original, series[:1000])  # past two days: the daily profile is in use
    clone = AnomalyLikelihood.restore(json.loads(json.dumps(original.snapshot())))
    assert run_signal(clone, series[1000:]) == run_signal(original, series[1000:])


def test_scoring_does_not_learn() -> None:
    detector = AnomalyLikelihood()
    run_signal(detector, [(float(i), float(v)) for i, v in enumerate(noise()[:1000])])
    before = detector.snapshot()
    detector.score_one(1e9, 1000.0)
    assert detector.snapshot() == before


def test_rejects_non_finite() -> None:
    detector = AnomalyLikelihood()
    with pytest.raises(InvalidInput):
        detector.score_one(math.nan, 0.0)
    with pytest.raises(InvalidInput):
        detector.learn_one(math.inf, 0.0)
    assert detector.n == 0


def test_scores_order_strength_of_evidence_above_half() -> None:
    """Bigger jumps score higher, without ties at the top, and never reach 1."""
    peaks = [scores(noise() + jump * after_onset()).max() for jump in (4.0, 8.0, 16.0, 1e6)]
    assert peaks == sorted(peaks)
    assert len(set(peaks)) == len(peaks)
    assert peaks[-1] < 1.0


def test_describe_names_the_signal() -> None:
    detector = AnomalyLikelihood()
    run_signal(detector, [(float(i), float(v)) for i, v in enumerate(noise()[:500])])
    signal = Signal("flow", "m3/h", 1.0, Limits(), "t", "flow")
    text = detector.describe(signal, 30.0, 0.8)
    assert text.startswith("flow behaves unusually: 30 m3/h")
    assert "1 in" in text
