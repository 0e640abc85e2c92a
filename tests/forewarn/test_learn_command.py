"""`forewarn learn`: a plant's detectors fitted on a CSV export, and `forewarn run`'s engine
judging from its first reading after restoring what was learned."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from detectors import Engine
from devices import Reading, load_plant
from forewarn import snapshots
from forewarn.cli import app
from simulators import Fleet

runner = CliRunner()
HEALTHY = 1_800
"""Seconds of healthy history exported (half an hour at 1 Hz)."""

PLANT = {
    "site": {"id": "test"},
    "areas": [
        {
            "id": "a",
            "lines": [
                {
                    "id": "l",
                    "equipment": [{"id": "P-1", "type": "centrifugal_pump", "team": "m"}],
                }
            ],
        }
    ],
}


@pytest.fixture
def plant_file(tmp_path: Path) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(yaml.safe_dump(PLANT))
    return path


def pump_readings(plant_file: Path, seconds: int) -> list[Reading]:
    fleet = Fleet(load_plant(plant_file), seed=3)
    return [
        reading
        for second in range(seconds)
        for sample in fleet.tick(float(second), 1.0)
        for reading in sample.readings()
    ]


def learn(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["learn", *map(str, args)])
    return result.exit_code, result.output


def test_learns_a_long_export_and_run_judges_from_the_first_reading(
    plant_file: Path, tmp_path: Path
) -> None:
    readings = pump_readings(plant_file, HEALTHY + 600)
    history, later = readings[: len(readings) * 3 // 4], readings[len(readings) * 3 // 4 :]
    export = tmp_path / "history.csv"
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["equipment", "signal", "ts", "value"])
        writer.writerows([r.equipment_id, r.signal, r.ts, r.value] for r in history)
    snapshot = tmp_path / "state" / "detectors.json"
    code, output = learn(export, "--config", plant_file, "-o", snapshot)
    assert code == 0, output
    assert f"learned {len(history):,} readings of 1 equipment (P-1)" in output
    state = json.loads(snapshot.read_text())
    [shift] = [c for c in state["equipment"]["P-1"]["checks"] if c["detector"] == "shift"]
    assert shift["state"]["fitted"]

    # What `forewarn run` does at start (Pipeline restores its engine from the state file).
    engine = Engine(load_plant(plant_file))
    assert snapshots.restore(engine, snapshot) > 0
    assert engine.process(later) == []  # healthy: nothing raised
    flow = next(r for r in later if r.signal == "flow")
    # The flow falls by a fifth at once while every other signal stays where it was.
    last = {r.signal: r for r in later}
    broken = [
        Reading("P-1", s, r.ts + k + 1.0, r.value * (0.8 if s == flow.signal else 1.0))
        for k in range(30)
        for s, r in last.items()
    ]
    findings = engine.process(broken)
    assert any(f.detector == "shift" and f.active for f in findings)
    assert "flow" in next(f for f in findings if f.detector == "shift").signals


def test_learns_a_wide_export_named_by_its_equipment(plant_file: Path, tmp_path: Path) -> None:
    readings = pump_readings(plant_file, 900)
    signals = sorted({r.signal for r in readings})
    rows: dict[float, dict[str, float]] = {}
    for r in readings:
        rows.setdefault(r.ts, {})[r.signal] = r.value
    export = tmp_path / "P-1.csv"
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", *signals, "operator_note"])
        writer.writerows([ts, *(row.get(s, "") for s in signals), ""] for ts, row in rows.items())
    snapshot = tmp_path / "detectors.json"
    code, output = learn(export, "--config", plant_file, "-o", snapshot)
    assert code == 0, output
    assert "of 1 equipment (P-1)" in output
    assert snapshot.exists()


def test_a_wide_export_of_an_unknown_equipment_says_how_to_name_it(
    plant_file: Path, tmp_path: Path
) -> None:
    export = tmp_path / "pump.csv"
    export.write_text("ts,flow\n0,1.0\n1,1.1\n")
    code, output = learn(export, "--config", plant_file, "-o", tmp_path / "s.json")
    assert code == 2
    assert "--equipment" in output
    assert not (tmp_path / "s.json").exists()
