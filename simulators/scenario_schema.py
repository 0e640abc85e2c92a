"""The scenario file format, validated with pydantic.

    name: bearing-failure
    description: One pump's bearing wears out over two days.
    plant: plants/water-works.yaml        # a plant file (relative to this file), or inline
    seed: 7
    start: 2026-01-05T00:00:00Z           # simulated start (UTC); default: that Monday
    duration: 3d
    period: 10s                           # one sample of every machine every 10 s
    speed: max                            # simulated seconds per real second, or max
    samples_per_message: 6                # MQTT JSON: samples packed per message
    operation: {}                         # how every machine is run (default: around the clock)
    types:                                # ... per equipment type
      conveyor: {operation: {shifts: [{start: "06:00", end: "22:00"}], days: weekdays}}
    machines:                             # ... per machine
      P-101: {operation: {load: 0.9}}
    faults:
      - {equipment: P-103, fault: bearing_wear, onset: 1d, time_to_failure: 36h}
      - {equipment: P-105, fault: stuck, signal: bearing_temp, onset: 30h, duration: 4h}

Times (`onset`) are a duration after `start` or an ISO 8601 timestamp. The models here describe
what a person writes; `simulators.scenario` resolves them against the plant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from simulators.base import Progression
from simulators.faults import FAULTS

DEFAULT_START = "2026-01-05T00:00:00Z"
"""A Monday, so that weekday shift patterns start on the first day."""

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)?")
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_HOUR = re.compile(r"^(\d{1,2}):(\d{2})$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_time(value: Any) -> float:
    """An ISO 8601 timestamp (UTC if no zone is given) or an epoch number, in epoch seconds."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not a time; write ISO 8601 such as 2026-01-05T06:00:00Z"
            ) from None
    else:
        raise ValueError(f"{value!r} is not a time; write ISO 8601 such as 2026-01-05T06:00:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_duration(value: Any) -> Any:
    """Seconds from a number or a text such as '500ms', '10s', '5m', '36h', '2d', '1d12h', '1w'.
    Anything else is returned as it is, for pydantic to reject."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "")
    total, position = 0.0, 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(
                f"{value!r} is not a duration; write seconds or e.g. '10s', '5m', '36h', '1d12h'"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
        position = match.end()
    if not text:
        raise ValueError("a duration must not be empty")
    return total


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
"""A positive duration: seconds, or e.g. '10s', '5m', '36h', '1d12h'."""
NonNegativeSeconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]


def _start(value: Any) -> Any:
    return parse_time(value)


def _moment(value: Any) -> Any:
    """A duration after the start (kept as ("after", seconds)) or an absolute time."""
    if isinstance(value, datetime) or (isinstance(value, str) and re.match(r"^\d{4}-", value)):
        return ("at", parse_time(value))
    seconds = parse_duration(value)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(
            f"{value!r} is neither a duration after the start (e.g. 36h, 2d) nor an ISO 8601 time"
        )
    return ("after", float(seconds))


def _hour(value: Any) -> Any:
    if isinstance(value, str):
        match = _HOUR.match(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a time of day; write HH:MM (UTC), e.g. 06:00")
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours > 24 or minutes >= 60 or (hours == 24 and minutes):
            raise ValueError(f"{value!r} is not a time of day between 00:00 and 24:00")
        return hours + minutes / 60.0
    return value


def _days(value: Any) -> Any:
    if value == "weekdays":
        return [0, 1, 2, 3, 4]
    if value in ("all", "every day"):
        return list(range(7))
    if isinstance(value, list):
        out: list[Any] = []
        for day in value:
            if isinstance(day, str) and day[:3].lower() in _DAYS:
                out.append(_DAYS[day[:3].lower()])
            else:
                out.append(day)
        return out
    return value


def _speed(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("max", "inf", "fastest"):
        return float("inf")
    return value


Moment = Annotated[tuple[Literal["after", "at"], float], BeforeValidator(_moment)]
HourOfDay = Annotated[float, BeforeValidator(_hour), Field(ge=0, le=24)]
Load = Annotated[float, Field(gt=0, le=1.2)]


class ShiftSpec(_Spec):
    start: HourOfDay
    end: HourOfDay
    load: Load | None = None


class LoadChangesSpec(_Spec):
    levels: list[Load] = Field(min_length=2)
    mean_dwell: Seconds = 4 * 3600.0
    ramp: NonNegativeSeconds = 300.0


class OperationSpec(_Spec):
    """How a machine is run; see `simulators.operation.Operation`."""

    shifts: list[ShiftSpec] = []
    days: Annotated[list[Annotated[int, Field(ge=0, le=6)]], BeforeValidator(_days)] = Field(
        default=list(range(7)), min_length=1
    )
    """Weekdays with shifts: a list of mon..sun (or 0..6), 'weekdays' or 'all'."""
    off_shift: Load | None = None
    load: Load | None = None
    load_changes: LoadChangesSpec | None = None
    jitter: NonNegativeSeconds = 300.0


class MachineSpec(_Spec):
    operation: OperationSpec


class FaultSpec(_Spec):
    """A machine fault (one of simulators.faults.FAULTS) developing on one equipment."""

    equipment: str
    fault: str
    onset: Moment
    time_to_failure: Seconds
    shape: Progression | None = None
    """Default: the fault's own (exponential for bearing wear, linear for erosion...)."""
    step_level: Annotated[float, Field(gt=0, le=1)] = 0.5


class SensorFaultSpec(_Spec):
    """A sensor fault (one of simulators.sensor_faults.SENSOR_FAULTS) on one signal."""

    equipment: str
    fault: str
    signal: str
    onset: Moment
    duration: Seconds | None = None
    """Default: to the end of the run."""


class StuckSpec(SensorFaultSpec):
    pass


class DriftSpec(SensorFaultSpec):
    rate: float | None = None
    """Units per hour (negative drifts down); default: 2% of the value at onset per hour."""


class SpikesSpec(SensorFaultSpec):
    probability: Annotated[float, Field(gt=0, le=1)] = 0.01
    magnitude: Annotated[float, Field(gt=0)] | None = None


class DropoutSpec(SensorFaultSpec):
    probability: Annotated[float, Field(gt=0, le=1)] = 1.0


class NoiseSpec(SensorFaultSpec):
    sd: Annotated[float, Field(gt=0)] | None = None


SENSOR_FAULT_SPECS: dict[str, type[SensorFaultSpec]] = {
    "stuck": StuckSpec,
    "drift": DriftSpec,
    "spikes": SpikesSpec,
    "dropout": DropoutSpec,
    "noise": NoiseSpec,
}


class ScenarioSpec(_Spec):
    name: str = ""
    """Default: the file name without extension."""
    description: str = ""
    plant: str | dict[str, Any]
    """A plant file (relative to the scenario file) or the plant itself, as in a plant file."""
    seed: Annotated[int, Field(ge=0)] = 0
    start: Annotated[float, BeforeValidator(_start)] = Field(
        default_factory=lambda: parse_time(DEFAULT_START)
    )
    duration: Seconds
    period: Seconds = 1.0
    """One sample of every machine every `period` seconds."""
    speed: Annotated[float, BeforeValidator(_speed), Field(gt=0)] = float("inf")
    """Simulated seconds per real second; `max` runs as fast as possible."""
    samples_per_message: Annotated[int, Field(ge=1, le=10_000)] = 1
    skip_unsupported: bool = False
    """Leave out equipment of types the simulator has no model for, instead of failing."""
    operation: OperationSpec = OperationSpec()
    types: dict[str, MachineSpec] = {}
    machines: dict[str, MachineSpec] = {}
    faults: list[dict[str, Any]] = []
    """Each checked against the model of its `fault` (see `fault_spec`)."""

    @field_validator("faults", mode="before")
    @classmethod
    def _fault_entries(cls, value: Any) -> Any:
        if isinstance(value, list):
            for entry in value:
                if not isinstance(entry, dict):
                    raise ValueError(
                        "each fault must be a mapping with 'equipment', 'fault' and 'onset'"
                    )
        return value


def fault_spec(entry: dict[str, Any]) -> type[FaultSpec] | type[SensorFaultSpec] | None:
    """The model that validates a `faults:` entry, from its `fault` name (None: unknown)."""
    name = entry.get("fault")
    if name in FAULTS:
        return FaultSpec
    if isinstance(name, str):
        return SENSOR_FAULT_SPECS.get(name)
    return None
