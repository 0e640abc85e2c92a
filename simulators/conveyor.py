"""Belt conveyor, 45 kW drive, 2.5 m/s, up to 900 t/h (equipment type `conveyor`).

L is the material load on the belt (fraction of rated), which comes in lumps: it wanders more
and faster than a pump's load. s is the drive's speed (fraction of rated). The belt slips a
little on the drive pulley (measured between the drive and the tail pulley):

    belt_slip     = s (0.4 + 0.6 L)                        %  (0 at rest)
    belt_speed    = 2.5 s (1 - slip / 100)                 m/s
    material_flow = 900 L (belt speed / 2.5)               t/h
    motor_current = s (28 + 52 L)                          A
    vibration     = s (1.4 + 0.5 L)                        mm/s RMS, drive pulley bearing
    bearing_temp -> ambient + s (15 + 10 L)                degC, lag 20 min

Conveyors typically run in shifts and stop between them (give the operation shifts).

Faults: belt slip (a worn lagging or a loose take-up: slip grows erratically past its alarm,
the belt slows, the current hunts), bearing wear, misalignment (a mistracking belt rubs: more
current, vibration and bearing heat), lubrication loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.faults import BearingWear, BeltSlip, LubricationLoss, Misalignment
from simulators.iso10816 import GROUP_2_FLEXIBLE, ZoneLimits
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Lag
from simulators.rotating import MachineParameters, RotatingMachine

RATED_SPEED = 2.5
RATED_FLOW = 900.0
BASE_SLIP = 0.4
LOAD_SLIP = 0.6
NO_LOAD_CURRENT = 28.0
LOAD_CURRENT = 52.0
BASE_VIBRATION = 1.4
LOAD_VIBRATION = 0.5
BEARING_RISE = 15.0
BEARING_LOAD_HEATING = 10.0

SLIPPING_BELT = 6.2
"""Percent slip added by a belt at failure; grows with the square of the severity."""
SLIPPING_BELT_JITTER = 0.15
SLIPPING_BELT_CURRENT = 0.1
"""Share of the load current lost when the belt slips at failure."""
WORN_BEARING_VIBRATION = 7.5
WORN_BEARING_HEATING = 15.0
MISALIGNMENT_VIBRATION = 6.0
MISALIGNMENT_HEATING = 12.0
MISALIGNMENT_CURRENT = 0.08
DRY_BEARING_HEATING = 70.0
DRY_VIBRATION = 2.0


@dataclass(frozen=True, slots=True)
class ConveyorNoise:
    belt_speed: float = 0.005
    belt_slip: float = 0.05
    motor_current: float = 0.4
    material_flow: float = 8.0
    vibration: float = 0.05
    bearing_temp: float = 0.2


@dataclass(frozen=True, slots=True)
class ConveyorParameters(MachineParameters):
    bearing_time_constant: float = 1200.0
    noise: ConveyorNoise = field(default_factory=ConveyorNoise)


class Conveyor(RotatingMachine[ConveyorParameters]):
    machine_type: ClassVar[str] = "conveyor"
    signals: ClassVar[tuple[str, ...]] = (
        "belt_speed",
        "belt_slip",
        "motor_current",
        "material_flow",
        "vibration",
        "bearing_temp",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        cls.mechanism for cls in (BeltSlip, BearingWear, Misalignment, LubricationLoss)
    )
    vibration_zones: ClassVar[ZoneLimits] = GROUP_2_FLEXIBLE

    def __init__(
        self,
        equipment_id: str,
        params: ConveyorParameters,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self._bearing = Lag(params.bearing_time_constant)

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> ConveyorParameters:
        return ConveyorParameters(
            base_load=float(rng.uniform(0.5, 0.8)),
            load_sd=0.06,
            load_time_constant=45.0,
            ambient=float(rng.uniform(15.0, 22.0)),
            ambient_daily_swing=4.0,
        )

    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        belt = self.severity(BeltSlip.mechanism, ts)
        bearing = self.severity(BearingWear.mechanism, ts)
        misalignment = self.severity(Misalignment.mechanism, ts)
        dry = self.severity(LubricationLoss.mechanism, ts)

        slip = speed * (BASE_SLIP + LOAD_SLIP * load)
        if belt > 0.0 and speed > 0.0:
            jitter = 1.0 + SLIPPING_BELT_JITTER * float(self.fault_rng.standard_normal())
            slip += speed * SLIPPING_BELT * belt * belt * max(0.0, jitter)
        slip = min(slip, 100.0)
        ratio = speed * (1.0 - slip / 100.0)
        current = speed * (
            NO_LOAD_CURRENT + LOAD_CURRENT * load * (1.0 - SLIPPING_BELT_CURRENT * belt)
        )
        current *= 1.0 + MISALIGNMENT_CURRENT * misalignment
        vibration = speed * (
            BASE_VIBRATION
            + LOAD_VIBRATION * load
            + WORN_BEARING_VIBRATION * bearing
            + MISALIGNMENT_VIBRATION * misalignment
            + DRY_VIBRATION * dry**3
        )
        bearing_temp = self.ambient(ts) + speed * (
            BEARING_RISE
            + BEARING_LOAD_HEATING * load
            + WORN_BEARING_HEATING * bearing * bearing
            + MISALIGNMENT_HEATING * misalignment
            + DRY_BEARING_HEATING * dry
        )
        return {
            "belt_speed": RATED_SPEED * ratio,
            "belt_slip": slip,
            "motor_current": current,
            "material_flow": RATED_FLOW * load * ratio,
            "vibration": vibration,
            "bearing_temp": self._bearing.step(bearing_temp, dt),
        }
