"""The vectorised relations bank against the `RelationsDetector` objects it mirrors."""

from __future__ import annotations

import numpy as np

from detectors.relations import RelationsDetector
from detectors.relations_bank import RelationsBank

PUMP = ("current", "flow", "pressure", "speed", "temp")
FAN = ("current", "speed", "vibration")


def detectors() -> list[RelationsDetector]:
    """Pumps (five signals, a speed regime that stops now and then) and fans (three, no regime),
    with short warm-ups and refreshes so the rows below cross every phase."""
    made = []
    for i in range(6):
        pump = i % 2 == 0
        made.append(
            RelationsDetector(
                signals=PUMP if pump else FAN,
                warmup=300 + 20 * i,
                refresh=25 + i,
                scale_halflife=800.0,
                cov_halflife=800.0,
                q_halflife=800.0,
                regime="speed" if pump else "",
                settle=40,
                regime_halflife=30.0,
            )
        )
    return made


def rows(rng: np.random.Generator, member: int, count: int) -> list[list[float]]:
    """Signals following one wandering load; the pumps stop twice; from two thirds on, member 0's
    and 3's current rises while the flow (or speed) falls: a broken relation."""
    k = 5 if member % 2 == 0 else 3
    base = np.array([40.0, 100.0, 5.0, 1450.0, 50.0][:k] if k == 5 else [12.0, 900.0, 2.0])
    load, out = 0.0, []
    for t in range(count):
        load = 0.99 * load + 0.05 * rng.normal()
        x = base * (1.0 + 0.05 * load) + 0.005 * base * rng.normal(size=k)
        if k == 5 and (count // 4 < t < count // 4 + 30 or count // 2 < t < count // 2 + 10):
            x[3] = 0.0  # stopped
        if member in (0, 3) and t > 2 * count // 3:
            x[0] += 0.06 * base[0]
            x[1] -= 0.06 * base[1]
        out.append(x.tolist())
    return out


def test_bank_scores_and_learns_like_the_objects() -> None:
    rng = np.random.default_rng(3)
    objects = detectors()
    bank = RelationsBank(detectors())
    count = 1500
    per_member = [rows(rng, m, count) for m in range(len(objects))]
    learn = rng.random((len(objects), count)) > 0.03
    expected, got = [], []
    for start in range(0, count, 7):  # batches of seven rows of every member, interleaved
        members, batch, mask = [], [], []
        for t in range(start, min(start + 7, count)):
            for m in range(len(objects)):
                members.append(m)
                batch.append(per_member[m][t])
                mask.append(bool(learn[m, t]))
        for m, row, learned in zip(members, batch, mask, strict=True):
            x = dict(zip(objects[m].signals, row, strict=True))
            expected.append(objects[m].score_one(x, 0.0))
            if learned:
                objects[m].learn_one(x, 0.0)
        got.extend(bank.process(members, batch, mask))
    assert np.max(np.abs(np.array(got) - np.array(expected))) < 1e-9
    assert max(expected) >= 0.5  # the broken relations were caught, so judging was compared
    assert sum(s > 0 for s in expected) > 1000
    for m, obj in enumerate(objects):
        twin = bank.detector(m)
        mine, theirs = twin.snapshot(), obj.snapshot()
        for name, value in theirs.items():
            if name != "signals" and isinstance(value, float | list):
                assert np.allclose(mine[name], value, rtol=1e-9, atol=1e-12), name
            else:
                assert mine[name] == value, name
        assert twin.explain(dict(zip(obj.signals, per_member[m][-1], strict=True))) == obj.explain(
            dict(zip(obj.signals, per_member[m][-1], strict=True))
        )


def test_training_rows_are_learned_and_never_scored() -> None:
    (reference,) = detectors()[:1]
    bank = RelationsBank([reference])
    training = rows(np.random.default_rng(4), 0, 400)
    scores = bank.process([0] * 400, training, [True] * 400, score=False)
    assert scores == [0.0] * 400
    for row in training:
        reference.learn_one(dict(zip(reference.signals, row, strict=True)), 0.0)
    assert bank.detector(0).n == reference.n > 200


def test_nbytes_counts_every_members_arrays() -> None:
    one, six = RelationsBank(detectors()[:1]), RelationsBank(detectors())
    assert 0 < one.nbytes < six.nbytes
    assert six.nbytes // len(six) < 2048
