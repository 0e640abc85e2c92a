"""Alarms judged against labels: counts, F1 / FAR / MAR, per-event delays, NAB, and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forewarn.offline.labels import LabelledRun, events_of, label_score
from tests.forewarn.test_score_command import START, invoke, write_csv
from tests.forewarn.test_train_rows import BROKEN, recording


def run(labels: list[float], alarms: list[int], scored_from: int = 0) -> LabelledRun:
    alarm = np.array(alarms, dtype=bool)
    raised = alarm & ~np.concatenate(([False], alarm[:-1]))
    return LabelledRun(
        "f", np.arange(len(labels)) * 2.0, np.array(labels), alarm, raised, scored_from
    )


def test_counts_and_rates_over_the_judged_rows() -> None:
    #        train | judged ...............................
    labels = [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, float("nan"), 0]
    alarms = [1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0]
    result = label_score([run(labels, alarms, scored_from=2)])
    assert (result.tp, result.fp, result.fn, result.tn) == (3, 2, 1, 3)
    assert result.f1 == pytest.approx(3 / (3 + 1.5))
    assert result.far == pytest.approx(2 / 5)
    assert result.mar == pytest.approx(1 / 4)
    [event] = result.events  # the run of 1s inside the training rows is not judged
    assert (event.start, event.end, event.delay) == (8.0, 14.0, 2.0)


def test_a_missed_event_has_no_delay_and_runs_add_up() -> None:
    caught = run([0, 1, 1, 0], [0, 1, 1, 0])
    missed = run([0, 1, 1, 0], [0, 0, 0, 0])
    result = label_score([caught, missed])
    assert [e.delay for e in result.events] == [0.0, None]
    assert (result.tp, result.fn, result.fp, result.tn) == (2, 2, 0, 4)
    assert events_of(missed) == [(1, 2)]


def test_nab_is_perfect_for_an_alarm_on_each_events_first_row_and_zero_for_none() -> None:
    labels = [0.0] * 30 + [1.0] * 10 + [0.0] * 20
    first = [0] * 30 + [1] + [0] * 29
    assert label_score([run(labels, first)]).nab == pytest.approx(100.0)
    assert label_score([run(labels, [0] * 60)]).nab == pytest.approx(0.0)
    assert label_score([run([0.0] * 60, [0] * 60)]).nab is None


def test_score_prints_the_label_evaluation(tmp_path: Path) -> None:
    source = recording(tmp_path)
    lines = source.read_text().splitlines()
    labelled = [lines[0] + ",fault"] + [
        f"{line},{int(i >= BROKEN)}" for i, line in enumerate(lines[1:])
    ]
    source.write_text("\n".join(labelled) + "\n")
    code, output = invoke(
        source, "-o", tmp_path / "out.csv", "--train-rows", "400", "--label-column", "fault"
    )
    assert code == 0, output
    summary = next(line for line in output.splitlines() if line.startswith("labels:"))
    f1 = float(summary.split("F1 ")[1].split(",")[0])
    assert f1 > 0.9
    far = float(summary.split("FAR ")[1].split(" %")[0])
    assert far < 1.0  # onset's notices may mark a healthy row or two; the baseline holds
    assert "NAB standard" in summary
    assert "first alarm after" in output


def test_a_label_that_is_not_a_number_names_the_line(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "x.csv", ["ts", "a", "fault"], [[START + i, i, "yes"] for i in range(5)]
    )
    code, output = invoke(source, "-o", tmp_path / "o.csv", "--label-column", "fault")
    assert code == 2
    assert "line 2" in output
    assert "'yes' is not a number" in output
    code, output = invoke(source, "-o", tmp_path / "o.csv", "--label-column", "missing")
    assert code == 2
    assert "no label column 'missing'" in output
