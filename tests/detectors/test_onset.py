"""The onset detector: once at the start of an episode, calibrated on noise, blind to scale."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from detectors import DEFAULT, REGISTRY, Debounce, Engine, InvalidInput, Transition
from detectors.checks import run_signal
from detectors.engine import common_score
from detectors.onset import OnsetDetector
from devices import Criticality, Equipment, Limits, Plant, Reading, Signal

SHIFT_AT = 3000


def scores(values: np.ndarray, period: float = 1.0) -> np.ndarray:
    detector = OnsetDetector(sample_period=period)
    return np.array(run_signal(detector, [(i * period, float(v)) for i, v in enumerate(values)]))


def onsets(result: np.ndarray, period: float = 1.0) -> list[int]:
    """Where the engine would raise a condition from these scores (the class's decision)."""
    decision = Debounce(
        OnsetDetector.on_threshold,
        OnsetDetector.off_threshold,
        OnsetDetector.on_delay,
        OnsetDetector.off_delay,
    )
    return [
        i
        for i, s in enumerate(result)
        if decision.update(float(s), i * period, 1) is Transition.RAISED
    ]


def shifted(seed: int = 5, n: int = 5000, by: float = 5.0) -> np.ndarray:
    values = np.random.default_rng(seed).normal(10.0, 1.0, n)
    values[SHIFT_AT:] += by
    return values


def test_registered_in_the_default_ensemble_for_a_bare_signal() -> None:
    assert REGISTRY["onset"] is OnsetDetector
    assert "onset" in DEFAULT
    detector = OnsetDetector.for_signal(Signal("flow", "m3/h", 300.0, Limits(), "t", "flow"))
    assert detector is not None
    assert detector.sample_period == 300.0
    # Where an engineer set limits, they judge: the twin of `limits`, which needs them.
    limited = Signal("flow", "m3/h", 1.0, Limits(warn_low=3.0), "t", "flow")
    assert OnsetDetector.for_signal(limited) is None


@pytest.mark.parametrize("by", [5.0, -5.0])
def test_a_level_shift_is_an_onset_at_its_first_sample_and_only_once(by: float) -> None:
    result = scores(shifted(by=by))
    found = onsets(result)
    assert SHIFT_AT in found
    # Quiet after it: nothing more while the new level is learned, and only zeros at first.
    assert [i for i in found if SHIFT_AT < i < SHIFT_AT + 2 * OnsetDetector.refractory] == []
    assert np.all(result[SHIFT_AT + 1 : SHIFT_AT + OnsetDetector.refractory + 1] == 0.0)
    # The shift's score is a notice: above the onset level, below what opens a work order.
    assert OnsetDetector.on_threshold <= result[SHIFT_AT] < 0.5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noise_raises_onsets_at_about_the_rate_its_level_says(seed: int) -> None:
    values = np.random.default_rng(seed).normal(10.0, 1.0, 20_000)
    found = onsets(scores(values))
    # 10 ** -onset_log10 is 1 in 1,000 samples; the refractory period lowers it further.
    assert len(found) < 2e-3 * len(values)
    assert np.all(scores(values) < 0.5)


def test_stronger_evidence_ranks_higher() -> None:
    small, large = scores(shifted(by=5.0)), scores(shifted(by=50.0))
    assert large[SHIFT_AT] > small[SHIFT_AT]


def test_scores_do_not_depend_on_the_signal_scale_or_offset() -> None:
    values = shifted()
    result = scores(values)
    assert np.allclose(scores(1000.0 * values + 5e4), result, atol=1e-9)
    assert np.allclose(scores(values / 1e3), result, atol=1e-9)


def test_a_snapshot_resumes_the_same_scores() -> None:
    values = shifted()
    detector = OnsetDetector(sample_period=1.0)
    for i, v in enumerate(values[: SHIFT_AT - 10]):
        detector.learn_one(float(v), float(i))
    resumed = OnsetDetector.restore(json.loads(json.dumps(detector.snapshot())))
    for i in range(SHIFT_AT - 10, len(values)):
        value, ts = float(values[i]), float(i)
        assert resumed.score_one(value, ts) == detector.score_one(value, ts)
        detector.learn_one(value, ts)
        resumed.learn_one(value, ts)


def test_non_finite_values_are_refused() -> None:
    detector = OnsetDetector()
    with pytest.raises(InvalidInput, match="non-finite"):
        detector.score_one(math.nan, 0.0)
    with pytest.raises(InvalidInput, match="non-finite"):
        detector.learn_one(math.inf, 0.0)


def test_the_engine_ranks_an_onset_on_the_common_scale_and_raises_it_once() -> None:
    signal = Signal("flow", "", 1.0, Limits(), "t", "flow")
    equipment = Equipment(
        id="X-1",
        name="X-1",
        type="recorded",
        criticality=Criticality.MEDIUM,
        team="",
        site="s",
        area="a",
        line="l",
        signals={"flow": signal},
    )
    plant = Plant(site="s", topic_template="{site}", equipment={"X-1": equipment}, source="test")
    engine = Engine(plant, ["onset"])
    values = shifted()
    ranked: list[float] = []
    findings = engine.process(
        [Reading("X-1", "flow", float(i), float(v)) for i, v in enumerate(values)], ranked
    )
    raised = [f.ts for f in findings if f.active]
    assert SHIFT_AT in raised
    assert [t for t in raised if SHIFT_AT < t < SHIFT_AT + 300] == []
    on = OnsetDetector.on_threshold
    assert ranked[SHIFT_AT] == pytest.approx(common_score(float(scores(values)[SHIFT_AT]), on))
    assert 0.5 <= ranked[SHIFT_AT] < 1.0
    assert common_score(on, on) == 0.5
    assert common_score(0.7, 0.5) == 0.7


def test_a_stream_that_is_often_unusual_stays_quiet_longer_after_an_onset() -> None:
    rng = np.random.default_rng(7)
    calm = rng.normal(10.0, 1.0, 20_000)
    spiky = calm.copy()
    # A burst every ~40 samples: the stream surprises itself a few times the nominal 1 in 100.
    bursts = rng.choice(np.arange(2_000, 20_000), size=450, replace=False)
    spiky[bursts] += rng.choice([-1.0, 1.0], size=bursts.size) * 8.0
    detectors = []
    for values in (calm, spiky):
        detector = OnsetDetector(sample_period=1.0)
        run_signal(detector, [(float(i), float(v)) for i, v in enumerate(values)])
        detectors.append(detector)
    calm_detector, spiky_detector = detectors
    assert calm_detector.quiet_after_onset() < 2 * OnsetDetector.refractory
    assert spiky_detector.quiet_after_onset() > 2 * OnsetDetector.refractory
    # Its onsets are spaced by the longer quiet: fewer than the bursts would give otherwise.
    found = onsets(scores(spiky))
    late = [i for i in found if i > 10_000]
    assert len(late) >= 1
    assert all(b - a > 2 * OnsetDetector.refractory for a, b in itertools.pairwise(late))


def evidence_and_scores(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The score of each sample's evidence (as if armed) and what the detector reports."""
    detector = OnsetDetector(sample_period=1.0)
    evidence, reported = [], []
    for i, v in enumerate(values):
        evidence.append(detector._score(float(v), float(i)))
        reported.append(detector.score_one(float(v), float(i)))
        detector.learn_one(float(v), float(i))
    return np.array(evidence), np.array(reported)


def test_a_burst_below_the_onset_level_is_reported_once_at_its_peak() -> None:
    values = np.random.default_rng(5).normal(10.0, 1.0, 4000)
    values[SHIFT_AT : SHIFT_AT + 4] += 2.0
    evidence, reported = evidence_and_scores(values)
    around = slice(SHIFT_AT - 10, SHIFT_AT + 100)
    peak = SHIFT_AT - 10 + int(np.argmax(evidence[around]))
    assert OnsetDetector.off_threshold < evidence[peak] < OnsetDetector.on_threshold
    # Later small bursts (after the evidence fell back) are reported at their own, lower peaks.
    notable = reported[around] > OnsetDetector.off_threshold
    assert np.flatnonzero(notable).tolist() == [peak + 1 - (SHIFT_AT - 10)]
    assert reported[peak + 1] == evidence[peak]


def test_a_burst_that_reaches_the_onset_level_is_reported_only_there() -> None:
    values = np.random.default_rng(5).normal(10.0, 1.0, 4000)
    values[SHIFT_AT : SHIFT_AT + 4] += 4.0
    evidence, reported = evidence_and_scores(values)
    first = SHIFT_AT + int(np.flatnonzero(evidence[SHIFT_AT:] >= OnsetDetector.on_threshold)[0])
    # The samples on the way up, above zero but below the onset level, report nothing.
    assert 0.0 < evidence[first - 1] < OnsetDetector.on_threshold
    assert np.flatnonzero(reported[SHIFT_AT - 10 : SHIFT_AT + 100]).tolist() == [
        first - (SHIFT_AT - 10)
    ]
    assert reported[first] == evidence[first]


def test_reporting_bursts_once_changes_no_onset() -> None:
    # Where a condition is raised depends only on the evidence while armed, as before bursts
    # were reported once: the alarms (and work orders) are those of the evidence itself.
    rng = np.random.default_rng(11)
    values = rng.normal(10.0, 1.0, 20_000)
    for at in rng.choice(np.arange(1_000, 19_000), size=40, replace=False):
        values[at : at + rng.integers(1, 20)] += rng.normal(0.0, 4.0)
    detector = OnsetDetector(sample_period=1.0)
    evidence, reported = [], []
    for i, v in enumerate(values):
        armed = detector.quiet == 0 and detector.armed
        evidence.append(detector._score(float(v), float(i)) if armed else 0.0)
        reported.append(detector.score_one(float(v), float(i)))
        detector.learn_one(float(v), float(i))
    assert len(onsets(np.array(reported))) >= 10
    assert onsets(np.array(reported)) == onsets(np.array(evidence))
