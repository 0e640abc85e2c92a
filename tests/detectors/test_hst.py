from __future__ import annotations

import json

from detectors import REGISTRY
from detectors.hst import HalfSpaceTreesDetector
from devices import Plant
from simulators import CentrifugalPump
from tests.detectors.multivariate_helpers import pump_rows

SIGNALS = CentrifugalPump.signals


def small() -> HalfSpaceTreesDetector:
    det = HalfSpaceTreesDetector(signals=SIGNALS, n_trees=5, height=6, scale_warmup=300)
    det.calibrator.warmup = 500
    return det


def run(det: HalfSpaceTreesDetector, rows: list[tuple[float, dict[str, float]]]) -> list[float]:
    scores = []
    for ts, x in rows:
        scores.append(det.score_one(x, ts))
        det.learn_one(x, ts)
    return scores


def test_registered_and_not_for_one_signal(demo_plant: Plant) -> None:
    assert REGISTRY["half_space_trees"] is HalfSpaceTreesDetector
    det = HalfSpaceTreesDetector.for_equipment(demo_plant.equipment["P-101"])
    assert det is not None
    assert len(det.signals) == 5


def test_same_seed_same_scores() -> None:
    rows = list(pump_rows(2_500))
    assert run(small(), rows) == run(small(), rows)


def test_quiet_on_healthy_rows_and_explains_by_the_most_displaced_signals() -> None:
    rows = list(pump_rows(3_000))
    det = small()
    assert max(run(det, rows)) < 0.5
    x = rows[-1][1]
    odd = dict(x, motor_current=x["motor_current"] + 6.0, flow=x["flow"] - 25.0)
    assert det.explain(odd)[0] in {"flow", "motor_current"}


def test_snapshot_is_json_and_round_trips() -> None:
    rows = list(pump_rows(2_500))
    det = small()
    run(det, rows[:2_000])
    copy = HalfSpaceTreesDetector.restore(json.loads(json.dumps(det.snapshot())))
    assert run(copy, rows[2_000:]) == run(det, rows[2_000:])
