"""The shift detector on synthetic correlated signals: a baseline, then healthy or broken rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detectors import DEFAULT, REGISTRY
from detectors.shift import ShiftDetector, ledoit_wolf

SIGNALS = ("current", "flow", "pressure", "temperature")
BASELINE = 400


def rows(n: int, *, seed: int = 0, broken_from: int | None = None) -> list[dict[str, float]]:
    """A pump at 1 Hz: current, flow and pressure follow one noisy load (correlated), the
    temperature wanders as a random walk. From `broken_from` on, flow falls by 1.5 of its
    spread while the load (current) is unchanged: no signal leaves its own range by much."""
    rng = np.random.default_rng(seed)
    load = rng.normal(0.0, 1.0, n)
    temperature = 60.0 + np.cumsum(rng.normal(0.0, 0.1, n))
    out = []
    for i in range(n):
        flow = 100.0 + 5.0 * load[i] + rng.normal(0.0, 1.0)
        if broken_from is not None and i >= broken_from:
            flow -= 1.5 * 5.1
        out.append(
            {
                "current": 10.0 + 0.5 * load[i] + rng.normal(0.0, 0.1),
                "flow": flow,
                "pressure": 3.0 + 0.2 * load[i] + rng.normal(0.0, 0.05),
                "temperature": float(temperature[i]),
            }
        )
    return out


def run(
    data: list[dict[str, float]], detector: ShiftDetector | None = None
) -> tuple[ShiftDetector, list[float]]:
    detector = detector or ShiftDetector(signals=SIGNALS)
    for i, x in enumerate(data[:BASELINE]):
        assert detector.score_one(x, float(i)) == 0.0  # no baseline named yet
        detector.learn_baseline(x, float(i))
    detector.end_warmup()
    scores = []
    for i, x in enumerate(data[BASELINE:], start=BASELINE):
        scores.append(detector.score_one(x, float(i)))
        detector.learn_one(x, float(i))
    return detector, scores


def test_in_the_default_ensemble() -> None:
    assert REGISTRY["shift"] is ShiftDetector
    assert "shift" in DEFAULT


def test_a_wandering_temperature_raises_nothing() -> None:
    detector, scores = run(rows(3_000))
    assert detector.fitted
    assert not detector.idle()
    persistent = dict(zip(SIGNALS, detector.persistent, strict=True))
    assert persistent == {"current": 0.0, "flow": 0.0, "pressure": 0.0, "temperature": 1.0}
    assert max(scores) < ShiftDetector.on_threshold


def test_a_broken_correlation_alarms_and_names_the_signal() -> None:
    broken = 1_000
    data = rows(2_000, broken_from=broken)
    detector, scores = run(data)
    before, after = scores[: broken - BASELINE], scores[broken - BASELINE :]
    assert max(before) < ShiftDetector.on_threshold
    caught = [s >= ShiftDetector.on_threshold for s in after]
    assert caught.index(True) < 30
    assert sum(caught) / len(caught) > 0.9  # judged normal rows only teach the covariance
    assert detector.explain(data[-1])[0] == "flow"


def test_rows_outside_a_named_baseline_teach_nothing() -> None:
    detector = ShiftDetector(signals=SIGNALS)
    for i, x in enumerate(rows(600)):
        detector.learn_one(x, float(i))  # a live engine never told of a baseline
    assert not detector.baseline
    assert detector.idle()  # so the engine does not even hand it the rows
    detector.end_warmup()
    assert not detector.fitted


def test_too_short_a_baseline_fits_nothing() -> None:
    detector = ShiftDetector(signals=SIGNALS)
    for i, x in enumerate(rows(30)):
        detector.learn_baseline(x, float(i))
    detector.end_warmup()
    assert not detector.fitted
    assert detector.score_one(rows(1)[0], 31.0) == 0.0


def test_snapshot_round_trip_is_json_and_scores_alike() -> None:
    data = rows(1_000, broken_from=700)
    detector, _ = run(data[:600])
    restored = ShiftDetector.restore(json.loads(json.dumps(detector.snapshot())))
    for i, x in enumerate(data[600:], start=600):
        assert restored.score_one(x, float(i)) == pytest.approx(detector.score_one(x, float(i)))
        detector.learn_one(x, float(i))
        restored.learn_one(x, float(i))


def test_ledoit_wolf_shrinks_a_noisy_covariance_towards_the_identity() -> None:
    rng = np.random.default_rng(1)
    sample = rng.normal(size=(20, 10))
    shrunk, intensity = ledoit_wolf(sample)
    assert 0.0 < intensity <= 1.0
    raw = np.cov(sample, rowvar=False, bias=True)
    # Independent unit signals: the shrunk estimate is nearer the truth than the raw one.
    assert np.linalg.norm(shrunk - np.eye(10)) < np.linalg.norm(raw - np.eye(10))
    assert np.linalg.cond(shrunk) < np.linalg.cond(raw)
