"""`forewarn score` from the command line: files and directories in, one scored row per row out."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forewarn.cli import app

runner = CliRunner()
START = 1_700_000_000
ROWS = 4_500
STEP_AT = 4_200
"""Row where the `level` column jumps far outside anything seen before (after EWMA warm-up)."""


def write_csv(path: Path, header: list[str], rows: list[list[object]], sep: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def level(i: int) -> float:
    """A noisy daily cycle; from STEP_AT on, 50 units higher (the cycle's range is about 4)."""
    base = 20.0 + 2.0 * math.sin(i / 50.0) + 0.3 * math.sin(i * 12.9898)
    return base + (50.0 if i >= STEP_AT else 0.0)


def steady(i: int) -> float:
    return 5.0 + 0.5 * math.sin(i / 30.0) + 0.1 * math.sin(i * 78.233)


def machine_rows(n: int = ROWS) -> list[list[object]]:
    return [[START + 60 * i, f"{steady(i):.5f}", f"{level(i):.5f}", "ok"] for i in range(n)]


def read_output(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["score", *map(str, args)])
    return result.exit_code, result.output


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "pump.csv", ["ts", "flow", "level", "state"], machine_rows())


def test_one_row_out_per_row_in_same_order_with_the_time_as_written(
    machine: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scored.csv"
    code, output = invoke(machine, "-o", out, "--detector", "ewma_drift")
    assert code == 0, output
    header, rows = read_output(out)
    assert header == ["ts", "anomaly_score", "is_anomaly"]
    assert [r[0] for r in rows] == [str(START + 60 * i) for i in range(ROWS)]
    scores = [float(r[1]) for r in rows]
    alarms = [int(r[2]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert set(alarms) <= {0, 1}
    # The jump raises one condition episode, on or just after the row where it happens; the rows
    # are in alarm while it lasts: one run of 1s.
    first = alarms.index(1)
    assert STEP_AT <= first < STEP_AT + 30
    run = [*alarms[first:], 0]
    assert sum(alarms) == run.index(0) > 1
    assert max(scores[STEP_AT : STEP_AT + 30]) >= 0.5
    assert max(scores[:STEP_AT]) < 0.5
    assert "state" in output  # the text column is left out, and the summary says so


def test_ignored_columns_are_not_scored(machine: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    code, output = invoke(
        machine, "-o", out, "--detector", "ewma_drift", "--ignore-columns", "level,state"
    )
    assert code == 0, output
    _, rows = read_output(out)
    assert len(rows) == ROWS
    assert sum(int(r[2]) for r in rows) == 0
    assert max(float(r[1]) for r in rows[STEP_AT:]) < 0.5


def test_training_rows_are_learned_but_not_scored(machine: Path, tmp_path: Path) -> None:
    trained, plain = tmp_path / "trained.csv", tmp_path / "plain.csv"
    assert invoke(machine, "-o", plain, "--detector", "ewma_drift")[0] == 0
    code, output = invoke(
        machine, "-o", trained, "--detector", "ewma_drift", "--train-rows", "4300"
    )
    assert code == 0, output
    _, plain_rows = read_output(plain)
    _, trained_rows = read_output(trained)
    assert len(trained_rows) == ROWS
    assert all(r[1:] == ["0.000000", "0"] for r in trained_rows[:4300])
    # Afterwards the detector is exactly where it would be had it scored those rows too. Only the
    # first scored row differs: the plain run raised the step's condition at STEP_AT and leaves
    # it out of its scores since, where for the trained run it is new at row 4300.
    assert [r[1] for r in trained_rows[4301:]] == [r[1] for r in plain_rows[4301:]]
    assert float(trained_rows[4300][1]) > float(plain_rows[4300][1])


def test_the_default_ensemble_and_time_formats(tmp_path: Path) -> None:
    rows = machine_rows(300)
    seconds = write_csv(
        tmp_path / "s.csv", ["value", "time", "level"], [[r[1], r[0], r[2]] for r in rows]
    )
    millis = write_csv(
        tmp_path / "ms.csv",
        ["value", "time", "level"],
        [[r[1], (START + 60 * i) * 1000, r[2]] for i, r in enumerate(rows)],
    )
    iso = write_csv(
        tmp_path / "iso.csv",
        ["Timestamp", "value", "level"],
        [
            [datetime.fromtimestamp(START + 60 * i, UTC).isoformat(), r[1], r[2]]
            for i, r in enumerate(rows)
        ],
        sep=";",
    )
    outputs = []
    for source, extra in ((seconds, []), (millis, []), (iso, ["--sep", ";"])):
        out = tmp_path / f"{source.stem}.out.csv"
        code, output = invoke(source, "-o", out, *extra)
        assert code == 0, output
        header, scored = read_output(out)
        assert header[0] == ("Timestamp" if source is iso else "time")
        assert len(scored) == 300
        outputs.append([r[1:] for r in scored])
    assert outputs[0] == outputs[1] == outputs[2]


def test_a_directory_is_mirrored_and_other_files_are_ignored(tmp_path: Path) -> None:
    source = tmp_path / "in"
    rows = machine_rows(200)
    write_csv(source / "a.csv", ["ts", "x"], [[r[0], r[1]] for r in rows])
    write_csv(source / "line1" / "b.CSV", ["ts", "x"], [[r[0], r[2]] for r in rows[:50]])
    write_csv(source / "line1" / "deep" / "c.csv", ["ts", "x"], [[r[0], r[1]] for r in rows[:7]])
    (source / "notes.txt").write_text("not a table")
    out = tmp_path / "out"
    code, output = invoke(source, "-o", out)
    assert code == 0, output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.csv", "line1/b.CSV", "line1/deep/c.csv"]
    assert len(read_output(out / "line1" / "deep" / "c.csv")[1]) == 7


def test_rows_out_of_time_order_keep_their_place(tmp_path: Path) -> None:
    times = [START, START + 60, START + 120, START + 60, START + 180]
    source = write_csv(tmp_path / "r.csv", ["ts", "x"], [[t, 1.0] for t in times])
    out = tmp_path / "o.csv"
    code, output = invoke(source, "-o", out)
    assert code == 0, output
    assert [r[0] for r in read_output(out)[1]] == [str(t) for t in times]
    assert "1 rows are not later than an earlier row" in output


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        ([["2024-01-01T00:00:00", "1"]], ["--time-column", "when"], "no time column 'when'"),
        (
            [["2024-01-01T00:00:00", "1"]],
            ["--ignore-columns", "temp"],
            "no column 'temp' to ignore",
        ),
        (
            [["2024-01-01T00:00:00", "1"], ["yesterday", "2"]],
            [],
            "line 3, column 'timestamp': 'yesterday' is not a time",
        ),
        (
            [["2024-01-01T00:00:00", "1"], ["2024-01-01T00:01:00", "n/a"]],
            [],
            "line 3, column 'value': 'n/a' is not a number",
        ),
    ],
    ids=["missing-time-column", "missing-ignored-column", "bad-time", "not-a-number"],
)
def test_errors_name_the_file_line_and_column(
    tmp_path: Path, rows: list[list[object]], args: list[str], message: str
) -> None:
    source = write_csv(tmp_path / "bad.csv", ["timestamp", "value"], rows)
    out = tmp_path / "o.csv"
    code, output = invoke(source, "-o", out, *args)
    assert code == 2
    assert str(source) in output
    assert message in output
    assert not out.exists()


def test_an_unknown_detector_is_refused_with_the_known_ones(machine: Path, tmp_path: Path) -> None:
    code, output = invoke(machine, "-o", tmp_path / "o.csv", "--detector", "crystal_ball")
    assert code == 2
    assert "ewma_drift" in output
