"""`forewarn dead-letters` over a dead-letter file written the way the service writes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forewarn.cli import app
from forewarn.intake import DEAD_LETTER_FILE
from ingest import DeadLetterRecorder, DeadLetters, Reject, RejectReason

runner = CliRunner()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    recorder = DeadLetterRecorder(state / DEAD_LETTER_FILE)
    mqtt = DeadLetters(sink=recorder.sink("mqtt"))
    opcua = DeadLetters(sink=recorder.sink("opcua:plc"))
    topic = "demo/treatment/line-1/P-101/telemetry"
    for i in range(3):
        mqtt.add(
            Reject(
                RejectReason.PARSE_ERROR, topic, "not JSON", b"garbage %d" % i, 1_795_000_000.0 + i
            )
        )
    mqtt.add(
        Reject(
            RejectReason.PARSE_ERROR,
            "spBv1.0/demo/DDATA/treatment-line-1/P-103",
            "not a Sparkplug B payload",
            b"\x08\xff\x00\x01",
            1_795_000_010.0,
        )
    )
    opcua.add(
        Reject(
            RejectReason.UNKNOWN_SIGNAL,
            "opc.tcp plc ns=2;s=P-101.nope",
            "no such node",
            b"",
            1_795_000_020.0,
        )
    )
    recorder.close()
    return state


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["dead-letters", *args])
    return result.exit_code, result.stdout, result.stderr


def test_lists_the_newest_first_with_payloads(state_dir: Path) -> None:
    code, out, _ = run("--state-dir", str(state_dir), "--limit", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("2026-11-18T")  # received_at, UTC, ISO 8601
    assert "opcua:plc  unknown_signal  opc.tcp plc ns=2;s=P-101.nope" in lines[0]
    assert lines[1].strip() == "no such node"
    assert lines[2].strip() == "payload: (none)"
    assert "mqtt  parse_error  spBv1.0/demo/DDATA/treatment-line-1/P-103" in lines[3]
    assert lines[5].strip() == "payload: 4 bytes, hex: 08 ff 00 01"
    assert lines[8].strip() == "payload: garbage 2"
    assert len(lines) == 9, out


def test_filters_and_json(state_dir: Path) -> None:
    code, out, _ = run("--state-dir", str(state_dir), "--reason", "parse_error", "--json")
    assert code == 0
    rejects = json.loads(out)
    assert [r["payload"] for r in rejects] == [None, "garbage 2", "garbage 1", "garbage 0"]
    assert rejects[0]["payload_hex"] == "08ff0001"
    assert {r["reason"] for r in rejects} == {"parse_error"}
    assert rejects[1]["received_at"] == "2026-11-18T11:06:42.000+00:00"

    code, out, _ = run("--state-dir", str(state_dir), "--source", "opcua:plc", "--json")
    assert [r["detail"] for r in json.loads(out)] == ["no such node"]

    code, out, err = run("--state-dir", str(state_dir), "--reason", "not_finite")
    assert code == 0
    assert out == ""
    assert "no dead letters" in err


def test_counts(state_dir: Path) -> None:
    code, out, _ = run("--state-dir", str(state_dir), "--counts")
    assert code == 0
    header, first, second = out.splitlines()
    assert header.split() == ["source", "reason", "count", "kept", "last"]
    assert first.split()[:4] == ["mqtt", "parse_error", "4", "4"]
    assert second.split()[:4] == ["opcua:plc", "unknown_signal", "1", "1"]

    code, out, _ = run(
        "--state-dir", str(state_dir), "--counts", "--json", "--reason", "parse_error"
    )
    assert json.loads(out) == [
        {
            "source": "mqtt",
            "reason": "parse_error",
            "count": 4,
            "kept": 4,
            "last_at": "2026-11-18T11:06:50.000+00:00",
        }
    ]


def test_state_dir_from_the_settings(state_dir: Path, tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"state_dir: {state_dir}\n")
    code, out, _ = run("--settings", str(settings), "--counts", "--json")
    assert code == 0
    assert len(json.loads(out)) == 2


def test_mistakes_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("--state-dir", str(tmp_path / "elsewhere"))
    assert code == 2
    assert f"no dead-letter file at {tmp_path / 'elsewhere' / DEAD_LETTER_FILE}" in err
    code, _, err = run("--state-dir", str(tmp_path), "--reason", "gremlins")
    assert code == 2
    assert "parse_error" in err  # the valid reasons are listed
    settings = tmp_path / "settings.yaml"
    settings.write_text("historian: {url: 'http://influx:8086'}\n")
    monkeypatch.delenv("FOREWARN_HISTORIAN__TOKEN", raising=False)
    code, _, err = run("--settings", str(settings))
    assert code == 2
    assert "FOREWARN_HISTORIAN__TOKEN" in err
    assert "--state-dir" in err
