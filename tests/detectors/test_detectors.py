from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from detectors import (
    REGISTRY,
    Debounce,
    Detector,
    Engine,
    EwmaDrift,
    LimitDetector,
    Transition,
    surprise_score,
)
from devices import FindingKind, Limits, Plant, Quality, Reading, Severity, Signal
from forewarn import snapshots


def signal(**limits: float) -> Signal:
    return Signal("vibration", "mm/s", 1.0, Limits(**limits), "t", "vibration")


def test_surprise_score_is_calibrated_on_tail_probability() -> None:
    assert surprise_score(0.0) == pytest.approx(0.0)
    assert surprise_score(3.29) == pytest.approx(0.3, abs=0.01)
    assert surprise_score(-4.42) == pytest.approx(0.5, abs=0.01)
    assert surprise_score(7.0) == 1.0
    scores = [surprise_score(z) for z in np.linspace(0, 8, 50)]
    assert scores == sorted(scores)


def test_limit_score_anchors() -> None:
    det = LimitDetector.for_signal(
        signal(warn_high=4.5, alarm_high=7.1, warn_low=1.0, deadband=0.2)
    )
    assert det is not None
    assert det.score_one(2.0, 0) == 0.0
    assert det.score_one(4.5, 0) == 0.5
    assert det.score_one(5.8, 0) == pytest.approx(0.75)
    assert det.score_one(7.1, 0) == 1.0
    assert det.score_one(4.3, 0) == pytest.approx(0.4)
    assert det.score_one(1.0, 0) == 0.5
    assert det.severity(det.score_one(7.2, 0)) is Severity.ALARM
    assert det.severity(det.score_one(5.0, 0)) is Severity.WARNING
    assert LimitDetector.for_signal(signal()) is None


def test_limit_only_alarm_scores_one_at_it() -> None:
    det = LimitDetector.for_signal(signal(alarm_high=10.0))
    assert det is not None
    assert det.score_one(9.0, 0) < 0.5
    assert det.score_one(10.0, 0) == 1.0


def test_debounce_hysteresis_and_delays() -> None:
    dec = Debounce(on=0.5, off=0.3, on_delay=2.0, off_delay=1.0)
    events = [
        dec.update(s, t, level)
        for t, (s, level) in enumerate(
            [
                (0.6, 1),
                (0.2, 1),
                (0.6, 1),
                (0.6, 1),
                (0.6, 1),
                (0.9, 2),
                (0.4, 1),
                (0.2, 1),
                (0.2, 1),
                (0.6, 1),
            ]
        )
    ]
    assert events == [
        None,
        None,
        None,
        None,
        Transition.RAISED,
        Transition.WORSENED,
        None,
        None,
        Transition.CLEARED,
        None,
    ]


def test_drift_quiet_on_stationary_noise_and_catches_a_ramp() -> None:
    rng = np.random.default_rng(7)
    det = EwmaDrift()
    scores = []
    for i, x in enumerate(2.0 + 0.05 * rng.standard_normal(20_000)):
        scores.append(det.score_one(float(x), i))
        det.learn_one(float(x), i)
    assert max(scores) < 0.5
    # a slow ramp of 0.1 mm/s per hour (3 noise sd per 1.5 h) is caught within the hour
    raised_at = None
    for i in range(7200):
        x = 2.0 + 0.1 * i / 3600 + 0.05 * rng.standard_normal()
        if det.score_one(x, 20_000 + i) >= 0.5:
            raised_at = i
            break
        det.learn_one(x, 20_000 + i)
    assert raised_at is not None
    assert raised_at < 3600


def test_detector_snapshot_round_trip_gives_identical_scores() -> None:
    rng = np.random.default_rng(1)
    data = [float(x) for x in 5.0 + rng.standard_normal(3000).cumsum() * 0.01]
    for cls in REGISTRY.values():
        if not issubclass(cls, Detector):
            continue
        # a signal with limits, or without for the detectors that judge only those (onset)
        det = cls.for_signal(signal(warn_high=6.0, alarm_high=8.0)) or cls.for_signal(signal())
        assert det is not None, cls.name
        for i, x in enumerate(data[:2000]):
            det.score_one(x, i)
            det.learn_one(x, i)
        clone = type(det).restore(json.loads(json.dumps(det.snapshot())))
        for i, x in enumerate(data[2000:], start=2000):
            assert clone.score_one(x, i) == det.score_one(x, i)
            clone.learn_one(x, i)
            det.learn_one(x, i)


def readings(equipment: str, name: str, values: list[float], start: float = 0.0) -> list[Reading]:
    return [Reading(equipment, name, start + i, v) for i, v in enumerate(values)]


def test_engine_one_episode_is_one_finding_then_worsen_and_clear(demo_plant: Plant) -> None:
    engine = Engine(demo_plant, ["limits"])
    wobble = [4.45, 4.55] * 20  # noise around the warning limit must not chatter
    dip = [2.0] * 100  # back inside the limits for less than the off delay: the same episode
    values = [2.0] * 10 + wobble + [7.5] * 5 + dip + [5.0] * 5 + [2.0] * 700
    findings = engine.process(readings("P-101", "vibration", values))
    assert [(f.active, f.severity) for f in findings] == [
        (True, Severity.WARNING),
        (True, Severity.ALARM),
        (False, Severity.WARNING),
    ]
    raised = findings[0]
    assert raised.kind is FindingKind.LIMIT
    assert raised.signals == ("vibration",)
    assert raised.detector == "limits"
    assert "above its warning limit 4.5" in raised.summary
    assert raised.evidence["vibration"][-1] == (raised.ts, 4.55)
    assert findings[1].ts == 50
    off_delay = LimitDetector.off_delay
    assert findings[2].ts == 10 + 40 + 5 + 100 + 5 + off_delay


def test_engine_skips_out_of_order_bad_and_unknown(demo_plant: Plant) -> None:
    engine = Engine(demo_plant)
    batch = [
        Reading("P-101", "flow", 10.0, 90.0),
        Reading("P-101", "flow", 9.0, 90.0),
        Reading("P-101", "flow", 11.0, 90.0, Quality.BAD),
        Reading("P-101", "flow", 12.0, math.nan),
        Reading("P-999", "flow", 13.0, 90.0),
        Reading("P-101", "flow", 14.0, 90.0, Quality.UNCERTAIN),
    ]
    engine.process(batch)
    s = engine.stats
    assert (s.readings, s.out_of_order, s.bad_quality, s.not_finite, s.unknown_stream) == (
        2,
        1,
        1,
        1,
        1,
    )


def test_engine_snapshot_resume_matches_uninterrupted_run(demo_plant: Plant) -> None:
    rng = np.random.default_rng(3)
    values = list(2.0 + 0.05 * rng.standard_normal(4000))
    values += [v + 0.0004 * i for i, v in enumerate(2.0 + 0.05 * rng.standard_normal(4000))]
    batch = readings("P-102", "vibration", [float(v) for v in values])

    straight = Engine(demo_plant)
    expected = straight.process(batch)

    first = Engine(demo_plant)
    got = first.process(batch[:5000])
    snapshot = snapshots.decode(snapshots.encode(first.snapshot()))  # as the service stores it
    resumed = Engine(demo_plant)
    assert resumed.restore(copy.deepcopy(snapshot)) == sum(len(eq.signals) for eq in demo_plant)
    got += resumed.process(batch[5000:])
    assert [(f.ts, f.detector, f.active, f.severity) for f in got] == [
        (f.ts, f.detector, f.active, f.severity) for f in expected
    ]
    assert any(f.kind is FindingKind.DRIFT for f in expected)
