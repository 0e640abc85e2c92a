"""The plant file format, validated with pydantic.

These models describe what a person writes; `devices.plant` resolves them (types merged into
equipment, topics expanded) into the runtime model the other packages use.
"""

from __future__ import annotations

import enum
import itertools
import re
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from devices.bindings import (
    EquipmentOpcUa,
    EquipmentSparkplug,
    OpcUaBinding,
    OpcUaSpec,
    PayloadFormat,
    PayloadSpec,
    SparkplugBinding,
    SparkplugSpec,
    TimestampUnit,
    parse_path,
)
from devices.organisation import ActionSpec, OrganisationSpec
from devices.records import FindingKind

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def _parse_duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"{value!r} is not a duration; write seconds or e.g. '500ms', '10s', '5m', '1h'"
            )
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    return value


DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "string", "pattern": _DURATION.pattern},
    ]
}
Seconds = Annotated[
    float, BeforeValidator(_parse_duration), Field(gt=0), WithJsonSchema(DURATION_SCHEMA)
]
"""A positive duration in seconds; a plant file may also write '500ms', '10s', '5m', '1h', '1d'."""

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="letters, digits, '.', '_' and '-' (it becomes part of MQTT topics)",
    ),
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class TimestampSource(enum.StrEnum):
    DEVICE = "device"
    """The payload's timestamp (JSON `ts`, Sparkplug metric time, OPC UA SourceTimestamp)."""
    RECEIVE_TIME = "receive_time"


class Criticality(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Limits(_Spec):
    """Warning and alarm limits of a signal; any of them may be absent."""

    warn_high: float | None = None
    alarm_high: float | None = None
    warn_low: float | None = None
    alarm_low: float | None = None
    deadband: float | None = Field(default=None, ge=0)
    """How far back inside a limit the value must come before the condition clears."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        order = [
            ("alarm_low", self.alarm_low),
            ("warn_low", self.warn_low),
            ("warn_high", self.warn_high),
            ("alarm_high", self.alarm_high),
        ]
        present = [(name, value) for name, value in order if value is not None]
        for (low_name, low), (high_name, high) in itertools.pairwise(present):
            if not low < high:
                raise ValueError(f"{low_name} ({low}) must be below {high_name} ({high})")
        return self

    def merged(self, override: Limits) -> Limits:
        """These limits with the fields that `override` sets replaced."""
        data = self.model_dump()
        data.update({name: getattr(override, name) for name in override.model_fields_set})
        return Limits.model_validate(data)


class PhysicalRange(_Spec):
    """What the sensor can physically report; a value outside it means the sensor is broken."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class DetectorSpec(_Spec):
    """A detector by its registered name, with parameters; a bare name is accepted too."""

    name: str = Field(min_length=1)
    params: dict[str, float | int | bool | str] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [{"type": "string", "description": "a detector name"}, handler(schema)]}


class MqttBinding(_Spec):
    topic: str | None = None
    """Topic carrying this signal; default: the plant's topic template for its equipment."""
    field: str | None = None
    """Key of the value in the payload's `values` (default: the signal name); with the `value`
    format the key of the value (default: value); with the `paths` format a field path such as
    data.pump[0].vibration (default: the signal name)."""


class SignalSpec(_Spec):
    unit: str = ""
    description: str = ""
    sample_period: Seconds = 1.0
    """How often the source is expected to send a value."""
    limits: Limits = Limits()
    mqtt: MqttBinding = MqttBinding()
    opcua: OpcUaBinding | None = None
    sparkplug: SparkplugBinding = SparkplugBinding()
    range: PhysicalRange | None = None
    """Physical range of the sensor (default: what its unit allows, e.g. no negative mm/s)."""
    detectors: list[DetectorSpec] | None = None
    """Detectors of this signal, replacing those its equipment gets."""
    enabled: bool = True
    """False removes the signal (as `signal_name: null` does): the machine does not have it."""

    def merged(self, override: SignalSpec) -> SignalSpec:
        """This spec with what `override` sets replaced; limits are merged field by field."""
        update: dict[str, Any] = {
            name: getattr(override, name) for name in override.model_fields_set
        }
        if "limits" in update:
            update["limits"] = self.limits.merged(override.limits)
        return self.model_copy(update=update)


class FailureModeSpec(_Spec):
    """A failure mode in ISO 14224 terms, with what indicates it and what to check."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    mechanism: str = ""
    signals: list[str] = []
    """Signals whose findings point to this mode; empty means any signal."""
    kinds: list[FindingKind] = [FindingKind.LIMIT, FindingKind.DRIFT, FindingKind.ANOMALY]
    checks: list[str] = []
    """Recommended checks; they become the work order's instructions."""
    auto_resolve: bool = False
    """Close the work order by itself when the condition clears (sensor faults, for instance)."""
    skills: list[str] = []
    """Skill tags a technician needs for this failure mode (assignment prefers them)."""


class EquipmentTypeSpec(_Spec):
    description: str = ""
    signals: dict[Identifier, SignalSpec] = {}
    failure_modes: list[FailureModeSpec] = []
    regime_signal: Identifier | None = None
    """The load or speed signal whose level tells operating regimes apart."""
    detectors: list[DetectorSpec] | None = None
    """Detectors of equipment of this type (per signal and per equipment), replacing the plant's."""


class EquipmentSpec(_Spec):
    id: Identifier
    name: str = ""
    type: Identifier
    """A type of the built-in library (devices/library.yaml: centrifugal_pump, induction_motor,
    fan, compressor, gearbox, conveyor, ...) or one defined under `types:`; it gives the signals,
    their units and limits, and the failure modes."""
    criticality: Criticality = Criticality.MEDIUM
    """Raises or lowers the priority of the equipment's work orders."""
    team: str = Field(min_length=1)
    """Maintenance team that owns this equipment's work orders."""
    signals: dict[Identifier, SignalSpec | None] = {}
    """Signals added to, or overriding fields of, those of the equipment type; `name: null` (or
    `enabled: false`) removes one of the type's signals the machine does not have."""
    mqtt: PayloadSpec = PayloadSpec()
    opcua: EquipmentOpcUa | None = None
    sparkplug: EquipmentSparkplug = EquipmentSparkplug()
    regime_signal: Identifier | None = None
    """Overrides the type's regime signal."""
    detectors: list[DetectorSpec] | None = None
    """Detectors of this equipment, replacing its type's."""
    timestamp_source: TimestampSource = TimestampSource.DEVICE
    """`receive_time`: stamp its readings with the time they arrive (no clock, or a wrong one)."""


class LineSpec(_Spec):
    id: Identifier
    name: str = ""
    equipment: list[EquipmentSpec] = []


class AreaSpec(_Spec):
    id: Identifier
    name: str = ""
    lines: list[LineSpec] = []


class SiteSpec(_Spec):
    id: Identifier
    name: str = ""


class MqttSpec(_Spec):
    """How JSON telemetry arrives over MQTT (docs/mqtt-json.md)."""

    topic: str = "{site}/{area}/{line}/{equipment}/telemetry"
    """Topic template; placeholders: {site}, {area}, {line}, {equipment}."""
    format: PayloadFormat = PayloadFormat.VALUES
    """`values`: {"ts": ..., "values": {signal: number}}; `value`: one number per topic
    (`signal_topic`); `paths`: any JSON, each signal's `mqtt.field` a path such as a.b[0].c."""
    signal_topic: str = "{site}/{area}/{line}/{equipment}/{signal}"
    """Topic template of each signal with the `value` format (one value per topic)."""
    timestamp_field: str = "ts"
    """Where the timestamp is (a field path); without it, the receive time is used."""
    timestamp_unit: TimestampUnit = TimestampUnit.AUTO

    @field_validator("timestamp_field")
    @classmethod
    def _timestamp_path(cls, value: str) -> str:
        parse_path(value)
        return value

    @field_validator("signal_topic")
    @classmethod
    def _signal_placeholders(cls, topic: str) -> str:
        unknown = set(re.findall(r"{([^}]*)}", topic)) - {
            "site",
            "area",
            "line",
            "equipment",
            "signal",
        }
        if unknown or "{signal}" not in topic:
            raise ValueError(
                "the signal topic template takes {site}, {area}, {line}, {equipment} and must "
                "contain {signal}"
            )
        return topic

    @field_validator("topic")
    @classmethod
    def _known_placeholders(cls, topic: str) -> str:
        unknown = set(re.findall(r"{([^}]*)}", topic)) - {"site", "area", "line", "equipment"}
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)} in topic template; "
                "use {site}, {area}, {line}, {equipment}"
            )
        if "{equipment}" not in topic:
            raise ValueError("the topic template must contain {equipment}")
        return topic


class PlantSpec(_Spec):
    site: SiteSpec
    """The site; its id is the first level of the default topics and the Sparkplug group."""
    mqtt: MqttSpec = MqttSpec()
    opcua: OpcUaSpec = OpcUaSpec()
    sparkplug: SparkplugSpec = SparkplugSpec()
    types: dict[Identifier, EquipmentTypeSpec] = {}
    """Equipment types added to, or replacing, the built-in library."""
    detectors: list[DetectorSpec] | None = None
    """Detectors every equipment gets unless its type or itself names others; default: the
    default ensemble."""
    areas: list[AreaSpec] = Field(min_length=1)
    """The site's areas, each with lines of equipment (the ISA-95 hierarchy)."""
    organisation: OrganisationSpec = OrganisationSpec()
    """Teams, technicians, escalation contacts and service levels (see devices.organisation)."""
    actions: list[ActionSpec] = []
    """Automatic actions when an order of a failure mode opens or escalates."""
