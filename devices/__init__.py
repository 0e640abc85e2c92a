"""The plant model and the records every package speaks.

`devices` depends on nothing else in forewarn; every other package depends on it.
"""

from devices.errors import DevicesError, PlantFileError
from devices.loader import load_plant, plant_from_dict
from devices.plant import Equipment, FailureMode, Plant, Route, Signal
from devices.records import Finding, FindingKind, Point, Quality, Reading, Severity
from devices.schema import Criticality, Limits

__all__ = [
    "Criticality",
    "DevicesError",
    "Equipment",
    "FailureMode",
    "Finding",
    "FindingKind",
    "Limits",
    "Plant",
    "PlantFileError",
    "Point",
    "Quality",
    "Reading",
    "Route",
    "Severity",
    "Signal",
    "load_plant",
    "plant_from_dict",
]
