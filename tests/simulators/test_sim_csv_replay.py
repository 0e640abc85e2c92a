"""CSV recordings: time column and separator found or given, columns renamed, empty cells
missing, located errors, a one-machine plant, and replay paced by the recording's own times."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from simulators import SimClock
from simulators.csv_replay import CsvError, read_csv
from simulators.publishers import MemoryPublisher
from simulators.runner import play


def csv_file(tmp_path: Path, text: str, name: str = "pump-7.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_csv_with_iso_times_and_an_empty_cell(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "Time,Vibration (mm/s),flow\n"
        "2026-01-05T00:00:10Z,2.2,\n"
        "2026-01-05T00:00:00,2.1,100\n"
        "2026-01-05T00:00:20+00:00,2.0,99\n",
    )
    recording = read_csv(path)
    assert recording.equipment_id == "pump-7"
    assert recording.time_column == "Time"
    assert recording.columns == {"Vibration (mm/s)": "Vibration_mm_s", "flow": "flow"}
    assert [s.ts for s in recording.samples] == [1767571200.0, 1767571210.0, 1767571220.0]
    assert recording.samples[1].values == {"Vibration_mm_s": 2.2}
    assert recording.period == 10.0


def test_separator_time_column_epoch_ms_and_renamed_columns(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "id;stamp;vib;temp\n1;1767571200000;2.5;51\n2;1767571201000;2.6;52\n")
    recording = read_csv(
        path,
        equipment_id="P-1",
        sep=";",
        time_column="stamp",
        columns={"vib": "vibration", "temp": "bearing_temp"},
    )
    assert [s.ts for s in recording.samples] == [1767571200.0, 1767571201.0]
    assert recording.samples[0].values == {"vibration": 2.5, "bearing_temp": 51.0}
    plant = recording.plant("centrifugal_pump")
    eq = plant.equipment["P-1"]
    assert set(eq.signals) == {"vibration", "bearing_temp"}
    assert eq.signals["vibration"].limits.alarm_high == 7.1
    assert eq.signals["vibration"].sample_period == 1.0
    assert [m.code for m in eq.failure_modes] == ["VIB", "PDE", "AIR"]
    bare = recording.plant()
    assert bare.equipment["P-1"].signals["vibration"].limits.alarm_high is None


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("", {}, "the file is empty"),
        ("ts,a\n", {}, "no data rows"),
        ("ts,a\nyesterday,1\n", {}, "row 2, column 'ts': 'yesterday' is not a time"),
        ("ts,a\n1767571200,x1\n", {}, "row 2, column 'a': 'x1' is not a number"),
        ("ts;a\n1,2\n", {"time_column": "ts"}, r"no time column 'ts'.*is the separator ',' right"),
        ("ts,a\n1,2\n", {"columns": ["b"]}, "no column\\(s\\) 'b'; the columns are: ts, a"),
        ("ts\n1\n", {}, "no value columns besides the time column 'ts'"),
    ],
)
def test_located_errors(
    tmp_path: Path, text: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(CsvError, match=message):
        read_csv(csv_file(tmp_path, text), **options)  # type: ignore[arg-type]
    with pytest.raises(CsvError, match="unknown equipment type 'kiln'"):
        read_csv(csv_file(tmp_path, "ts,a\n1,2\n")).plant("kiln")


async def test_play_paces_by_the_recorded_times_and_groups_equal_times(tmp_path: Path) -> None:
    lines = ["ts,a"] + [f"{1767571200 + k * 2},{k}" for k in range(4)]
    recording = read_csv(csv_file(tmp_path, "\n".join(lines) + "\n"))
    publisher = MemoryPublisher()
    started = time.monotonic()
    stats = await play(recording.samples, SimClock(recording.start, speed=20.0), publisher)
    assert time.monotonic() - started >= 6 / 20 - 0.02
    assert [b[0].values["a"] for b in publisher.batches] == [0.0, 1.0, 2.0, 3.0]
    assert (stats.ticks, stats.samples, stats.sim_end) == (4, 4, recording.end)
    assert publisher.flushes == 1
    fast = MemoryPublisher()
    await play(recording.samples, SimClock(recording.start, speed=math.inf), fast)
    assert fast.samples == publisher.samples
