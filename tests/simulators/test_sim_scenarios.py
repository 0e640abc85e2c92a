"""Scenario files: the shipped ones load, a bad file gets an error naming each field (with its
line), the scenario drives the fleet, and the same file and seed give byte-identical telemetry
on the wire."""

from __future__ import annotations

import hashlib
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulators import (
    BearingWear,
    FaultInjection,
    MqttPublisher,
    SensorFaultInjection,
    SimClock,
    StuckSensor,
    run,
)
from simulators.scenario import Scenario, ScenarioFileError, load_scenario, scenario_from_dict
from simulators.scenarios import DIRECTORY, builtin_scenarios, scenario_path
from tests.conftest import Mosquitto
from tests.simulators.mqtt_helpers import raw_subscribed

MONDAY = 1_767_571_200.0
PLANT = {
    "site": {"id": "mini"},
    "areas": [
        {
            "id": "a",
            "lines": [
                {
                    "id": "l",
                    "equipment": [
                        {"id": "P-1", "type": "centrifugal_pump", "team": "m"},
                        {"id": "F-1", "type": "fan", "team": "m"},
                        {"id": "CV-1", "type": "conveyor", "team": "m"},
                    ],
                }
            ],
        }
    ],
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_the_shipped_scenarios_load_and_cover_faults_of_several_kinds() -> None:
    shipped = builtin_scenarios()
    assert {"healthy-week", "bearing-failure", "mixed-plant", "benchmark-week"} <= set(shipped)
    scenarios = {name: load_scenario(path) for name, path in shipped.items()}
    assert scenarios["healthy-week"].faults == ()
    assert scenarios["healthy-week"].duration == 7 * 86400
    (bearing,) = scenarios["bearing-failure"].faults
    assert isinstance(bearing, FaultInjection)
    assert isinstance(bearing.fault, BearingWear)
    mixed = scenarios["mixed-plant"]
    machine = {f.fault.mechanism for f in mixed.faults if isinstance(f, FaultInjection)}
    sensor = {f.fault.kind for f in mixed.faults if isinstance(f, SensorFaultInjection)}
    assert len(machine) >= 4
    assert sensor == {"stuck", "drift", "spikes", "dropout", "noise"}
    assert {eq.type for eq in mixed.plant} == {
        "centrifugal_pump",
        "induction_motor",
        "fan",
        "compressor",
        "gearbox",
        "conveyor",
    }
    bench = scenarios["benchmark-week"]
    signals = sum(len(eq.signals) for eq in bench.plant)
    assert len(bench.plant) == 50
    assert 17e6 < signals * bench.ticks < 19e6
    for scenario in scenarios.values():
        assert scenario.start == MONDAY
        assert all(
            s.sample_period == scenario.period for eq in scenario.plant for s in eq.signals.values()
        )
    assert scenario_path("bearing-failure") == DIRECTORY / "bearing-failure.yaml"


def test_a_scenario_drives_the_fleet(tmp_path: Path) -> None:
    text = yaml.safe_dump(
        {
            "name": "mini",
            "plant": PLANT,
            "seed": 5,
            "start": "2026-01-05T00:00:00Z",
            "duration": "2h",
            "period": "10s",
            "samples_per_message": 3,
            "operation": {"load": 0.7},
            "types": {"conveyor": {"operation": {"shifts": [{"start": "06:00", "end": "18:00"}]}}},
            "machines": {"F-1": {"operation": {"load": 0.9}}},
            "faults": [
                {
                    "equipment": "P-1",
                    "fault": "bearing_wear",
                    "onset": "30m",
                    "time_to_failure": "1h",
                },
                {
                    "equipment": "F-1",
                    "fault": "stuck",
                    "signal": "airflow",
                    "onset": "2026-01-05T01:00:00Z",
                    "duration": "10m",
                },
            ],
        }
    )
    scenario = load_scenario(write(tmp_path, text))
    assert (scenario.name, scenario.seed, scenario.period) == ("mini", 5, 10.0)
    assert scenario.speed == math.inf
    assert scenario.ticks == 720
    assert scenario.operations["P-1"].load == 0.7
    assert scenario.operations["F-1"].load == 0.9
    assert len(scenario.operations["CV-1"].shifts) == 1
    wear, stuck = scenario.faults
    assert isinstance(wear.fault, BearingWear)
    assert wear.fault.onset == MONDAY + 1800
    assert isinstance(stuck.fault, StuckSensor)
    assert (stuck.fault.onset, stuck.fault.end) == (MONDAY + 3600, MONDAY + 4200)
    fleet = scenario.fleet()
    samples = [s for k in range(scenario.ticks) for s in fleet.tick(MONDAY + 10 * k, 10.0)]
    conveyor = [s.values["belt_speed"] for s in samples if s.equipment_id == "CV-1"]
    assert max(conveyor) < 0.03  # its shift starts at 06:00: only the sensor's noise
    truth = fleet.truth(scenario.name)
    assert truth.faults[0].alarm_crossed_at is not None
    assert truth.healthy == ("CV-1",)


def problems(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(write(tmp_path, yaml.safe_dump(document, sort_keys=False)))
    assert str(caught.value).startswith(str(tmp_path / "scenario.yaml"))
    return caught.value.problems


def test_bad_fields_are_named_with_their_lines(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {"plant": PLANT, "duration": "a week", "speeed": 3, "period": -1, "seed": -2},
    )
    joined = "\n".join(found)
    assert "duration: 'a week' is not a duration" in joined
    assert "speeed: unknown field" in joined
    assert "period: Input should be greater than 0" in joined
    assert "seed: Input should be greater than or equal to 0" in joined
    assert all(p.startswith("line ") for p in found)
    assert problems(tmp_path, {"duration": "1h"}) == ["line 1: plant: required field is missing"]


def test_bad_faults_are_named_with_what_to_do(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "plant": PLANT,
            "duration": "1d",
            "faults": [
                {
                    "equipment": "P-9",
                    "fault": "bearing_wear",
                    "onset": "1h",
                    "time_to_failure": "1h",
                },
                {
                    "equipment": "CV-1",
                    "fault": "cavitation",
                    "onset": "1h",
                    "time_to_failure": "1h",
                },
                {"equipment": "P-1", "fault": "rust", "onset": "1h"},
                {"equipment": "P-1", "fault": "stuck", "signal": "speed", "onset": "1h"},
                {
                    "equipment": "P-1",
                    "fault": "bearing_wear",
                    "onset": "2d",
                    "time_to_failure": "1h",
                },
                {
                    "equipment": "P-1",
                    "fault": "imbalance",
                    "onset": "1h",
                    "shape": "wobbly",
                    "time_to_failure": "1h",
                },
                {
                    "equipment": "P-1",
                    "fault": "spikes",
                    "signal": "flow",
                    "onset": "1h",
                    "time_to_failure": "1h",
                },
            ],
        },
    )
    assert len(found) == 7
    assert "faults[0].equipment: no equipment 'P-9' in the plant" in found[0]
    assert "faults[1].fault: a conveyor (CV-1) cannot develop cavitation; it can:" in found[1]
    assert "faults[2].fault: unknown fault 'rust'; machine faults: " in found[2]
    assert "sensor faults: drift, dropout, noise, spikes, stuck" in found[2]
    assert "faults[3].signal: P-1 has no simulated signal 'speed'" in found[3]
    assert "faults[4].onset: the fault starts outside the run" in found[4]
    assert "faults[5].shape: Input should be 'linear', 'exponential' or 'step'" in found[5]
    assert "faults[6].time_to_failure: unknown field" in found[6]
    assert all(p.startswith("line ") for p in found)


def test_bad_plants_operations_and_machines(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "plant": "missing.yaml",
            "duration": "1d",
        },
    )
    assert "plant: " in found[0]
    assert "missing.yaml" in found[0]
    found = problems(
        tmp_path,
        {
            "plant": PLANT,
            "duration": "1d",
            "types": {"kiln": {"operation": {}}},
            "machines": {"P-7": {"operation": {}}},
        },
    )
    joined = "\n".join(found)
    assert "types.kiln: no equipment of type 'kiln' in the plant" in joined
    assert "machines.P-7: no equipment 'P-7' in the plant" in joined
    (found_one,) = problems(
        tmp_path,
        {
            "plant": PLANT,
            "duration": "1d",
            "machines": {"P-1": {"operation": {"shifts": [{"start": "6am", "end": "14:00"}]}}},
        },
    )
    assert "machines.P-1.operation.shifts[0].start: '6am' is not a time of day" in found_one


def test_an_unsupported_type_needs_skip_unsupported(tmp_path: Path) -> None:
    plant = {
        **PLANT,
        "types": {"kiln": {"signals": {"shell_temp": {"unit": "degC"}}}},
        "areas": [
            {
                "id": "a",
                "lines": [
                    {
                        "id": "l",
                        "equipment": [
                            {"id": "P-1", "type": "centrifugal_pump", "team": "m"},
                            {"id": "K-1", "type": "kiln", "team": "m"},
                        ],
                    }
                ],
            }
        ],
    }
    found = problems(tmp_path, {"plant": plant, "duration": "1h"})
    assert "'K-1' is of type 'kiln'" in found[0]
    assert "skip_unsupported: true" in found[0]
    scenario = scenario_from_dict({"plant": plant, "duration": "1h", "skip_unsupported": True})
    assert scenario.fleet().skipped == ("K-1",)


async def wire_hash(scenario: Scenario, broker: Mosquitto) -> tuple[str, int]:
    """SHA-256 over every (topic, payload) published for the scenario, in arrival order per
    topic, and the number of messages."""
    fleet = scenario.fleet()
    with raw_subscribed(broker.port, ["mini/#"]) as sub:
        async with MqttPublisher(
            scenario.plant,
            host="127.0.0.1",
            port=broker.port,
            client_id=f"det-{uuid.uuid4().hex[:8]}",
            samples_per_message=scenario.samples_per_message,
        ) as publisher:
            await run(
                fleet,
                SimClock(scenario.start, math.inf),
                publisher,
                period=scenario.period,
                until=scenario.end,
            )
        await sub.wait_until(lambda m: len(m) == publisher.published)
        messages = sub.snapshot()
    digest = hashlib.sha256()
    for topic in sorted({t for t, _ in messages}):
        for t, payload in messages:
            if t == topic:
                digest.update(topic.encode() + b"\0" + payload + b"\0")
    return digest.hexdigest(), len(messages)


async def test_same_file_and_seed_give_byte_identical_telemetry(mosquitto: Mosquitto) -> None:
    base = scenario_from_dict(
        {
            "plant": PLANT,
            "seed": 9,
            "duration": "30m",
            "period": "5s",
            "samples_per_message": 4,
            "types": {
                "conveyor": {
                    "operation": {"load_changes": {"levels": [0.4, 0.8], "mean_dwell": "5m"}}
                }
            },
            "faults": [
                {"equipment": "F-1", "fault": "belt_slip", "onset": "5m", "time_to_failure": "20m"},
                {
                    "equipment": "P-1",
                    "fault": "spikes",
                    "signal": "flow",
                    "onset": "10m",
                    "probability": 0.2,
                },
                {
                    "equipment": "P-1",
                    "fault": "dropout",
                    "signal": "vibration",
                    "onset": "12m",
                    "duration": "5m",
                    "probability": 0.5,
                },
            ],
        }
    )
    first, count = await wire_hash(base, mosquitto)
    second, _ = await wire_hash(base, mosquitto)
    other, _ = await wire_hash(base.replace(seed=10), mosquitto)
    assert count == 3 * 360 // 4
    assert first == second
    assert other != first
