"""`forewarn replay` and `forewarn simulate` from the command line, against a real mosquitto."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import yaml
from typer.testing import CliRunner

from devices.sparkplug import MessageType, Topic
from forewarn.cli import app
from simulators import RunTruth
from simulators.scenarios import DIRECTORY
from tests.conftest import Mosquitto
from tests.simulators.mqtt_helpers import raw_subscribed

runner = CliRunner()


def scenario_file(tmp_path: Path, **changes: object) -> Path:
    document = {
        "name": "cli",
        "plant": str(DIRECTORY / "plants" / "water-works.yaml"),
        "seed": 3,
        "duration": "14h",
        "period": "10s",
        "samples_per_message": 12,
        "faults": [
            {
                "equipment": "P-201",
                "fault": "impeller_wear",
                "onset": "11h",
                "time_to_failure": "3h",
            },
        ],
        **changes,
    }
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_replay_writes_the_reports_and_the_truth_beside_them(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    report = tmp_path / "out" / "run.html"
    report.parent.mkdir()
    result = runner.invoke(
        app,
        [
            "replay",
            str(scenario_file(tmp_path)),
            "--broker",
            mosquitto.url,
            "--report",
            str(report),
            "--json",
            str(tmp_path / "run.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cli: 10 machines, 0.58 days simulated" in result.output
    assert "P-201" in result.output
    assert "faults caught before failure: 1/1" in result.output
    assert report.read_text().startswith("<!DOCTYPE html>")
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["faults"][0]["outcome"] in ("early", "late")
    truth = RunTruth.read(tmp_path / "out" / "run.truth.json")
    assert truth.faults[0].equipment_id == "P-201"
    assert truth.faults[0].alarm_crossed_at is not None


def test_a_bad_scenario_is_a_located_error(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, duration="soon")
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 2
    assert "duration: 'soon' is not a duration" in result.output


def test_replaying_a_recording_lists_its_orders_without_judging_them(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    rows = ["time;vib;q"]
    for k in range(12 * 360):
        vibration = 2.0 + (0.002 * (k - 3800) if k > 3800 else 0.0) + 0.01 * ((k * 7) % 5)
        rows.append(f"{1767571200 + 10 * k};{vibration:.3f};{100 + (k * 3) % 7}")
    recording = tmp_path / "pump.csv"
    recording.write_text("\n".join(rows) + "\n")
    result = runner.invoke(
        app,
        [
            "replay",
            str(recording),
            "--sep",
            ";",
            "--column",
            "vib=vibration",
            "--column",
            "q=flow",
            "--type",
            "centrifugal_pump",
            "--equipment",
            "P-9",
            "--broker",
            mosquitto.url,
            "--report",
            str(tmp_path / "pump.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "pump: 1 machines" in result.output
    page = (tmp_path / "pump.html").read_text()
    assert "no ground truth" in page
    assert page.count("<svg") == 2
    assert "alarm 7.1" in page


def test_simulate_publishes_json_and_writes_the_truth(mosquitto: Mosquitto, tmp_path: Path) -> None:
    truth = tmp_path / "sim.truth.json"
    with raw_subscribed(mosquitto.port, ["waterworks/#"]) as sub:
        result = runner.invoke(
            app,
            [
                "simulate",
                str(scenario_file(tmp_path)),
                "--duration",
                "10m",
                "--broker",
                mosquitto.url,
                "--truth",
                str(truth),
            ],
        )
        assert result.exit_code == 0, result.output
        # The broker has them all when simulate returns; the subscriber may still be receiving.
        asyncio.run(sub.wait_until(lambda got: len(got) >= 10 * 60 // 12))
        time.sleep(0.2)  # and nothing more comes
        messages = sub.snapshot()
    assert "publishing JSON to" in result.output
    assert len(messages) == 10 * 60 // 12
    entries = json.loads(messages[0][1])
    assert isinstance(entries, list)
    assert len(entries) == 12
    assert RunTruth.read(truth).scenario == "cli"


def test_simulate_as_sparkplug_edge_nodes(private_mosquitto: Mosquitto, tmp_path: Path) -> None:
    # A private broker: `spBv1.0/#` would also see other tests' retained STATE messages.
    mosquitto = private_mosquitto
    with raw_subscribed(mosquitto.port, ["spBv1.0/#"]) as sub:
        result = runner.invoke(
            app,
            [
                "simulate",
                str(scenario_file(tmp_path)),
                "--duration",
                "2m",
                "--broker",
                mosquitto.url,
                "--protocol",
                "sparkplug",
                "--truth",
                str(tmp_path / "t.json"),
            ],
        )
        assert result.exit_code == 0, result.output
        deadline = time.monotonic() + 10  # the NDEATH wills reach us after the CLI returns
        while True:
            kinds = [Topic.parse(topic).message_type for topic, _ in sub.snapshot()]
            if kinds.count(MessageType.NDEATH) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert kinds.count(MessageType.NBIRTH) == 2
    assert kinds.count(MessageType.DBIRTH) == 10
    assert kinds.count(MessageType.NDEATH) == 2
    assert MessageType.DDATA in kinds
