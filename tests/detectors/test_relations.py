from __future__ import annotations

import json

import numpy as np

from detectors import REGISTRY
from detectors.relations import RelationsDetector
from simulators import CentrifugalPump
from simulators.faults import ImpellerWear
from tests.detectors.multivariate_helpers import HOUR, START, pump_rows, raised_at

SIGNALS = ("bearing_temp", "discharge_pressure", "flow", "motor_current", "vibration")
BASE = {
    "bearing_temp": 50.0,
    "discharge_pressure": 5.0,
    "flow": 100.0,
    "motor_current": 40.0,
    "vibration": 2.0,
}


def load_rows(n: int, seed: int = 0, broken_from: int | None = None):
    """Every signal follows one wandering load factor plus noise; from `broken_from` on, the
    current rises and the flow falls while the load stays put (each within its usual range)."""
    rng = np.random.default_rng(seed)
    load = 0.0
    for k in range(n):
        load = 0.999 * load + 0.05 * rng.normal()
        x = {s: v * (1.0 + 0.05 * load) + 0.005 * v * rng.normal() for s, v in BASE.items()}
        if broken_from is not None and k >= broken_from:
            x["motor_current"] += 0.04 * BASE["motor_current"]
            x["flow"] -= 0.04 * BASE["flow"]
        yield START + k, x


def small() -> RelationsDetector:
    return RelationsDetector(
        signals=SIGNALS,
        warmup=2_000,
        scale_halflife=5_000.0,
        cov_halflife=5_000.0,
        q_halflife=5_000.0,
    )


def test_registered() -> None:
    assert REGISTRY["relations"] is RelationsDetector


def test_quiet_while_signals_move_together() -> None:
    assert raised_at(small(), load_rows(12_000)) == []


def test_catches_current_rising_while_flow_falls() -> None:
    raised = raised_at(small(), load_rows(8_000, broken_from=6_000))
    assert raised
    assert START + 6_000 <= raised[0] < START + 6_060
    det = small()
    rows = list(load_rows(6_100, broken_from=6_000))
    raised_at(det, iter(rows))
    assert set(det.explain(rows[-1][1])[:2]) == {"flow", "motor_current"}


def test_catches_a_worn_impeller_long_before_any_limit() -> None:
    onset = START + 3 * HOUR
    fault = ImpellerWear(onset=onset, time_to_failure=6 * HOUR)
    det = RelationsDetector(signals=tuple(sorted(CentrifugalPump.signals)))
    raised = raised_at(det, pump_rows(4 * HOUR, fault=fault))
    assert raised
    assert onset <= raised[0] < onset + 0.1 * 6 * HOUR


def test_quiet_on_a_healthy_pump() -> None:
    det = RelationsDetector(signals=tuple(sorted(CentrifugalPump.signals)))
    assert raised_at(det, pump_rows(8 * HOUR, seed=2)) == []


def test_snapshot_round_trip() -> None:
    rows = list(load_rows(4_000))
    det = small()
    raised_at(det, iter(rows[:3_000]))
    copy = RelationsDetector.restore(json.loads(json.dumps(det.snapshot())))
    for ts, x in rows[3_000:]:
        assert copy.score_one(x, ts) == det.score_one(x, ts)
        det.learn_one(x, ts)
        copy.learn_one(x, ts)
