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


OPCUA_PLANT = """\
site: {id: acme}
opcua:
  servers:
    plc: {url: "opc.tcp://10.0.0.5:4840", anonymous: true}
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
          - id: P-1
            type: centrifugal_pump
            team: mechanical
            signals:
              flow: {opcua: {server: plc, node: "ns=2;s=P1.Flow", sampling_interval: 0.5}}
              vibration: {opcua: {server: plc, node: "ns=2;s=P1.Vib"}}
              discharge_pressure: null
              motor_current: {enabled: false}
"""


def test_an_opcua_plant_prints_nodes_and_warns_about_unbound_signals(tmp_path: Path) -> None:
    path = tmp_path / "plant.yaml"
    path.write_text(OPCUA_PLANT)
    result = runner.invoke(app, ["plant", "check", str(path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "1 equipment, 3 signals" in out
    assert "reads OPC UA plc (opc.tcp://10.0.0.5:4840): 2 signals" in out
    assert "reads MQTT JSON: 1 signals on acme/utilities/cooling/+/telemetry" in out
    assert "flow: OPC UA plc ns=2;s=P1.Flow (sampling 0.5s)" in out
    assert "vibration: OPC UA plc ns=2;s=P1.Vib (sampling 1s)" in out
    assert "limits warn_high 4.5, alarm_high 7.1 mm/s" in out
    assert "ewma_drift (warm-up 3600 samples, 1 h)" in out
    assert "noise (warm-up 1088 samples, 1 d)" in out  # a day, however fast the samples
    assert "relations (warm-up" in out
    assert "discharge_pressure" not in out
    assert "motor_current" not in out
    warning = " ".join(result.stderr.split())
    assert "warning: P-1.bearing_temp has no OPC UA node while vibration, flow do" in warning
    assert "(signals: {bearing_temp: null})" in warning


def test_a_sparkplug_plant_prints_metrics(tmp_path: Path) -> None:
    text = PLANT.replace(
        "site: {id: acme}",
        "site: {id: acme}\nsparkplug: {group: Plant1, edge_node: '{line}', device: '{equipment}'}",
    ).replace(
        "            detectors:",
        "            signals: {flow: {sparkplug: {metric: Flow/PV}}}\n            detectors:",
    )
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["plant", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "reads Sparkplug B: 5 metrics in group(s) Plant1" in result.stdout
    assert "flow: MQTT acme/utilities/cooling/P-1/telemetry field flow; " in result.stdout
    assert "Sparkplug Plant1/cooling/P-1 metric Flow/PV" in result.stdout
    assert "metric vibration" in result.stdout
    assert "limits, ewma_drift (warm-up 600 samples, 10 min)" in result.stdout  # the file's warmup
