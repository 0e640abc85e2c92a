"""`forewarn score --train-rows N`: the first N rows are the healthy baseline detectors fit on."""

from __future__ import annotations

from pathlib import Path

from detectors import Engine
from devices import Reading
from forewarn.offline import read_table, table_plant
from tests.detectors.test_shift import SIGNALS, rows
from tests.forewarn.test_score_command import START, invoke, read_output, write_csv

BROKEN = 700


def recording(tmp_path: Path) -> Path:
    """Twenty minutes at 1 Hz of a pump whose flow falls off its load at row BROKEN."""
    data = rows(1_200, broken_from=BROKEN)
    return write_csv(
        tmp_path / "pump.csv",
        ["ts", *SIGNALS],
        [[START + i, *(f"{x[s]:.5f}" for s in SIGNALS)] for i, x in enumerate(data)],
    )


def test_a_twenty_minute_recording_is_judged_after_its_baseline(tmp_path: Path) -> None:
    source = recording(tmp_path)
    code, output = invoke(source, "-o", tmp_path / "plain.csv")
    assert code == 0, output
    _, plain = read_output(tmp_path / "plain.csv")
    # no baseline named: shift does not judge, so the fault is at most marked by onset's notices
    # where it starts, not held in alarm while it lasts
    held = [r[2] == "1" for r in plain[BROKEN:]]
    assert sum(held) / len(held) < 0.1

    code, output = invoke(source, "-o", tmp_path / "trained.csv", "--train-rows", "400")
    assert code == 0, output
    _, trained = read_output(tmp_path / "trained.csv")
    alarms = [r[2] == "1" for r in trained]
    assert sum(alarms[:BROKEN]) <= 2  # at most a rare one-row onset notice while healthy
    assert alarms[BROKEN:].index(True) < 30
    assert sum(alarms[BROKEN:]) / len(alarms[BROKEN:]) > 0.9  # in alarm while the fault lasts


def test_end_warmup_makes_counting_detectors_judge_from_what_they_saw(tmp_path: Path) -> None:
    table = read_table(recording(tmp_path))
    engine = Engine(table_plant(table))
    for r in range(400):
        engine.process(
            [
                Reading("csv", name, float(table.ts[r]), float(table.values[r, c]))
                for c, name in enumerate(table.columns)
            ],
            train=True,
        )
    engine.end_warmup()
    state = engine.snapshot()
    flow = state["streams"].index("csv/flow")
    columns = state["bank"]["columns"]
    # counted 600 samples, judges after the 400 it saw
    assert columns["flatline"]["fields"]["warmup"][flow] == 400
    assert columns["ewma_drift"]["fields"]["warmup"][flow] < 3_600  # ~30 fast memories, not an hour
    shift = next(c for c in state["equipment"]["csv"]["checks"] if c["detector"] == "shift")
    assert shift["state"]["fitted"]
