"""The fault library: developing machine faults to inject into machine models.

A fault only states its timing (onset, time to failure, progression); each machine model says
what the fault's mechanism does to its signals (see the model modules). The default progression
of each fault follows its physics: wear that feeds itself is exponential, erosion and fouling are
linear; any fault can be given any shape.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class Imbalance(Fault):
    """Mass imbalance of a rotor (fouling build-up, erosion, a lost balance weight): vibration at
    running speed, growing with the square of the speed. Failure mode VIB."""

    shape: Progression = Progression.LINEAR

    mechanism: ClassVar[str] = "imbalance"
    failure_mode: ClassVar[str] = "VIB"


@dataclass(frozen=True)
class Misalignment(Fault):
    """Shaft or pulley misalignment (foundation settling, thermal growth, a loose mount):
    vibration, bearing heat and a little more current. Failure mode VIB."""

    shape: Progression = Progression.LINEAR

    mechanism: ClassVar[str] = "misalignment"
    failure_mode: ClassVar[str] = "VIB"


@dataclass(frozen=True)
class Cavitation(Fault):
    """Pump cavitation as the suction side starves (a clogging strainer, a falling tank level):
    head and flow fall and become erratic, vibration rises in bursts. Failure mode PDE, or VIB
    when the vibration is what gets noticed."""

    shape: Progression = Progression.LINEAR

    mechanism: ClassVar[str] = "cavitation"
    failure_mode: ClassVar[str] = "PDE"
    also_seen_as: ClassVar[tuple[str, ...]] = ("VIB",)


@dataclass(frozen=True)
class CoolingLoss(Fault):
    """Loss of cooling (a blocked cooling fan or fouled fins, a failing oil or air cooler): the
    temperature rise above ambient grows until the machine overheats. Failure mode OHE."""

    shape: Progression = Progression.LINEAR

    mechanism: ClassVar[str] = "cooling_loss"
    failure_mode: ClassVar[str] = "OHE"


@dataclass(frozen=True)
class LubricationLoss(Fault):
    """Lubricant loss or breakdown (a leaking seal, a missed regreasing): friction heats the
    bearings (or the oil) faster and faster, then vibration follows. Failure mode VIB (the
    bearing), or OHE where the oil temperature is watched."""

    shape: Progression = Progression.EXPONENTIAL

    mechanism: ClassVar[str] = "lubrication_loss"
    failure_mode: ClassVar[str] = "VIB"
    also_seen_as: ClassVar[tuple[str, ...]] = ("OHE",)


@dataclass(frozen=True)
class SealLeak(Fault):
    """A leaking seal or joint of a pressurised system: the machine works harder to hold the
    pressure, then cannot. Failure mode ELP (external leakage of the process medium)."""

    shape: Progression = Progression.EXPONENTIAL

    mechanism: ClassVar[str] = "seal_leak"
    failure_mode: ClassVar[str] = "ELP"


@dataclass(frozen=True)
class BeltSlip(Fault):
    """A stretched, worn or loose drive belt: it slips more and more (erratically), the driven
    speed and output fall, until it breaks or comes off. Failure mode LOO (low output)."""

    shape: Progression = Progression.LINEAR

    mechanism: ClassVar[str] = "belt_slip"
    failure_mode: ClassVar[str] = "LOO"


FAULTS: Mapping[str, type[Fault]] = {
    cls.mechanism: cls
    for cls in (
        BearingWear,
        ImpellerWear,
        Imbalance,
        Misalignment,
        Cavitation,
        CoolingLoss,
        LubricationLoss,
        SealLeak,
        BeltSlip,
    )
}
"""Machine faults by the names scenario files use."""
