"""Helical industrial gearbox, ratio 20:1 behind a 4-pole motor, rated 7 kN m at the output
(equipment type `gearbox`).

With L the output torque (fraction of rated) and s the input speed (fraction of rated):

    torque        = 7 L                                    kN m
    output_speed  = 74.25 s (1 - 0.012 L)                  rpm
    oil_temp     -> ambient + s (25 + 30 L)                degC, lag 40 min (churning + mesh losses)
    bearing_temp -> ambient + s (20 + 12 L)                degC, lag 20 min
    vibration     = s (1.8 + 1.5 L)                        mm/s RMS (ISO 10816-3 group 2, flexible)
    ambient_temp  = the room: 20 degC +- 2 over the day

Faults: bearing wear, misalignment (of the input coupling) and imbalance (vibration), cooling loss
(a failing oil cooler: the oil's rise over ambient grows past its alarm), lubrication loss (low
oil: bearings and oil heat, then vibration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.faults import BearingWear, CoolingLoss, Imbalance, LubricationLoss, Misalignment
from simulators.iso10816 import GROUP_2_FLEXIBLE, ZoneLimits
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Lag
from simulators.rotating import MachineParameters, RotatingMachine

RATED_TORQUE = 7.0
OUTPUT_RPM = 74.25
RATED_SLIP = 0.012
OIL_RISE = 25.0
OIL_LOAD_HEATING = 30.0
BEARING_RISE = 20.0
BEARING_LOAD_HEATING = 12.0
BASE_VIBRATION = 1.8
LOAD_VIBRATION = 1.5

WORN_BEARING_VIBRATION = 6.6
WORN_BEARING_HEATING = 15.0
MISALIGNMENT_VIBRATION = 5.2
MISALIGNMENT_HEATING = 10.0
IMBALANCE_VIBRATION = 5.6
LOST_COOLING = 0.6
"""Share of the oil's heat rejection lost with a failed cooler: its rise over ambient is divided
by 1 - 0.6 severity."""
DRY_OIL_HEATING = 20.0
DRY_BEARING_HEATING = 60.0
DRY_VIBRATION = 2.0


@dataclass(frozen=True, slots=True)
class GearboxNoise:
    vibration: float = 0.06
    oil_temp: float = 0.15
    bearing_temp: float = 0.2
    output_speed: float = 0.05
    torque: float = 0.06
    ambient_temp: float = 0.1


@dataclass(frozen=True, slots=True)
class GearboxParameters(MachineParameters):
    oil_time_constant: float = 2400.0
    bearing_time_constant: float = 1200.0
    noise: GearboxNoise = field(default_factory=GearboxNoise)


class Gearbox(RotatingMachine[GearboxParameters]):
    machine_type: ClassVar[str] = "gearbox"
    signals: ClassVar[tuple[str, ...]] = (
        "vibration",
        "oil_temp",
        "bearing_temp",
        "output_speed",
        "torque",
        "ambient_temp",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        cls.mechanism
        for cls in (BearingWear, Misalignment, Imbalance, CoolingLoss, LubricationLoss)
    )
    vibration_zones: ClassVar[ZoneLimits] = GROUP_2_FLEXIBLE

    def __init__(
        self,
        equipment_id: str,
        params: GearboxParameters,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self._oil = Lag(params.oil_time_constant)
        self._bearing = Lag(params.bearing_time_constant)

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> GearboxParameters:
        return GearboxParameters(
            base_load=float(rng.uniform(0.55, 0.85)),
            load_sd=0.04,
            load_time_constant=90.0,
            ambient=float(rng.uniform(18.0, 24.0)),
        )

    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        bearing = self.severity(BearingWear.mechanism, ts)
        misalignment = self.severity(Misalignment.mechanism, ts)
        imbalance = self.severity(Imbalance.mechanism, ts)
        cooling = self.severity(CoolingLoss.mechanism, ts)
        dry = self.severity(LubricationLoss.mechanism, ts)

        room = self.ambient(ts)
        oil = room + speed * (
            (OIL_RISE + OIL_LOAD_HEATING * load) / (1.0 - LOST_COOLING * cooling)
            + DRY_OIL_HEATING * dry
        )
        bearing_temp = room + speed * (
            BEARING_RISE
            + BEARING_LOAD_HEATING * load
            + WORN_BEARING_HEATING * bearing * bearing
            + MISALIGNMENT_HEATING * misalignment
            + DRY_BEARING_HEATING * dry
        )
        vibration = speed * (
            BASE_VIBRATION
            + LOAD_VIBRATION * load
            + WORN_BEARING_VIBRATION * bearing
            + MISALIGNMENT_VIBRATION * misalignment
            + IMBALANCE_VIBRATION * imbalance * speed
            + DRY_VIBRATION * dry**3
        )
        return {
            "vibration": vibration,
            "oil_temp": self._oil.step(oil, dt),
            "bearing_temp": self._bearing.step(bearing_temp, dt),
            "output_speed": OUTPUT_RPM * speed * (1.0 - RATED_SLIP * load),
            "torque": RATED_TORQUE * load * speed,
            "ambient_temp": room,
        }
