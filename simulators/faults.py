"""The fault library: developing faults to inject into machine models.

A fault only states its timing (onset, time to failure, progression); each machine model says
what the fault's mechanism does to its signals (see e.g. `simulators.pump`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from simulators.base import Fault, Progression


@dataclass(frozen=True)
class BearingWear(Fault):
    """Rolling-element bearing wear: vibration grows (faster and faster), bearing temperature
    follows later and less. Failure mode VIB (abnormal vibration)."""

    shape: Progression = Progression.EXPONENTIAL

    mechanism: ClassVar[str] = "bearing_wear"
    failure_mode: ClassVar[str] = "VIB"


@dataclass(frozen=True)
class ImpellerWear(Fault):
    """Impeller and wear-ring erosion: flow and head fall, the motor draws a little less.
    Failure mode PDE (parameter deviation)."""

    shape: Progression = Progression.LINEAR

    mechanism: ClassVar[str] = "impeller_wear"
    failure_mode: ClassVar[str] = "PDE"
