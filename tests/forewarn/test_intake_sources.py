"""Which sources the service builds from the plant file and the settings, and the
misconfigurations it refuses at start with what to set."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devices import load_plant
from forewarn.errors import ForewarnError
from forewarn.intake import Intake
from forewarn.settings import load_settings

PLANT = """\
site: {id: s1}
opcua:
  servers:
    plc:
      url: opc.tcp://127.0.0.1:4999/forewarn-it
      anonymous: true
      namespace: urn:forewarn:it-plant
      node: "ns={ns};s={equipment}.{signal}"
areas:
  - id: treatment
    lines:
      - id: line-1
        equipment:
          - {id: P-101, type: centrifugal_pump, team: mechanical, opcua: {server: plc}}
"""
MQTT_PUMP = "          - {id: P-102, type: centrifugal_pump, team: mechanical}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    return path


def test_an_opcua_only_plant_builds_no_mqtt_source(tmp_path: Path) -> None:
    plant = load_plant(write(tmp_path, PLANT))
    intake = Intake.from_settings(plant, load_settings(state_dir=tmp_path / "state"))
    assert intake.mqtt is None
    assert list(intake.sources) == ["opcua:plc"]


def test_a_plant_with_mqtt_signals_builds_the_mqtt_source(tmp_path: Path) -> None:
    plant = load_plant(write(tmp_path, PLANT + MQTT_PUMP))
    intake = Intake.from_settings(plant, load_settings(state_dir=tmp_path / "state"))
    assert intake.mqtt is not None
    assert sorted(intake.sources) == ["mqtt", "opcua:plc"]


def test_a_sparkplug_section_without_a_host_id_is_refused(tmp_path: Path) -> None:
    plant = load_plant(write(tmp_path, PLANT + "sparkplug: {group: plant-a}\n"))
    assert plant.sparkplug_configured
    with pytest.raises(
        ForewarnError, match=r"set sparkplug\.host_id .*FOREWARN_SPARKPLUG__HOST_ID"
    ):
        Intake.from_settings(plant, load_settings(state_dir=tmp_path / "state"))

    settings = load_settings(state_dir=tmp_path / "state", sparkplug={"host_id": "fw-1"})
    intake = Intake.from_settings(plant, settings)
    assert intake.mqtt is not None
    assert intake.mqtt.sparkplug is not None


def test_forewarn_run_names_the_missing_host_id_before_anything_starts(tmp_path: Path) -> None:
    equipment = "opcua: {server: plc}}"
    plant = write(tmp_path, PLANT.replace(equipment, equipment[:-1] + ", sparkplug: {device: P1}}"))
    result = subprocess.run(
        [sys.executable, "-m", "forewarn", "run", "--config", str(plant), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "sparkplug.host_id" in result.stderr
    assert "sparkplug: section" in result.stderr
