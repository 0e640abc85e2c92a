from __future__ import annotations

import json

import numpy as np
import pytest

from detectors.calibration import TailCalibrator
from detectors.errors import DetectorError


def learned(raw: np.ndarray, **params: float) -> tuple[TailCalibrator, list[float]]:
    cal = TailCalibrator(**params)  # type: ignore[arg-type]
    scores = []
    for r in raw:
        scores.append(cal.score_one(float(r)))
        cal.learn_one(float(r))
    return cal, scores


def test_scores_match_tail_probabilities_of_recent_raw_scores() -> None:
    raw = np.random.default_rng(1).normal(0.3, 0.05, 60_000)
    cal, scores = learned(raw)
    s = np.array(scores[5_000:])
    assert (s >= 0.1).mean() == pytest.approx(0.1, rel=0.1)
    assert (s >= 0.2).mean() == pytest.approx(0.01, rel=0.25)
    assert (s >= 0.3).mean() < 0.002
    assert (s >= 0.5).mean() == 0.0
    assert cal.score_one(0.3 + 7 * 0.05) >= 0.5


def test_warmup_and_non_finite_scores_are_zero() -> None:
    cal = TailCalibrator(warmup=100)
    for _ in range(99):
        cal.learn_one(0.1)
    assert cal.score_one(0.99) == 0.0
    cal.learn_one(float("nan"))
    assert cal.n == 99
    cal.learn_one(0.1)
    assert cal.score_one(0.99) > 0.5
    assert cal.score_one(float("inf")) == 0.0


def test_a_developing_fault_does_not_become_normal() -> None:
    rng = np.random.default_rng(2)
    cal, _ = learned(rng.normal(0.2, 0.02, 10_000))
    fault = [cal.score_one(0.5)]
    for _ in range(20_000):
        cal.learn_one(0.5)
    fault.append(cal.score_one(0.5))
    assert fault[0] >= 0.5
    assert fault[1] >= 0.5


def test_log_spaced_bins_and_json_round_trip() -> None:
    raw = np.random.default_rng(3).lognormal(0.0, 1.0, 20_000)
    cal, _ = learned(raw, low=1e-3, high=1e3, log_spaced=True)
    copy = TailCalibrator.restore(json.loads(json.dumps(cal.snapshot())))
    for r in (0.5, 5.0, 50.0, 500.0):
        assert copy.score_one(r) == cal.score_one(r)
    assert cal.score_one(500.0) > cal.score_one(50.0) > cal.score_one(5.0)


def test_bad_parameters_say_what_to_fix() -> None:
    with pytest.raises(DetectorError, match="positive low"):
        TailCalibrator(low=0.0, log_spaced=True)
    with pytest.raises(DetectorError, match="high"):
        TailCalibrator(low=1.0, high=1.0)
