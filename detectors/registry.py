"""Detectors by the names a plant file (and the CLI) uses, and how a configuration builds one."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from detectors.base import Detector, EquipmentDetector
from detectors.cusum import Cusum
from detectors.drift import EwmaDrift
from detectors.errors import DetectorConfigError, UnknownDetector
from detectors.health import Flatline, Noise, PhysicalRange, Spikes, StaleSensor
from detectors.hst import HalfSpaceTreesDetector
from detectors.likelihood import AnomalyLikelihood
from detectors.limits import LimitDetector
from detectors.onset import OnsetDetector
from detectors.rate import RateOfChange
from detectors.regime import RegimeBaseline
from detectors.relations import RelationsDetector
from detectors.shift import ShiftDetector
from detectors.zscore import EwmaZScore
from devices import DetectorConfig, Equipment, Signal

D = TypeVar("D", Detector, EquipmentDetector)

REGISTRY: dict[str, type[Detector] | type[EquipmentDetector]] = {
    cls.name: cls
    for cls in (
        LimitDetector,
        EwmaDrift,
        EwmaZScore,
        RateOfChange,
        Cusum,
        StaleSensor,
        Flatline,
        Noise,
        Spikes,
        PhysicalRange,
        RegimeBaseline,
        HalfSpaceTreesDetector,
        AnomalyLikelihood,
        RelationsDetector,
        ShiftDetector,
        OnsetDetector,
    )
}

DEFAULT: tuple[str, ...] = (
    "limits",
    "ewma_drift",
    "stale",
    "flatline",
    "noise",
    "physical_range",
    "relations",
    "shift",
    "onset",
)
"""The default ensemble: what every equipment and signal gets when nothing names detectors.

Chosen on the simulators' fault library and healthy fleets (BENCHMARKS.md): limits and slow drift
per signal, the sensor-health checks that raised nothing on healthy machines, and the relations
between an equipment's signals. Among those checks, `noise` catches a sensor that got much noisier
(mixed-plant's discharge temperature, which nothing else caught) and no start, stop or load step
of the healthy fleets: it compares a median of the sample-to-sample movement, which a few large
steps barely move, with the noisiest that median was in every regime of a day's learning.
`shift` judges the joint state of an equipment's signals once a healthy baseline is named
(`forewarn score --train-rows`, `forewarn learn`). `onset` marks where each signal starts to
behave unusually, once per episode, with notices that open no work order (what ranks NAB's
anomalies). Left out by default, for plant files to name where they fit: `zscore`,
`rate_of_change` and `cusum` (each fires on the starts and stops of machines run in shifts),
`spike` (sensors whose normal behaviour is spiky), `likelihood` (abrupt changes in data without
start/stop cycles), `regime_baseline` (a day of learning per load band) and
`half_space_trees`."""


def detector_class(name: str) -> type[Detector] | type[EquipmentDetector]:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownDetector(f"unknown detector {name!r}; known detectors: {known}") from None


def is_equipment_detector(name: str) -> bool:
    """True if `name` scores an equipment's signals together rather than one signal."""
    return issubclass(detector_class(name), EquipmentDetector)


def build_for_signal(config: DetectorConfig, signal: Signal) -> Detector | None:
    """The detector `config` names, for `signal`; None if it does not apply to that signal."""
    cls = detector_class(config.name)
    if not issubclass(cls, Detector):
        raise DetectorConfigError(
            f"detector {config.name!r} scores an equipment's signals together; name it in the "
            "equipment's (or its type's) detectors, not a signal's"
        )
    return _configured(cls.for_signal(signal), config)


def build_for_equipment(config: DetectorConfig, equipment: Equipment) -> EquipmentDetector | None:
    """The equipment detector `config` names; None if it does not apply to that equipment."""
    cls = detector_class(config.name)
    if not issubclass(cls, EquipmentDetector):
        raise DetectorConfigError(f"detector {config.name!r} scores one signal, not an equipment")
    return _configured(cls.for_equipment(equipment), config)


def _configured(detector: D | None, config: DetectorConfig) -> D | None:
    if detector is None or not config.params:
        return detector
    if not dataclasses.is_dataclass(detector):
        raise DetectorConfigError(f"detector {config.name!r} takes no parameters")
    fields = {f.name: f for f in dataclasses.fields(detector) if f.init}
    for key, value in config.params.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise DetectorConfigError(
                f"detector {config.name!r} has no parameter {key!r}; its parameters: {known}"
            )
        default = getattr(detector, key)
        numeric = (int, float)
        if isinstance(default, bool) != isinstance(value, bool) or (
            isinstance(default, numeric) and not isinstance(value, numeric)
        ):
            raise DetectorConfigError(
                f"parameter {key!r} of detector {config.name!r} must be like {default!r}, "
                f"not {value!r}"
            )
    return dataclasses.replace(detector, **config.params)
