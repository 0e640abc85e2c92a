"""Faults: progression shapes, and what bearing and impeller wear do to a pump, as ground truth
records it."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest

from devices import Plant, Severity
from simulators import (
    BearingWear,
    FaultInjection,
    Fleet,
    GroundTruth,
    ImpellerWear,
    Progression,
    Sample,
    SimulatorError,
)

START = 1_767_225_600.0
HOUR = 3600.0
ONSET = START + HOUR
TTF = 8 * HOUR


@pytest.mark.parametrize("shape", [Progression.LINEAR, Progression.EXPONENTIAL])
def test_severity_grows_from_zero_at_onset_to_one_at_failure(shape: Progression) -> None:
    fault = BearingWear(onset=ONSET, time_to_failure=TTF, shape=shape)
    assert fault.failure_at == ONSET + TTF
    assert fault.severity(START) == 0.0
    assert fault.severity(ONSET) == 0.0
    assert fault.severity(fault.failure_at) == 1.0
    assert fault.severity(fault.failure_at + HOUR) == 1.0
    series = [fault.severity(ONSET + TTF * i / 100) for i in range(101)]
    assert all(b > a for a, b in itertools.pairwise(series))


def test_a_step_jumps_at_onset_holds_then_fails() -> None:
    fault = BearingWear(onset=ONSET, time_to_failure=TTF, shape=Progression.STEP, step_level=0.6)
    assert fault.severity(ONSET) == 0.0
    assert fault.severity(ONSET + 1) == 0.6
    assert fault.severity(fault.failure_at - 1) == 0.6
    assert fault.severity(fault.failure_at) == 1.0
    with pytest.raises(SimulatorError, match=r"step_level must be in \(0, 1\]"):
        BearingWear(onset=ONSET, time_to_failure=TTF, step_level=1.5)


def test_exponential_progression_starts_slower_and_ends_faster_than_linear() -> None:
    exp = Progression.EXPONENTIAL
    assert exp.severity(0.5) < 0.5
    assert exp.severity(0.1) - exp.severity(0.0) < exp.severity(1.0) - exp.severity(0.9)
    assert Progression.LINEAR.severity(0.25) == 0.25


def test_default_shapes_and_failure_modes() -> None:
    assert BearingWear(onset=0, time_to_failure=1).shape is Progression.EXPONENTIAL
    assert ImpellerWear(onset=0, time_to_failure=1).shape is Progression.LINEAR
    by_name = ImpellerWear(onset=0, time_to_failure=1, shape="exponential")  # type: ignore[arg-type]
    assert by_name.shape is Progression.EXPONENTIAL
    assert (BearingWear.failure_mode, ImpellerWear.failure_mode) == ("VIB", "PDE")


def test_an_unknown_shape_is_an_error_listing_the_known_ones() -> None:
    with pytest.raises(SimulatorError, match=r"unknown progression shape 'sudden'.*linear"):
        BearingWear(onset=ONSET, time_to_failure=TTF, shape="sudden")  # type: ignore[arg-type]


@pytest.mark.parametrize("ttf", [0.0, -5.0, math.inf, math.nan])
def test_time_to_failure_must_be_positive_and_finite(ttf: float) -> None:
    with pytest.raises(
        SimulatorError, match="BearingWear: time_to_failure must be a positive number"
    ):
        BearingWear(onset=ONSET, time_to_failure=ttf)


def simulate(
    plant: Plant, fault: BearingWear | ImpellerWear, seed: int = 11
) -> tuple[list[Sample], list[Sample], GroundTruth]:
    """Healthy twin and faulty pump P-1 (same seed, so the same noise) until an hour after
    failure, every 2 s."""
    healthy = Fleet(plant, seed=seed)
    faulty = Fleet(plant, seed=seed, faults=[FaultInjection("P-1", fault)])
    h: list[Sample] = []
    f: list[Sample] = []
    ts = START
    while ts <= fault.failure_at + HOUR:
        h.extend(healthy.tick(ts, 2.0))
        f.extend(faulty.tick(ts, 2.0))
        ts += 2.0
    (truth,) = faulty.ground_truth()
    return h, f, truth


def at(samples: list[Sample], ts: float) -> Sample:
    return min(samples, key=lambda s: abs(s.ts - ts))


def test_bearing_wear_drives_vibration_across_warning_then_alarm_before_failure(
    make_plant: Callable[..., Plant],
) -> None:
    plant = make_plant("P-1")
    fault = BearingWear(onset=ONSET, time_to_failure=TTF)
    healthy, faulty, truth = simulate(plant, fault)
    limits = plant.signal("P-1", "vibration").limits
    assert limits.warn_high is not None
    assert limits.alarm_high is not None

    assert {c.signal for c in truth.crossings} == {"vibration"}
    warning, alarm = truth.first_warning, truth.first_alarm
    assert warning is not None
    assert alarm is not None
    assert (warning.severity, alarm.severity) == (Severity.WARNING, Severity.ALARM)
    assert ONSET < warning.ts < alarm.ts < fault.failure_at
    assert warning.value > limits.warn_high
    assert alarm.value > limits.alarm_high
    assert alarm.limit == limits.alarm_high
    assert 0.7 < (alarm.ts - ONSET) / TTF < 0.9
    assert truth.alarm_crossed_at == alarm.ts
    assert truth.warning_crossed_at == warning.ts

    fail_f, fail_h = at(faulty, fault.failure_at), at(healthy, fault.failure_at)
    assert 8.0 < fail_f.values["vibration"] < 9.5
    temp_rise = fail_f.values["bearing_temp"] - fail_h.values["bearing_temp"]
    assert 10 < temp_rise < 16
    mid_f, mid_h = at(faulty, ONSET + TTF / 2), at(healthy, ONSET + TTF / 2)
    vib_share = (mid_f.values["vibration"] - mid_h.values["vibration"]) / (
        fail_f.values["vibration"] - fail_h.values["vibration"]
    )
    temp_share = (mid_f.values["bearing_temp"] - mid_h.values["bearing_temp"]) / temp_rise
    assert temp_share < vib_share
    temp_warning = plant.signal("P-1", "bearing_temp").limits.warn_high
    assert temp_warning is not None
    for f, h in zip(faulty, healthy, strict=True):
        assert f.values["flow"] == h.values["flow"]
        assert f.values["discharge_pressure"] == h.values["discharge_pressure"]
        assert abs(f.values["motor_current"] / h.values["motor_current"] - 1) < 0.01
        assert f.values["bearing_temp"] < temp_warning


def test_impeller_wear_drives_flow_and_pressure_below_their_low_limits_before_failure(
    make_plant: Callable[..., Plant],
) -> None:
    plant = make_plant("P-1")
    fault = ImpellerWear(onset=ONSET, time_to_failure=10 * HOUR)
    healthy, faulty, truth = simulate(plant, fault)

    crossed = {(c.signal, c.severity) for c in truth.crossings}
    assert crossed == {
        ("flow", Severity.WARNING),
        ("flow", Severity.ALARM),
        ("discharge_pressure", Severity.WARNING),
        ("discharge_pressure", Severity.ALARM),
    }
    for name in ("flow", "discharge_pressure"):
        limits = plant.signal("P-1", name).limits
        warning, alarm = (
            next(c for c in truth.crossings if (c.signal, c.severity) == (name, severity))
            for severity in (Severity.WARNING, Severity.ALARM)
        )
        assert ONSET < warning.ts < alarm.ts < fault.failure_at
        assert limits.alarm_low is not None
        assert alarm.value < limits.alarm_low
        assert at(faulty, fault.failure_at).values[name] < limits.alarm_low
    assert truth.first_warning is not None
    assert truth.first_warning.signal in ("flow", "discharge_pressure")
    assert [c.ts for c in truth.crossings] == sorted(c.ts for c in truth.crossings)

    current_drop = (
        1
        - at(faulty, fault.failure_at).values["motor_current"]
        / at(healthy, fault.failure_at).values["motor_current"]
    )
    assert 0.02 < current_drop < 0.1
    for f, h in zip(faulty, healthy, strict=True):
        assert f.values["vibration"] == h.values["vibration"]
        assert f.values["bearing_temp"] == h.values["bearing_temp"]


def test_ground_truth_only_counts_crossings_from_onset_on(
    make_plant: Callable[..., Plant],
) -> None:
    plant = make_plant("P-1")
    fault = ImpellerWear(onset=ONSET, time_to_failure=HOUR)
    fleet = Fleet(plant, seed=3, faults=[FaultInjection("P-1", fault)])
    for k in range(int(ONSET - START)):
        fleet.tick(START + k, 1.0)
    assert fleet.ground_truth()[0].crossings == ()
