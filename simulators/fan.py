"""Belt-driven centrifugal fan, 30 kW motor, damper-controlled (equipment type `fan`).

L is the damper opening / air demand (fraction of rated airflow), s the motor speed (fraction of
rated, soft-started). The belt slips a little (about 1.4% at rated load); the fan turns at
1195 rpm less that slip. Airflow follows the fan speed; the motor's power (and current) follows
the airflow and the cube of the fan speed:

    belt_slip    = s (1.0 + 0.5 L)                          %  (0 at rest)
    fan_speed    = 1195 s (1 - slip / 100)                  rpm
    airflow      = 42000 L r                                m3/h, r = fan speed / 1195
    motor_current= s (14 + 34 L r^3)                        A
    vibration    = s (1.6 + 0.6 L)                          mm/s RMS (ISO 10816-3 group 2, flexible)
    bearing_temp-> ambient + s (15 + 12 L)                  degC, lag 15 min

Faults: imbalance (dust build-up on the impeller: vibration with the square of the speed), bearing
wear, misalignment (of the pulleys), belt slip (slip grows erratically past its alarm limit, the
fan slows, airflow and current fall), lubrication loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.faults import BearingWear, BeltSlip, Imbalance, LubricationLoss, Misalignment
from simulators.iso10816 import GROUP_2_FLEXIBLE, ZoneLimits
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Lag
from simulators.rotating import MachineParameters, RotatingMachine

FAN_RPM = 1195.0
"""Fan speed at rated motor speed without slip."""
RATED_AIRFLOW = 42000.0
BASE_SLIP = 1.0
LOAD_SLIP = 0.5
NO_LOAD_CURRENT = 14.0
LOAD_CURRENT = 34.0
BASE_VIBRATION = 1.6
LOAD_VIBRATION = 0.6
BEARING_RISE = 15.0
BEARING_LOAD_HEATING = 12.0

IMBALANCE_VIBRATION = 6.0
WORN_BEARING_VIBRATION = 6.9
WORN_BEARING_HEATING = 15.0
MISALIGNMENT_VIBRATION = 5.8
MISALIGNMENT_HEATING = 10.0
MISALIGNMENT_CURRENT = 0.02
SLIPPING_BELT = 8.5
"""Percent slip added by a belt at failure; grows with the square of the severity (a belt holds
until its tension is nearly gone)."""
SLIPPING_BELT_JITTER = 0.15
"""Relative spread of the extra slip from one moment to the next (a slipping belt grabs and
lets go)."""
SLIPPING_BELT_VIBRATION = 0.6
DRY_BEARING_HEATING = 65.0
DRY_BEARING_VIBRATION = 1.5


@dataclass(frozen=True, slots=True)
class FanNoise:
    vibration: float = 0.05
    bearing_temp: float = 0.2
    motor_current: float = 0.3
    fan_speed: float = 1.0
    belt_slip: float = 0.05
    airflow: float = 300.0


@dataclass(frozen=True, slots=True)
class FanParameters(MachineParameters):
    bearing_time_constant: float = 900.0
    noise: FanNoise = field(default_factory=FanNoise)


class Fan(RotatingMachine[FanParameters]):
    machine_type: ClassVar[str] = "fan"
    signals: ClassVar[tuple[str, ...]] = (
        "vibration",
        "bearing_temp",
        "motor_current",
        "fan_speed",
        "belt_slip",
        "airflow",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        cls.mechanism for cls in (Imbalance, BearingWear, Misalignment, BeltSlip, LubricationLoss)
    )
    vibration_zones: ClassVar[ZoneLimits] = GROUP_2_FLEXIBLE

    def __init__(
        self,
        equipment_id: str,
        params: FanParameters,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self._bearing = Lag(params.bearing_time_constant)

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> FanParameters:
        return FanParameters(
            base_load=float(rng.uniform(0.6, 0.9)),
            load_sd=0.03,
            load_time_constant=120.0,
            ambient=float(rng.uniform(18.0, 24.0)),
        )

    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        imbalance = self.severity(Imbalance.mechanism, ts)
        bearing = self.severity(BearingWear.mechanism, ts)
        misalignment = self.severity(Misalignment.mechanism, ts)
        belt = self.severity(BeltSlip.mechanism, ts)
        dry = self.severity(LubricationLoss.mechanism, ts)

        slip = speed * (BASE_SLIP + LOAD_SLIP * load)
        if belt > 0.0 and speed > 0.0:
            jitter = 1.0 + SLIPPING_BELT_JITTER * float(self.fault_rng.standard_normal())
            slip += speed * SLIPPING_BELT * belt * belt * max(0.0, jitter)
        slip = min(slip, 100.0)
        ratio = speed * (1.0 - slip / 100.0)
        current = speed * (NO_LOAD_CURRENT + LOAD_CURRENT * load * ratio**3)
        current *= 1.0 + MISALIGNMENT_CURRENT * misalignment
        vibration = speed * (
            BASE_VIBRATION
            + LOAD_VIBRATION * load
            + IMBALANCE_VIBRATION * imbalance * ratio * ratio
            + WORN_BEARING_VIBRATION * bearing
            + MISALIGNMENT_VIBRATION * misalignment
            + SLIPPING_BELT_VIBRATION * belt
            + DRY_BEARING_VIBRATION * dry**3
        )
        bearing_temp = self.ambient(ts) + speed * (
            BEARING_RISE
            + BEARING_LOAD_HEATING * load
            + WORN_BEARING_HEATING * bearing * bearing
            + MISALIGNMENT_HEATING * misalignment
            + DRY_BEARING_HEATING * dry
        )
        return {
            "vibration": vibration,
            "bearing_temp": self._bearing.step(bearing_temp, dt),
            "motor_current": current,
            "fan_speed": FAN_RPM * ratio,
            "belt_slip": slip,
            "airflow": RATED_AIRFLOW * load * ratio,
        }
