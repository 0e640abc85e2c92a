"""A small plant and a deterministic series for the snapshot tests: written once by forewarn's
version-3 code into `data/detectors-v3.json` (`python tests/forewarn/snapshot_series.py OUT`, on
a checkout of that version), read back by today's code in `test_snapshot_format.py`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from detectors import Engine
from devices import Plant, Reading, plant_from_dict

ENSEMBLE = ("limits", "ewma_drift", "zscore", "stale", "flatline", "spike", "shift")
"""Banked detectors, one outside the bank (`spike`) and an equipment detector (`shift`)."""
T0 = 1_764_000_000.0
LEARNED = 1_500
"""Seconds of the series the snapshot was taken after."""
SECONDS = 3_000


def plant() -> Plant:
    """Two pumps of the library; P-2 never reports (its clocks stay at -inf)."""
    equipment = [{"id": i, "type": "centrifugal_pump", "team": "m"} for i in ("P-1", "P-2")]
    line = {"id": "l", "equipment": equipment}
    return plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})


def series() -> list[list[Reading]]:
    """One batch a second of P-1's signals: healthy, then its bearing warming and a spike."""
    rng = np.random.default_rng(12)
    signals = list(plant().equipment["P-1"].signals)
    batches = []
    for k in range(SECONDS):
        values = 50.0 + rng.standard_normal(len(signals))
        if k > 2_000:
            values[1] += 0.05 * (k - 2_000)
        if k == 2_200:
            values[0] += 40.0
        batches.append(
            [Reading("P-1", s, T0 + k, float(v)) for s, v in zip(signals, values, strict=True)]
        )
    return batches


def learned() -> Engine:
    engine = Engine(plant(), ENSEMBLE)
    for batch in series()[:LEARNED]:
        engine.process(batch)
    return engine


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(learned().snapshot()), encoding="utf-8")
