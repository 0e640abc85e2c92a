"""The fleet: determinism, independence of machines, which equipment it can simulate."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from devices import Plant, Reading, plant_from_dict
from simulators import (
    BearingWear,
    CentrifugalPump,
    Fault,
    FaultInjection,
    Fleet,
    ImpellerWear,
    Sample,
    SimulatorError,
)

START = 1_767_225_600.0
HOUR = 3600.0

PlantFactory = Callable[..., Plant]


def run(fleet: Fleet, seconds: int, dt: float = 1.0) -> list[Sample]:
    samples: list[Sample] = []
    for k in range(seconds):
        samples.extend(fleet.tick(START + k * dt, dt))
    return samples


def of(samples: list[Sample], equipment_id: str) -> list[Sample]:
    return [s for s in samples if s.equipment_id == equipment_id]


def test_same_seed_gives_identical_samples_bit_for_bit(demo_plant: Plant) -> None:
    faults = [FaultInjection("P-103", BearingWear(onset=START + 60, time_to_failure=600))]
    a = run(Fleet(demo_plant, seed=7, faults=faults), 900)
    b = run(Fleet(demo_plant, seed=7, faults=faults), 900)
    assert a == b
    assert [s.values for s in a] == [s.values for s in b]
    assert len(a) == 900 * len(demo_plant)


def test_a_different_seed_gives_different_samples(demo_plant: Plant) -> None:
    a = run(Fleet(demo_plant, seed=7), 60)
    b = run(Fleet(demo_plant, seed=8), 60)
    for sa, sb in zip(a, b, strict=True):
        assert sa.equipment_id == sb.equipment_id
        assert all(sa.values[name] != sb.values[name] for name in sa.values)


def test_adding_or_reordering_machines_does_not_change_the_others(
    make_plant: PlantFactory,
) -> None:
    alone = run(Fleet(make_plant("P-1"), seed=3), 300)
    crowded = run(Fleet(make_plant("P-0", "P-1", "P-2"), seed=3), 300)
    reordered = run(Fleet(make_plant("P-2", "P-1"), seed=3), 300)
    assert of(crowded, "P-1") == alone
    assert of(reordered, "P-1") == alone


def test_a_fault_changes_the_physics_but_not_the_noise(make_plant: PlantFactory) -> None:
    plant = make_plant("P-1", "P-2")
    healthy = run(Fleet(plant, seed=5), 1200)
    faults = [FaultInjection("P-1", ImpellerWear(onset=START + 600, time_to_failure=HOUR))]
    faulty = run(Fleet(plant, seed=5, faults=faults), 1200)
    assert of(faulty, "P-2") == of(healthy, "P-2")
    before = [s for s in of(faulty, "P-1") if s.ts <= START + 600]
    assert before == [s for s in of(healthy, "P-1") if s.ts <= START + 600]
    after_h = [s for s in of(healthy, "P-1") if s.ts > START + 600]
    after_f = [s for s in of(faulty, "P-1") if s.ts > START + 600]
    assert [s.values["vibration"] for s in after_f] == [s.values["vibration"] for s in after_h]
    assert all(f.values["flow"] < h.values["flow"] for f, h in zip(after_f, after_h, strict=True))


def test_samples_carry_every_signal_of_the_plant_at_the_tick_time(demo_plant: Plant) -> None:
    fleet = Fleet(demo_plant, seed=1)
    samples = fleet.tick(START, 1.0)
    assert [s.equipment_id for s in samples] == [eq.id for eq in demo_plant]
    assert len(fleet) == len(demo_plant)
    for sample in samples:
        assert sample.ts == START
        assert set(sample.values) == set(demo_plant.equipment[sample.equipment_id].signals)
    readings = samples[0].readings()
    assert readings[0] == Reading("P-101", "vibration", START, samples[0].values["vibration"])
    assert [r.signal for r in readings] == list(samples[0].values)


def _with_kiln() -> Plant:
    data: dict[str, Any] = {
        "site": {"id": "sim"},
        "types": {"kiln": {"signals": {"shell_temp": {"unit": "degC"}}}},
        "areas": [
            {
                "id": "area",
                "lines": [
                    {
                        "id": "line",
                        "equipment": [
                            {"id": "P-1", "type": "centrifugal_pump", "team": "mech"},
                            {"id": "K-1", "type": "kiln", "team": "mech"},
                        ],
                    }
                ],
            }
        ],
    }
    return plant_from_dict(data)


def test_equipment_of_an_unknown_type_is_an_error_naming_it_or_skipped() -> None:
    plant = _with_kiln()
    with pytest.raises(SimulatorError, match=r"'K-1' is of type 'kiln'.*skip_unsupported"):
        Fleet(plant, seed=1)
    fleet = Fleet(plant, seed=1, skip_unsupported=True)
    assert fleet.skipped == ("K-1",)
    assert [s.equipment_id for s in fleet.tick(START, 1.0)] == ["P-1"]
    with pytest.raises(SimulatorError, match=r"cannot inject BearingWear into 'K-1'.*kiln"):
        Fleet(
            plant,
            seed=1,
            skip_unsupported=True,
            faults=[FaultInjection("K-1", BearingWear(onset=START, time_to_failure=HOUR))],
        )


def test_a_fault_on_equipment_not_in_the_plant_is_an_error(make_plant: PlantFactory) -> None:
    fault = BearingWear(onset=START, time_to_failure=HOUR)
    with pytest.raises(SimulatorError, match=r"'P-9': it is not in the plant"):
        Fleet(make_plant("P-1"), seed=1, faults=[FaultInjection("P-9", fault)])


@dataclass(frozen=True)
class Corrosion(Fault):
    mechanism: ClassVar[str] = "corrosion"
    failure_mode: ClassVar[str] = "STD"


def test_a_fault_the_model_cannot_develop_is_an_error(make_plant: PlantFactory) -> None:
    fault = Corrosion(onset=START, time_to_failure=HOUR)
    with pytest.raises(SimulatorError, match=r"P-1: a centrifugal_pump cannot develop Corrosion"):
        Fleet(make_plant("P-1"), seed=1, faults=[FaultInjection("P-1", fault)])


def test_seed_must_be_a_non_negative_integer(make_plant: PlantFactory) -> None:
    with pytest.raises(SimulatorError, match="non-negative integer"):
        Fleet(make_plant("P-1"), seed=-1)


def test_custom_types_map_to_models_and_only_bound_signals_are_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data: dict[str, Any] = {
        "site": {"id": "sim"},
        "types": {
            "booster": {
                "signals": {
                    "flow": {"unit": "m3/h"},
                    "vibration": {"unit": "mm/s"},
                    "seal_leak": {"unit": "l/h"},
                }
            }
        },
        "areas": [
            {
                "id": "area",
                "lines": [
                    {"id": "line", "equipment": [{"id": "B-1", "type": "booster", "team": "m"}]}
                ],
            }
        ],
    }
    plant = plant_from_dict(data)
    with caplog.at_level(logging.WARNING, logger="simulators.fleet"):
        fleet = Fleet(plant, seed=1, models={"booster": CentrifugalPump})
    assert "B-1: the centrifugal_pump model does not produce seal_leak" in caplog.text
    (sample,) = fleet.tick(START, 1.0)
    assert list(sample.values) == ["vibration", "flow"]


def test_ground_truth_lists_each_fault_in_injection_order(make_plant: PlantFactory) -> None:
    faults = [
        FaultInjection("P-2", ImpellerWear(onset=START + 10, time_to_failure=HOUR)),
        FaultInjection("P-1", BearingWear(onset=START + 20, time_to_failure=2 * HOUR)),
    ]
    fleet = Fleet(make_plant("P-1", "P-2"), seed=1, faults=faults)
    run(fleet, 60)
    truths = fleet.ground_truth()
    assert [(t.equipment_id, t.fault, t.failure_mode) for t in truths] == [
        ("P-2", "ImpellerWear", "PDE"),
        ("P-1", "BearingWear", "VIB"),
    ]
    assert truths[1].onset == START + 20
    assert truths[1].failure_at == START + 20 + 2 * HOUR
    assert truths[1].crossings == ()
    assert truths[1].first_alarm is None
    assert truths[1].alarm_crossed_at is None


def test_dt_must_be_a_non_negative_number(make_plant: PlantFactory) -> None:
    fleet = Fleet(make_plant("P-1"), seed=1)
    with pytest.raises(SimulatorError, match="dt must be"):
        fleet.tick(START, -1.0)


def test_a_repaired_machine_runs_like_a_healthy_one_again(make_plant: PlantFactory) -> None:
    plant = make_plant("P-1")
    wear = BearingWear(onset=START + 60, time_to_failure=HOUR)
    healthy, faulty = (
        Fleet(plant, seed=5),
        Fleet(plant, seed=5, faults=[FaultInjection("P-1", wear)]),
    )
    for k in range(1800):
        h, f = healthy.tick(START + k, 1.0)[0], faulty.tick(START + k, 1.0)[0]
    assert f.values["vibration"] > h.values["vibration"] * 1.5
    assert faulty.repair("P-1") == (wear.name,)
    assert faulty.repair("P-1") == ()
    later = [
        (healthy.tick(START + k, 1.0)[0], faulty.tick(START + k, 1.0)[0]) for k in range(1800, 2400)
    ]
    settled = later[-60:]
    assert all(f.values["vibration"] < h.values["vibration"] * 1.2 for h, f in settled)
    assert [t.fault for t in faulty.ground_truth()] == [wear.name]  # what happened stays true
    with pytest.raises(SimulatorError, match="not simulated"):
        faulty.repair("P-9")
