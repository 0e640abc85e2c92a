from __future__ import annotations

import json

import pytest

from detectors import REGISTRY
from detectors.regime import RegimeBaseline, regime_signal_of
from devices import Plant
from simulators import CentrifugalPump
from simulators.faults import ImpellerWear
from simulators.operation import Operation, Shift
from tests.detectors.multivariate_helpers import DAY, HOUR, START, pump_rows, raised_at


def pump_baseline() -> RegimeBaseline:
    return RegimeBaseline(signals=CentrifugalPump.signals, regime="motor_current")


def test_registered_and_configured_from_the_plant(demo_plant: Plant) -> None:
    assert REGISTRY["regime_baseline"] is RegimeBaseline
    pump = demo_plant.equipment["P-101"]
    assert regime_signal_of(pump) == "motor_current"
    det = RegimeBaseline.for_equipment(pump)
    assert det is not None
    assert det.regime == "motor_current"
    assert set(det.signals) == set(pump.signals)


def test_quiet_on_a_healthy_pump_over_three_days_with_its_daily_cycle() -> None:
    assert raised_at(pump_baseline(), pump_rows(3 * DAY)) == []


def test_quiet_when_a_pump_starts_and_stops_every_day() -> None:
    shifts = Operation(shifts=(Shift(6, 22),))
    assert raised_at(pump_baseline(), pump_rows(3 * DAY, operation=shifts)) == []


def test_catches_a_worn_impeller_long_before_any_limit() -> None:
    onset = START + 2 * DAY
    fault = ImpellerWear(onset=onset, time_to_failure=6 * HOUR)
    raised = raised_at(pump_baseline(), pump_rows(2 * DAY + 3 * HOUR, fault=fault))
    assert raised, "the impeller wear was not caught"
    delay = raised[0] - onset
    # Flow crosses its warning limit (50 m3/h) at about 64 % of the time to failure.
    assert delay < 0.3 * 6 * HOUR


def test_snapshot_round_trip_scores_identically() -> None:
    det = pump_baseline()
    rows = list(pump_rows(DAY + 2 * HOUR))
    for ts, x in rows[:DAY]:
        det.score_one(x, ts)
        det.learn_one(x, ts)
    copy = RegimeBaseline.restore(json.loads(json.dumps(det.snapshot())))
    for ts, x in rows[DAY:]:
        assert copy.score_one(x, ts) == det.score_one(x, ts)
        det.learn_one(x, ts)
        copy.learn_one(x, ts)
    assert copy.explain(rows[-1][1]) == det.explain(rows[-1][1])


def test_a_single_signal_without_regime_still_has_hour_cells() -> None:
    det = RegimeBaseline(signals=("temp",), cell_warmup=10, band_warmup=10, settle=0)
    for k in range(48 * 20):
        ts = START + k * 180.0
        assert det.score_one({"temp": 20.0}, ts) == pytest.approx(0.0, abs=0.05)
        det.learn_one({"temp": 20.0 + 0.01 * (k % 3)}, ts)
    assert det.score_one({"temp": 30.0}, START) > 0.5
    assert det.explain({"temp": 30.0}) == ("temp",)
