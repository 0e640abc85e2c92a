"""The plant model and the records every package speaks.

`devices` depends on nothing else in forewarn; every other package depends on it.
"""

from devices.bindings import (
    Deadband,
    DeadbandType,
    FieldPath,
    OpcUaNode,
    OpcUaServerSpec,
    PayloadFormat,
    SecurityMode,
    SecurityPolicy,
    SparkplugAddress,
    SubscriptionMode,
    TimestampUnit,
    TopicFormat,
    parse_path,
)
from devices.clock import ClockPolicy, ClockVerdict, ClockWatch
from devices.columns import QUALITIES, ColumnSink, ReadingColumns, StreamKey
from devices.errors import DevicesError, PlantFileError, SparkplugError
from devices.loader import load_plant, plant_from_dict
from devices.organisation import (
    ActionEvent,
    AutomaticAction,
    EscalationLevel,
    Organisation,
    Person,
    Shift,
    Sla,
    Team,
)
from devices.plant import DetectorConfig, Equipment, FailureMode, Plant, Route, Signal
from devices.records import Finding, FindingKind, Point, Quality, Reading, Severity, new_reading
from devices.schema import Criticality, Limits

__all__ = [
    "QUALITIES",
    "ActionEvent",
    "AutomaticAction",
    "ClockPolicy",
    "ClockVerdict",
    "ClockWatch",
    "ColumnSink",
    "Criticality",
    "Deadband",
    "DeadbandType",
    "DetectorConfig",
    "DevicesError",
    "Equipment",
    "EscalationLevel",
    "FailureMode",
    "FieldPath",
    "Finding",
    "FindingKind",
    "Limits",
    "OpcUaNode",
    "OpcUaServerSpec",
    "Organisation",
    "PayloadFormat",
    "Person",
    "Plant",
    "PlantFileError",
    "Point",
    "Quality",
    "Reading",
    "ReadingColumns",
    "Route",
    "SecurityMode",
    "SecurityPolicy",
    "Severity",
    "Shift",
    "Signal",
    "Sla",
    "SparkplugAddress",
    "SparkplugError",
    "StreamKey",
    "SubscriptionMode",
    "Team",
    "TimestampUnit",
    "TopicFormat",
    "load_plant",
    "new_reading",
    "parse_path",
    "plant_from_dict",
]
