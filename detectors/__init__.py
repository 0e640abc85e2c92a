"""Online detection: pure, synchronous scoring of readings into findings (no I/O here)."""

from detectors.base import Detector, EquipmentDetector, surprise_score
from detectors.decision import Debounce, Transition
from detectors.drift import EwmaDrift
from detectors.engine import Engine, EngineStats
from detectors.errors import DetectorConfigError, DetectorError, SnapshotError, UnknownDetector
from detectors.limits import LimitDetector
from detectors.registry import DEFAULT, REGISTRY, detector_class

__all__ = [
    "DEFAULT",
    "REGISTRY",
    "Debounce",
    "Detector",
    "DetectorConfigError",
    "DetectorError",
    "Engine",
    "EngineStats",
    "EquipmentDetector",
    "EwmaDrift",
    "LimitDetector",
    "SnapshotError",
    "Transition",
    "UnknownDetector",
    "detector_class",
    "surprise_score",
]
