"""Microseconds per row of each equipment detector on a 5-signal pump (score + learn).

.venv/bin/python -m pytest tests/detectors/test_multivariate_benchmarks.py -n 0 --benchmark-enable
"""

from __future__ import annotations

from typing import Any

import pytest

from detectors.base import EquipmentDetector
from detectors.hst import HalfSpaceTreesDetector
from detectors.regime import RegimeBaseline
from detectors.relations import RelationsDetector
from simulators import CentrifugalPump
from tests.detectors.multivariate_helpers import pump_rows

SIGNALS = CentrifugalPump.signals
ROWS = list(pump_rows(6_000))


def warm(det: EquipmentDetector) -> EquipmentDetector:
    for ts, x in ROWS[:5_000]:
        det.score_one(x, ts)
        det.learn_one(x, ts)
    return det


@pytest.mark.parametrize(
    "make",
    [
        lambda: RelationsDetector(signals=SIGNALS, warmup=1_000),
        lambda: RegimeBaseline(
            signals=SIGNALS, regime="motor_current", cell_warmup=500, band_warmup=500, settle=100
        ),
        lambda: HalfSpaceTreesDetector(signals=SIGNALS),
    ],
    ids=["relations", "regime_baseline", "half_space_trees"],
)
@pytest.mark.benchmark(group="equipment-detectors")
def test_microseconds_per_row(benchmark: Any, make: Any) -> None:
    det = warm(make())
    rows = ROWS[5_000:]

    def one_pass() -> None:
        for ts, x in rows:
            det.score_one(x, ts)
            det.learn_one(x, ts)

    benchmark.pedantic(one_pass, rounds=3, iterations=1)
    benchmark.extra_info["rows_per_round"] = len(rows)
