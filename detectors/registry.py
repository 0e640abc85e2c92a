"""Detectors by the names a plant file (and the CLI) uses."""

from __future__ import annotations

from detectors.base import Detector
from detectors.cusum import Cusum
from detectors.drift import EwmaDrift
from detectors.errors import UnknownDetector
from detectors.limits import LimitDetector
from detectors.rate import RateOfChange
from detectors.zscore import EwmaZScore

REGISTRY: dict[str, type[Detector]] = {
    cls.name: cls for cls in (LimitDetector, EwmaDrift, EwmaZScore, RateOfChange, Cusum)
}

DEFAULT: tuple[str, ...] = ("limits", "ewma_drift")
"""What every signal gets when the plant file names nothing."""


def detector_class(name: str) -> type[Detector]:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownDetector(f"unknown detector {name!r}; known detectors: {known}") from None
