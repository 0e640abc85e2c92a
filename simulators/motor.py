"""Induction motor, 55 kW, 4 poles, 400 V, rated 100 A (equipment type `induction_motor`).

With L the load (fraction of rated torque) and s the speed (fraction of rated, ramped by a soft
starter):

    current       = s (32 + 68 L)                          A
    speed         = 1500 s (1 - 0.013 L)                   rpm (slip grows with load)
    winding_temp -> ambient + s (30 + 55 L^2)              degC, lag 30 min (copper losses ~ L^2)
    bearing_temp -> ambient + s (18 + 14 L)                degC, lag 20 min
    vibration     = s (0.9 + 0.3 L)                        mm/s RMS (ISO 10816-3 group 2, rigid)
    ambient_temp  = the room: 20 degC +- 2 over the day

Faults: bearing wear (vibration, exponential; bearing heat later), imbalance (vibration with the
square of the speed), misalignment (vibration, bearing heat, a little current), cooling loss (the
winding's rise over ambient nearly triples: past the class F alarm), lubrication loss (bearing
heat, then vibration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.faults import BearingWear, CoolingLoss, Imbalance, LubricationLoss, Misalignment
from simulators.iso10816 import GROUP_2_RIGID, ZoneLimits
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Lag
from simulators.rotating import MachineParameters, RotatingMachine

SYNCHRONOUS_RPM = 1500.0
RATED_SLIP = 0.013
NO_LOAD_CURRENT = 32.0
LOAD_CURRENT = 68.0
WINDING_RISE = 30.0
"""degC above ambient from iron losses and the fan."""
COPPER_HEATING = 55.0
"""degC added at rated load (grows with the square of the load)."""
BEARING_RISE = 18.0
BEARING_LOAD_HEATING = 14.0
BASE_VIBRATION = 0.9
LOAD_VIBRATION = 0.3

WORN_BEARING_VIBRATION = 4.7
WORN_BEARING_HEATING = 18.0
IMBALANCE_VIBRATION = 4.0
MISALIGNMENT_VIBRATION = 3.8
MISALIGNMENT_HEATING = 10.0
MISALIGNMENT_CURRENT = 0.03
LOST_COOLING = 0.65
"""Share of the winding's heat transfer to the air lost at failure: its rise over ambient is
divided by 1 - 0.65 severity (nearly tripled at failure)."""
LOST_COOLING_BEARING = 6.0
DRY_BEARING_HEATING = 58.0
DRY_BEARING_VIBRATION = 1.2


@dataclass(frozen=True, slots=True)
class MotorNoise:
    vibration: float = 0.03
    winding_temp: float = 0.3
    bearing_temp: float = 0.2
    current: float = 0.4
    speed: float = 0.8
    ambient_temp: float = 0.1


@dataclass(frozen=True, slots=True)
class MotorParameters(MachineParameters):
    winding_time_constant: float = 1800.0
    bearing_time_constant: float = 1200.0
    noise: MotorNoise = field(default_factory=MotorNoise)


class InductionMotor(RotatingMachine[MotorParameters]):
    machine_type: ClassVar[str] = "induction_motor"
    signals: ClassVar[tuple[str, ...]] = (
        "vibration",
        "winding_temp",
        "bearing_temp",
        "current",
        "speed",
        "ambient_temp",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        cls.mechanism
        for cls in (BearingWear, Imbalance, Misalignment, CoolingLoss, LubricationLoss)
    )
    vibration_zones: ClassVar[ZoneLimits] = GROUP_2_RIGID

    def __init__(
        self,
        equipment_id: str,
        params: MotorParameters,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self._winding = Lag(params.winding_time_constant)
        self._bearing = Lag(params.bearing_time_constant)

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> MotorParameters:
        return MotorParameters(
            base_load=float(rng.uniform(0.65, 0.85)),
            load_sd=0.03,
            load_time_constant=120.0,
            ambient=float(rng.uniform(19.0, 24.0)),
        )

    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        bearing = self.severity(BearingWear.mechanism, ts)
        imbalance = self.severity(Imbalance.mechanism, ts)
        misalignment = self.severity(Misalignment.mechanism, ts)
        cooling = self.severity(CoolingLoss.mechanism, ts)
        dry = self.severity(LubricationLoss.mechanism, ts)

        room = self.ambient(ts)
        current = speed * (NO_LOAD_CURRENT + LOAD_CURRENT * load)
        current *= 1.0 + MISALIGNMENT_CURRENT * misalignment
        winding = room + speed * (WINDING_RISE + COPPER_HEATING * load * load) / (
            1.0 - LOST_COOLING * cooling
        )
        bearing_temp = room + speed * (
            BEARING_RISE
            + BEARING_LOAD_HEATING * load
            + WORN_BEARING_HEATING * bearing * bearing
            + MISALIGNMENT_HEATING * misalignment
            + LOST_COOLING_BEARING * cooling
            + DRY_BEARING_HEATING * dry
        )
        vibration = speed * (
            BASE_VIBRATION
            + LOAD_VIBRATION * load
            + WORN_BEARING_VIBRATION * bearing
            + IMBALANCE_VIBRATION * imbalance * speed
            + MISALIGNMENT_VIBRATION * misalignment
            + DRY_BEARING_VIBRATION * dry**3
        )
        return {
            "vibration": vibration,
            "winding_temp": self._winding.step(winding, dt),
            "bearing_temp": self._bearing.step(bearing_temp, dt),
            "current": current,
            "speed": SYNCHRONOUS_RPM * speed * (1.0 - RATED_SLIP * load),
            "ambient_temp": room,
        }
