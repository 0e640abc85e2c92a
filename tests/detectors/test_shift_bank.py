"""The vectorised shift bank against the fitted `ShiftDetector` objects it mirrors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from detectors.shift import ShiftDetector
from detectors.shift_bank import ShiftBank
from tests.detectors.test_shift import BASELINE, SIGNALS, rows


def fitted(seed: int, **params: float) -> tuple[ShiftDetector, list[dict[str, float]]]:
    """A detector fitted on the first `BASELINE` rows; the rest break a correlation for odd
    seeds."""
    data = rows(1_500, seed=seed, broken_from=900 if seed % 2 else None)
    detector = ShiftDetector(signals=SIGNALS, refresh=20 + seed, **params)  # type: ignore[arg-type]
    for i, x in enumerate(data[:BASELINE]):
        detector.learn_baseline(x, float(i))
    detector.end_warmup()
    return detector, data[BASELINE:]


def test_bank_scores_and_learns_like_the_objects() -> None:
    pairs = [fitted(seed, cov_halflife=200.0 + 50 * seed) for seed in range(5)]
    objects = [d for d, _ in pairs]
    bank = ShiftBank([copy.deepcopy(d) for d in objects])
    rng = np.random.default_rng(1)
    learn = rng.random((len(objects), 1_100)) > 0.05
    expected, got = [], []
    for start in range(0, 1_100, 9):
        members, batch, mask = [], [], []
        for t in range(start, min(start + 9, 1_100)):
            for m, (_, data) in enumerate(pairs):
                members.append(m)
                batch.append([data[t][s] for s in SIGNALS])
                mask.append(bool(learn[m, t]))
                expected.append(objects[m].score_one(data[t], float(t)))
                if mask[-1]:
                    objects[m].learn_one(data[t], float(t))
        got.extend(bank.process(members, batch, mask))
    assert np.max(np.abs(np.array(got) - np.array(expected))) < 1e-9
    assert max(expected) >= ShiftDetector.on_threshold  # the broken ones alarmed
    for m, obj in enumerate(objects):
        mine, theirs = bank.detector(m).snapshot(), obj.snapshot()
        for name, value in theirs.items():
            if name != "signals" and isinstance(value, float | list):
                assert np.allclose(mine[name], value, rtol=1e-9, atol=1e-12), name
            else:
                assert mine[name] == value, name
    assert 0 < bank.nbytes // len(bank) < 2048


def test_only_fitted_detectors_are_members() -> None:
    waiting = ShiftDetector(signals=SIGNALS)
    assert not ShiftBank.accepts(waiting)
    with pytest.raises(ValueError, match="cannot hold"):
        ShiftBank([waiting])
