"""A scenario replayed end to end through a real mosquitto and the real pipeline: the bearing
fault is caught before its alarm limit, the stuck sensor's machine and the healthy pumps get no
false order, the ground truth is complete, and both reports say so (the HTML one with a chart per
signal, the fault window, the findings and the order marked)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from forewarn.replay import Outcome, ReplayOptions, ReplayProgress, ReplayResult, replay_scenario
from forewarn.replay.report_html import write_html
from forewarn.replay.report_json import report_json, write_json
from simulators.scenario import scenario_from_dict
from simulators.scenarios import DIRECTORY
from tests.conftest import Mosquitto

SCENARIO = {
    "name": "e2e-bearing",
    "description": "Bearing wear on P-103; a stuck temperature sensor on P-105.",
    "plant": "plants/water-works.yaml",
    "seed": 7,
    "duration": "30h",
    "period": "10s",
    "samples_per_message": 6,
    "faults": [
        {"equipment": "P-103", "fault": "bearing_wear", "onset": "12h", "time_to_failure": "16h"},
        {
            "equipment": "P-105",
            "fault": "stuck",
            "signal": "bearing_temp",
            "onset": "20h",
            "duration": "2h",
        },
    ],
}


@pytest.fixture(scope="module")
def replayed(mosquitto: Mosquitto) -> tuple[ReplayResult, list[ReplayProgress]]:
    scenario = scenario_from_dict(SCENARIO, base_dir=DIRECTORY)
    progress: list[ReplayProgress] = []
    result = asyncio.run(
        replay_scenario(scenario, ReplayOptions(broker=mosquitto.url), progress.append)
    )
    return result, progress


def test_both_faults_are_caught_early_and_nothing_else_gets_an_order(
    replayed: tuple[ReplayResult, list[ReplayProgress]],
) -> None:
    result, progress = replayed
    assert result.readings == 10 * 5 * 30 * 360
    assert result.rejected == 0
    assert result.messages == 10 * 30 * 360 // 6
    (bearing,) = result.score.faults
    assert bearing.outcome is Outcome.EARLY
    assert bearing.failure_mode == "VIB"
    assert bearing.mode_matches
    assert bearing.delay is not None
    assert bearing.delay < 4 * 3600
    assert bearing.lead_to_alarm is not None
    assert bearing.lead_to_alarm > 6 * 3600
    assert bearing.order_number is not None
    (stuck_score,) = result.score.sensor_faults
    assert stuck_score.outcome is Outcome.DETECTED
    assert (stuck_score.detector, stuck_score.failure_mode) == ("flatline", "AIR")
    orders = result.score.orders
    assert sorted(o.equipment_id for o in orders) == ["P-103", "P-105"]
    assert not any(o.false for o in orders)
    totals = result.score.totals
    assert totals.false_orders == 0
    assert totals.false_orders_per_machine_day == 0.0
    assert totals.machine_days == pytest.approx(10 * 30 / 24)
    assert progress[-1].fraction == 1.0
    assert progress[-1].readings == result.readings
    assert [p.fraction for p in progress] == sorted(p.fraction for p in progress)
    truth = result.truth
    assert truth.healthy == tuple(f"P-{n}" for n in (101, 102, 104, 201, 202, 203, 204, 205))
    (stuck,) = truth.sensor_faults
    assert (stuck.equipment_id, stuck.kind) == ("P-105", "stuck")
    assert truth.faults[0].alarm_crossed_at is not None


def test_the_json_report(
    replayed: tuple[ReplayResult, list[ReplayProgress]], tmp_path: Path
) -> None:
    result, _ = replayed
    document = json.loads(write_json(result, tmp_path / "report.json").read_text())
    assert document == json.loads(json.dumps(report_json(result)))
    assert document["scenario"]["name"] == "e2e-bearing"
    assert document["run"]["readings"] == result.readings
    (fault,) = document["faults"]
    assert fault["equipment_id"] == "P-103"
    assert fault["outcome"] == "early"
    assert fault["order"] == result.score.faults[0].order_number
    assert fault["lead_to_alarm"] == result.score.faults[0].lead_to_alarm
    forecast, actual = fault["forecast"], fault["actual_s"]
    assert actual == fault["alarm_crossed_at"] - fault["detected_at"] > 0
    assert set(forecast) == {"predicted_s", "low_s", "high_s"}
    assert 0 < forecast["low_s"] <= forecast["predicted_s"]
    assert forecast["high_s"] is None or forecast["predicted_s"] <= forecast["high_s"]
    totals = document["totals"]
    assert totals["forecasts_judged"] == 1
    assert totals["median_forecast_error"] == pytest.approx(
        abs(forecast["predicted_s"] - actual) / actual
    )
    assert document["sensor_faults"][0]["kind"] == "stuck"
    assert document["totals"]["false_orders"] == 0
    assert len(document["machines"]) == 10
    assert document["telemetry"]["P-103"]["vibration"]["mean"][-1] > 7.1
    assert len(document["telemetry"]["P-101"]["flow"]["mean"]) == 480
    assert document["events"][0]["order_number"] == fault["order"]


def section(page: str, equipment_id: str) -> str:
    start = page.index(f'id="machine-{equipment_id}"')
    end = page.find("<details", start + 1)
    return page[start : end if end > 0 else len(page)]


def test_the_html_report(
    replayed: tuple[ReplayResult, list[ReplayProgress]], tmp_path: Path
) -> None:
    result, _ = replayed
    page = write_html(result, tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>forewarn replay: e2e-bearing</title>" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "<script" not in page
    assert "<link" not in page
    order = result.score.faults[0].order_number
    assert order is not None
    faults_table = page[page.index("<h2>Faults</h2>") : page.index("<h2>Sensor faults</h2>")]
    assert "<b>P-103</b>" in faults_table
    assert "bearing wear" in faults_table
    assert "badge good'>early" in faults_table
    assert order in faults_table
    assert "VIB ✓" in faults_table
    assert "Forecast at opening (90 %)" in faults_table
    assert "forecast ranges that held" in page
    sensors_table = page[page.index("<h2>Sensor faults</h2>") : page.index("<h2>Work orders</h2>")]
    assert "bearing_temp" in sensors_table
    assert "stuck" in sensors_table
    orders_table = page[page.index("<h2>Work orders</h2>") : page.index("<h2>Machines</h2>")]
    assert "badge good'>true</span> bearing_wear" in orders_table

    assert page.count("<svg") == 10 * 5
    faulty = section(page, "P-103")
    assert faulty.count("<svg") == 5
    assert faulty.count('class="fault-window"') == 5
    assert 'class="alarm-crossing"' in faulty
    assert faulty.count('class="order"') == 5
    assert f">{order}</text>" in faulty
    assert 'class="finding"' in faulty
    assert "ISO 10816 zone D" in faulty
    assert faulty.index('id="machine-P-103"') < page.index('id="machine-P-101"')
    sensor = section(page, "P-105")
    assert sensor.count('class="sensor-window"') == 1
    healthy = section(page, "P-101")
    assert "fault-window" not in healthy
    assert 'class="order"' not in healthy
    assert "badge good'>healthy" in healthy
