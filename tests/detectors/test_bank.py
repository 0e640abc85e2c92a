"""The vectorised bank against the object detectors it mirrors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from detectors.bank import FAMILY, SENSOR_CHECKS, UnivariateBank
from detectors.base import Detector
from detectors.cusum import Cusum
from detectors.drift import EwmaDrift
from detectors.errors import DetectorError, InvalidInput, SnapshotError
from detectors.health import Flatline, Noise, PhysicalRange, StaleSensor
from detectors.limits import LimitDetector
from detectors.rate import RateOfChange
from detectors.zscore import EwmaZScore
from devices import Limits, Signal

STREAMS = 12


def short_memory(i: int) -> dict[str, Detector | None]:
    """Detectors with short warmups and half-lives, so a few thousand samples per stream cross
    warmups, clip departures and make CUSUM accept shifts; every third stream has no limits."""
    return {
        "limits": (
            LimitDetector(warn_high=52.0, alarm_high=55.0, warn_low=45.0, deadband=0.5)
            if i % 3
            else None
        ),
        "ewma_drift": EwmaDrift(fast_halflife=5, slow_halflife=50 + i, warmup=40),
        "zscore": EwmaZScore(halflife=30, warmup=20 + i),
        "rate_of_change": RateOfChange(halflife=3, variance_halflife=100, warmup=30),
        "cusum": Cusum(
            baseline_halflife=100, warmup=50, h=6.0, relearn_after=20 + i, recent_halflife=5
        ),
    }


def faulty_streams(
    rng: np.random.Generator, samples: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interleaved readings of `STREAMS` streams with jittered timestamps, level shifts and
    spikes; each stream's readings in time order."""
    streams = np.repeat(np.arange(STREAMS), samples)
    ts = np.tile(np.arange(samples, dtype=float), STREAMS) + rng.random(STREAMS * samples) * 0.9
    values = 50.0 + rng.standard_normal(STREAMS * samples)
    for s in range(STREAMS):
        mine = values[streams == s]
        mine[samples // 3 + 50 * s :] += (s % 4) * 1.5
        mine[2 * samples // 3 : 2 * samples // 3 + 10] += 8.0 * (s % 2)
        values[streams == s] = mine
    order = np.argsort(ts, kind="stable")
    return streams[order], values[order], ts[order]


def reference(
    objects: list[dict[str, Detector | None]],
    streams: np.ndarray,
    values: np.ndarray,
    ts: np.ndarray,
    learn: np.ndarray,
    names: tuple[str, ...] = FAMILY,
) -> np.ndarray:
    scores = np.zeros((len(streams), len(names)))
    for i in range(len(streams)):
        x, t = float(values[i]), float(ts[i])
        for j, name in enumerate(names):
            det = objects[streams[i]][name]
            if det is not None:
                scores[i, j] = det.score_one(x, t)
                if learn[i]:
                    det.learn_one(x, t)
    return scores


def test_bank_scores_and_learns_exactly_like_the_objects() -> None:
    rng = np.random.default_rng(5)
    streams, values, ts = faulty_streams(rng, 2000)
    learn = rng.random(len(streams)) > 0.05
    objects = [short_memory(i) for i in range(STREAMS)]
    expected = reference(objects, streams, values, ts, learn)

    bank = UnivariateBank()
    assert bank.add_streams(short_memory(i) for i in range(STREAMS)).tolist() == list(
        range(STREAMS)
    )
    got = []
    # uneven batches, each holding several readings of every stream
    bounds = [0, 1, 2, 500, 997, 5000, 12_000, 17_777, len(streams)]
    for start, stop in itertools.pairwise(bounds):
        sl = slice(start, stop)
        got.append(bank.process(streams[sl], values[sl], ts[sl], learn[sl]))
    scores = np.vstack(got)

    assert np.max(np.abs(scores - expected)) < 1e-9
    # the faults were seen, so the comparison covered warmups, clipping and CUSUM restarts
    assert ((expected >= 0.5).sum(axis=0) > 0).all()
    for s in range(STREAMS):
        for name in FAMILY:
            obj, twin = objects[s][name], bank.detector(s, name)
            assert (twin is None) == (obj is None)
            if obj is not None and twin is not None:
                assert twin.snapshot() == obj.snapshot()


def sensor_checks(i: int) -> dict[str, Detector | None]:
    """Short warm-ups and runs, so stuck values, gaps, noisy stretches and impossible readings
    all score; every fourth stream has no physical range and every third treats a value stuck
    at zero as rest."""
    return {
        "stale": StaleSensor(sample_period=1.0, factor=5.0, floor=8.0 + i, gap_halflife=20.0),
        "flatline": Flatline(
            min_samples=5, min_duration=4.0, warmup=50, memory=500.0, zero_is_rest=i % 3 == 0
        ),
        "noise": Noise(
            window=8 + i % 3,
            warmup=60,
            warmup_duration=50.0,
            min_samples=5,
            min_duration=4.0,
            rise=0.01,
            memory=200.0 + 10 * i,
        ),
        "physical_range": (
            None
            if i % 4 == 3
            else PhysicalRange(
                low=0.0, high=100.0 if i % 2 else None, slack_low=bool(i % 2), slack=0.5
            )
        ),
    }


def sensor_faults(rng: np.random.Generator, samples: int) -> tuple[np.ndarray, ...]:
    """Interleaved readings with silent stretches, stuck runs (some at zero), a stretch ten
    times noisier, values below zero and above 100, and rounding that repeats values now and
    then."""
    streams, values, ts = [], [], []
    for s in range(STREAMS):
        t = np.cumsum(1.0 + rng.random(samples) * 0.2)
        t[samples // 2 :] += 30.0 * (s % 3)  # an outage of 30 or 60 s
        v = np.round(50.0 + 5.0 * rng.standard_normal(samples), 1 + s % 2)
        stuck = slice(samples // 4 + 7 * s, samples // 4 + 7 * s + 40)
        v[stuck] = 0.0 if s % 3 == 0 else v[stuck.start]
        noisy = slice(samples // 2 + 5 * s, samples // 2 + 5 * s + 60)
        v[noisy] = np.round(50.0 + 50.0 * rng.standard_normal(60), 1)
        v[3 * samples // 4 : 3 * samples // 4 + 5] = -3.0 if s % 2 else 140.0
        streams.append(np.full(samples, s))
        values.append(v)
        ts.append(t)
    order = np.argsort(np.concatenate(ts), kind="stable")
    return tuple(np.concatenate(a)[order] for a in (streams, values, ts))


def test_bank_sensor_checks_score_learn_and_judge_silence_like_the_objects() -> None:
    rng = np.random.default_rng(7)
    streams, values, ts = sensor_faults(rng, 600)
    learn = rng.random(len(streams)) > 0.05
    objects = [sensor_checks(i) for i in range(STREAMS)]
    bank = UnivariateBank(SENSOR_CHECKS)
    bank.add_streams(sensor_checks(i) for i in range(STREAMS))
    expected, got, silences = [], [], []
    for start, stop in itertools.pairwise([0, 3, 700, 2500, 4000, len(streams)]):
        sl = slice(start, stop)
        expected.append(
            reference(objects, streams[sl], values[sl], ts[sl], learn[sl], SENSOR_CHECKS)
        )
        got.append(bank.process(streams[sl], values[sl], ts[sl], learn[sl]))
        now = float(ts[stop - 1]) + 25.0
        silences.append(
            (
                [objects[s]["stale"].score_silence(now) for s in range(STREAMS)],  # type: ignore[union-attr]
                bank.silence(now)["stale"].tolist(),
            )
        )
    assert np.max(np.abs(np.vstack(got) - np.vstack(expected))) < 1e-12  # numpy's log10
    scored = (np.vstack(expected) >= 0.5).sum(axis=0)
    assert min(scored[1:]) > 0  # stuck runs and impossible values were judged
    for by_object, by_bank in silences:
        assert by_bank == by_object
    assert any(score >= 0.5 for by_object, _ in silences for score in by_object)
    for s in range(STREAMS):
        for name in SENSOR_CHECKS:
            obj, twin = objects[s][name], bank.detector(s, name)
            assert (twin is None) == (obj is None)
            if obj is not None and twin is not None:
                assert twin.snapshot() == obj.snapshot()
    assert UnivariateBank(("zscore",)).silence(1.0) == {}


def test_bank_snapshot_resumes_identically() -> None:
    rng = np.random.default_rng(6)
    streams, values, ts = faulty_streams(rng, 600)
    half = len(streams) // 2
    straight = UnivariateBank()
    straight.add_streams(short_memory(i) for i in range(STREAMS))
    expected = straight.process(streams, values, ts)

    first = UnivariateBank()
    first.add_streams(short_memory(i) for i in range(STREAMS))
    head = first.process(streams[:half], values[:half], ts[:half])
    resumed = UnivariateBank.restore(json.loads(json.dumps(first.snapshot(), allow_nan=False)))
    tail = resumed.process(streams[half:], values[half:], ts[half:])
    assert np.array_equal(np.vstack([head, tail]), expected)
    assert resumed.snapshot() == straight.snapshot()


def test_bank_sensor_checks_snapshot_resumes_identically_within_an_episode() -> None:
    rng = np.random.default_rng(8)
    streams, values, ts = sensor_faults(rng, 600)
    straight = UnivariateBank(SENSOR_CHECKS)
    straight.add_streams(sensor_checks(i) for i in range(STREAMS))
    expected = straight.process(streams, values, ts)

    cut = int(np.searchsorted(ts, ts[streams == 0][330]))  # stream 0 is in its noisy stretch
    first = UnivariateBank(SENSOR_CHECKS)
    first.add_streams(sensor_checks(i) for i in range(STREAMS))
    head = first.process(streams[:cut], values[:cut], ts[:cut])
    noise = first.detector(0, "noise")
    assert isinstance(noise, Noise)
    assert noise.loud > 0
    saved = json.loads(json.dumps(first.snapshot(), allow_nan=False))
    resumed = UnivariateBank.restore(saved)
    tail = resumed.process(streams[cut:], values[cut:], ts[cut:])
    assert np.array_equal(np.vstack([head, tail]), expected)
    assert resumed.snapshot() == straight.snapshot()


def test_unlearned_readings_are_scored_but_change_nothing() -> None:
    bank = UnivariateBank(("zscore", "cusum"))
    bank.add_streams([{"zscore": EwmaZScore(warmup=5), "cusum": Cusum(warmup=5)}] * 2)
    bank.process(np.zeros(50, dtype=int), 1.0 + 0.1 * np.sin(np.arange(50)), np.arange(50.0))
    before = bank.snapshot()
    scores = bank.process([0, 1, 0], [9.0, 9.0, 9.5], [50.0, 0.0, 51.0], learn=[False] * 3)
    assert scores[0, 0] > 0.5
    assert scores[1].tolist() == [0.0, 0.0]  # stream 1 is still warming up
    assert bank.snapshot() == before


def test_a_non_finite_reading_rejects_the_batch_untouched() -> None:
    bank = UnivariateBank()
    bank.add_streams([short_memory(1)])
    bank.process(np.zeros(100, dtype=int), np.full(100, 50.0), np.arange(100.0))
    before = bank.snapshot()
    for value, ts in ((np.nan, 101.0), (np.inf, 101.0), (50.0, np.nan)):
        with pytest.raises(InvalidInput, match="reading 1 of the batch"):
            bank.process([0, 0], [50.0, value], [100.0, ts])
    assert bank.snapshot() == before


def test_streams_from_signals_and_what_applies() -> None:
    with_limits = Signal("v", "mm/s", 1.0, Limits(warn_high=4.5, alarm_high=7.1), "t", "v")
    without = Signal("flow", "m3/h", 1.0, Limits(), "t", "flow")
    bank = UnivariateBank()
    assert bank.add_signals([with_limits, without]).tolist() == [0, 1]
    assert len(bank) == 2
    assert bank.applies()[:, 0].tolist() == [True, False]
    assert bank.applies()[:, 1:].all()
    scores = bank.process([0, 1], [7.5, 7.5], [0.0, 0.0])
    assert scores[:, 0].tolist() == [1.0, 0.0]
    assert bank.detector(1, "limits") is None
    assert bank.detector(0, "limits") == LimitDetector.for_signal(with_limits)
    assert bank.nbytes / len(bank) <= 2048


def test_bank_refuses_what_it_cannot_do() -> None:
    with pytest.raises(DetectorError, match="no vectorised form of 'isolation_forest'"):
        UnivariateBank(("zscore", "isolation_forest"))
    bank = UnivariateBank(("zscore",))
    bank.add_streams([{"zscore": EwmaZScore()}])
    with pytest.raises(DetectorError, match="add the streams to the bank first"):
        bank.process([1], [1.0], [0.0])
    with pytest.raises(DetectorError, match="one length"):
        bank.process([0, 0], [1.0], [0.0, 1.0])
    with pytest.raises(DetectorError, match="leave them out"):
        bank.add_streams([{"cusum": Cusum()}])
    with pytest.raises(DetectorError, match="takes EwmaZScore"):
        bank.add_streams([{"zscore": Cusum()}])
    with pytest.raises(SnapshotError, match="version"):
        UnivariateBank.restore({"version": 0})
    assert bank.process([], [], []).shape == (0, 1)


def test_a_snapshot_from_before_a_detector_gained_fields_restores_them_at_their_defaults() -> None:
    bank = UnivariateBank(("stale",))
    bank.add_streams([{"stale": StaleSensor(sample_period=5.0)}, {"stale": None}])
    bank.process([0, 0], [1.0, 1.0], [0.0, 5.0])
    saved = json.loads(json.dumps(bank.snapshot()))
    old = StaleSensor().snapshot()
    for name in ("deliveries", "lateness", "judged_at", "lateness_factor", "lateness_halflife"):
        del saved["columns"]["stale"]["fields"][name], old[name]
    restored = UnivariateBank.restore(saved).detector(0, "stale")
    assert isinstance(restored, StaleSensor)
    assert (restored.sample_period, restored.last_ts, restored.typical_gap) == (5.0, 5.0, 5.0)
    assert (restored.lateness, restored.lateness_factor, restored.judged_at) == (0.0, 3.0, None)
    assert StaleSensor.restore(old) == StaleSensor()
