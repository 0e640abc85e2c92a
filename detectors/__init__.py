"""Online detection: pure, synchronous scoring of readings into findings (no I/O here)."""

from detectors.bank import FAMILY, UnivariateBank
from detectors.base import Detector, EquipmentDetector, surprise_score
from detectors.cusum import Cusum
from detectors.decision import Debounce, Transition
from detectors.drift import EwmaDrift
from detectors.engine import Engine, EngineStats
from detectors.errors import (
    DetectorConfigError,
    DetectorError,
    InvalidInput,
    SnapshotError,
    UnknownDetector,
)
from detectors.limits import LimitDetector
from detectors.rate import RateOfChange
from detectors.registry import DEFAULT, REGISTRY, detector_class
from detectors.zscore import EwmaZScore

__all__ = [
    "DEFAULT",
    "FAMILY",
    "REGISTRY",
    "Cusum",
    "Debounce",
    "Detector",
    "DetectorConfigError",
    "DetectorError",
    "Engine",
    "EngineStats",
    "EquipmentDetector",
    "EwmaDrift",
    "EwmaZScore",
    "InvalidInput",
    "LimitDetector",
    "RateOfChange",
    "SnapshotError",
    "Transition",
    "UnivariateBank",
    "UnknownDetector",
    "detector_class",
    "surprise_score",
]
