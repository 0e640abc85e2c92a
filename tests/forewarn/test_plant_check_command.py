"""`forewarn plant check`: a good plant is summarised; every problem names file, place and fix."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from forewarn.cli import app
from tests.conftest import DEMO_PLANT

runner = CliRunner()

PLANT = """\
site: {id: acme}
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
          - id: P-1
            type: centrifugal_pump
            team: mechanical
            detectors: [limits, {name: ewma_drift, params: {warmup: 600}}]
"""


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["plant", "check", str(path)])
    return result.exit_code, " ".join(result.output.split())


def test_the_demo_plant_passes_with_a_summary() -> None:
    result = runner.invoke(app, ["plant", "check", str(DEMO_PLANT)])
    assert result.exit_code == 0, result.output
    assert "10 equipment, 50 signals" in " ".join(result.output.split())


def test_detectors_with_parameters_pass(tmp_path: Path) -> None:
    code, output = check(tmp_path, PLANT)
    assert code == 0, output
    assert "1 equipment, 5 signals" in output


def test_a_misspelt_detector_or_parameter_names_equipment_and_choices(tmp_path: Path) -> None:
    code, output = check(tmp_path, PLANT.replace("name: ewma_drift", "name: ewma_drfit"))
    assert code == 2
    assert "plant.yaml: equipment P-1" in output
    assert "unknown detector 'ewma_drfit'; known detectors:" in output
    code, output = check(tmp_path, PLANT.replace("warmup: 600", "warmpu: 600"))
    assert code == 2
    assert "detector 'ewma_drift' has no parameter 'warmpu'; its parameters:" in output


def test_a_bad_field_names_its_line(tmp_path: Path) -> None:
    code, output = check(
        tmp_path,
        PLANT.replace("team: mechanical", "team: mechanical\n            regime_signal: rpm"),
    )
    assert code == 2
    assert "line 10: areas[0].lines[0].equipment[0].regime_signal" in output
    assert "regime signal 'rpm' is not a signal of 'P-1'" in output
