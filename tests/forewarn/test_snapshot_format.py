"""The detector snapshot as the stores keep it: a restored engine goes on as the one never
stopped, bit for bit; forewarn's version-3 snapshots still restore; a damaged one is ignored."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from detectors import Engine, SnapshotError
from devices import Finding
from forewarn import snapshots
from tests.forewarn.snapshot_series import ENSEMBLE, LEARNED, learned, plant, series

V3 = Path(__file__).parent / "data" / "detectors-v3.json"


def rest(engine: Engine) -> list[Finding]:
    return [f for batch in series()[LEARNED:] for f in engine.process(batch)]


def unbroken() -> tuple[Engine, list[Finding]]:
    engine = learned()
    return engine, rest(engine)


def test_a_restored_engine_finds_what_the_unbroken_one_finds(tmp_path: Path) -> None:
    store = snapshots.FileSnapshots(tmp_path / "detectors.json")
    store.save(learned().snapshot())
    resumed = Engine(plant(), ENSEMBLE)
    assert snapshots.restore_from(resumed, store) == 10
    straight, expected = unbroken()
    got = rest(resumed)
    assert {f.detector for f in expected} >= {"limits", "zscore"}
    assert got == expected
    assert snapshots.encode(resumed.snapshot()) == snapshots.encode(straight.snapshot())


def test_arrays_keep_nan_infinities_and_negative_zero_bit_for_bit(tmp_path: Path) -> None:
    state = learned().snapshot()
    assert np.isneginf(state["last_ts"]).sum() == 5  # P-2 never reported
    assert np.isnan(state["bank"]["columns"]["limits"]["fields"]["alarm_high"]).any()
    special = np.array([math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308])
    state["evidence"]["value"][: special.size] = special
    store = snapshots.FileSnapshots(tmp_path / "detectors.json")
    store.save(state)
    loaded = store.load()
    assert loaded is not None
    assert loaded["evidence"]["value"][: special.size].tobytes() == special.tobytes()
    engine = Engine(plant(), ENSEMBLE)
    engine.restore(loaded)
    again = engine.snapshot()
    for path in (("last_ts",), ("evidence", "value"), ("trend", "start"), ("decisions", "spike")):
        here, there = again, state
        for key in path:
            here, there = here.get(key, {}), there.get(key, {})
        if isinstance(there, np.ndarray):
            assert here.tobytes() == there.tobytes(), path
    for name, column in state["bank"]["columns"].items():
        for field, values in column["fields"].items():
            got = again["bank"]["columns"][name]["fields"][field]
            assert got.tobytes() == values.tobytes(), (name, field)


def test_a_version_3_snapshot_restores_as_it_was_taken() -> None:
    """`data/detectors-v3.json` was written by forewarn's version-3 code after the series'
    first `LEARNED` seconds: restored, the engine goes on as the one that never stopped."""
    saved = snapshots.FileSnapshots(V3).load()
    assert saved is not None
    assert saved["version"] == 3
    resumed = Engine(plant(), ENSEMBLE)
    assert resumed.restore(saved) == 10
    straight, expected = unbroken()
    assert rest(resumed) == expected
    assert snapshots.encode(resumed.snapshot()) == snapshots.encode(straight.snapshot())


def test_an_unknown_version_says_to_delete_the_file() -> None:
    with pytest.raises(SnapshotError, match="delete the snapshot file"):
        Engine(plant(), ENSEMBLE).restore({"version": 2, "streams": {}, "equipment": {}})


def damaged(text: str) -> list[str]:
    """Ways to damage a snapshot's text."""
    state = json.loads(text)
    wrong_count = json.loads(text)
    wrong_count["evidence"]["count"] = state["trend"]["closed_count"]  # another array's
    bad_base64 = json.loads(text)
    bad_base64["last_ts"]["data"] = "not base64!"
    short = json.loads(text)
    short["decisions"]["limits"]["shape"] = [3, 7]
    return [
        text[: len(text) // 2],  # truncated: a full disk, a copy cut short
        "",
        json.dumps(wrong_count),
        json.dumps(bad_base64),
        json.dumps(short),
        json.dumps([1, 2]),
    ]


def test_a_damaged_snapshot_is_ignored_with_a_warning_and_learning_starts_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "detectors.json"
    store = snapshots.FileSnapshots(path)
    store.save(learned().snapshot())
    fresh = snapshots.encode(Engine(plant(), ENSEMBLE).snapshot())
    for text in damaged(path.read_text(encoding="utf-8")):
        path.write_text(text, encoding="utf-8")
        engine = Engine(plant(), ENSEMBLE)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="forewarn.snapshots"):
            assert snapshots.restore_from(engine, store) == 0
        assert "ignoring detector snapshot" in caplog.text
        assert "detectors start learning afresh" in caplog.text
        assert snapshots.encode(engine.snapshot()) == fresh, text[:80]
