"""Centrifugal pump driven by an induction motor (equipment type `centrifugal_pump`).

The load L (fraction of rated flow) wanders around the pump's setpoint: a unit Ornstein-Uhlenbeck
process, softly bounded (tanh) as a flow controller would keep it, so healthy operating changes
are continuous, modest and never extreme. Every signal follows L, which makes them correlated as
on a real pump:

    flow                = 120 L                      m3/h
    discharge_pressure  = 6.0 (0.6 + 0.4 L^2)        bar   (system curve)
    motor_current       = 18 + 30 L                  A     (magnetising + load current)
    vibration           = 1.8 + 0.4 L                mm/s RMS (ISO 10816-3 group 2, flexible)
    bearing_temp       -> ambient + 25 + 10 L        degC, through a first-order thermal lag

Ambient is 20 degC with a daily cycle of +-2 degC (warmest at 15:00 UTC). Every measurement gets
Gaussian noise. A soft starter ramps the speed up when the pump starts; flow follows the speed,
head and vibration its square, and a stopped pump cools down to ambient.

Faults: bearing wear adds vibration (about 9 mm/s at failure) and, later and less, bearing
temperature (+15 degC at failure); impeller wear takes away flow and head (below their alarm_low
limits of the built-in library at failure) and a little motor current; imbalance and
misalignment add vibration (misalignment also bearing heat and current); cavitation takes head
and flow, makes them erratic and adds bursts of vibration; lubrication loss heats the bearing
(past its alarm limit) and late in its course adds vibration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.faults import (
    BearingWear,
    Cavitation,
    Imbalance,
    ImpellerWear,
    LubricationLoss,
    Misalignment,
)
from simulators.iso10816 import GROUP_2_FLEXIBLE, ZoneLimits
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Lag
from simulators.rotating import MachineParameters, RotatingMachine

RATED_FLOW = 120.0
"""m3/h at L = 1."""
SHUTOFF_SHARE = 0.6
"""Share of the discharge pressure that does not depend on flow (static head)."""
SYSTEM_PRESSURE = 6.0
"""bar at L = 1."""
NO_LOAD_CURRENT = 18.0
LOAD_CURRENT = 30.0
"""A added at L = 1."""
BASE_VIBRATION = 1.8
LOAD_VIBRATION = 0.4
BEARING_RISE = 25.0
"""degC above ambient at no load."""
LOAD_HEATING = 10.0
"""degC added at L = 1."""

WORN_BEARING_VIBRATION = 6.9
"""mm/s added by a bearing at functional failure."""
WORN_BEARING_HEATING = 15.0
"""degC added by a bearing at functional failure; grows with the square of the severity."""
WORN_BEARING_CURRENT = 0.004
"""Relative motor current added by bearing friction at failure."""
WORN_IMPELLER_FLOW = 0.78
"""Share of flow lost at functional failure."""
WORN_IMPELLER_PRESSURE = 0.70
"""Share of discharge pressure lost at functional failure."""
WORN_IMPELLER_CURRENT = 0.08
"""Share of the load current lost at functional failure."""
IMBALANCE_VIBRATION = 6.2
"""mm/s at running speed added by the imbalance at failure."""
MISALIGNMENT_VIBRATION = 5.6
MISALIGNMENT_HEATING = 12.0
MISALIGNMENT_CURRENT = 0.03
CAVITATION_FLOW = 0.5
CAVITATION_PRESSURE = 0.65
CAVITATION_CURRENT = 0.05
CAVITATION_VIBRATION = 5.0
CAVITATION_BURSTS = 1.2
"""Scale (mm/s) of the random vibration bursts of a cavitating pump at failure."""
CAVITATION_UNSTEADINESS = 10.0
"""How many times noisier head and flow are at failure."""
DRY_BEARING_HEATING = 52.0
DRY_BEARING_VIBRATION = 2.5
"""mm/s added by a dry bearing at failure; grows with the cube of the severity."""


@dataclass(frozen=True, slots=True)
class MeasurementNoise:
    """Standard deviation of the Gaussian noise of each measurement, in the signal's unit."""

    vibration: float = 0.05
    bearing_temp: float = 0.2
    motor_current: float = 0.3
    discharge_pressure: float = 0.03
    flow: float = 0.8


@dataclass(frozen=True, slots=True)
class PumpParameters(MachineParameters):
    thermal_time_constant: float = 900.0
    """Seconds for the bearing to cover 63% of a temperature step."""
    noise: MeasurementNoise = field(default_factory=MeasurementNoise)


class CentrifugalPump(RotatingMachine[PumpParameters]):
    machine_type: ClassVar[str] = "centrifugal_pump"
    signals: ClassVar[tuple[str, ...]] = (
        "vibration",
        "bearing_temp",
        "motor_current",
        "discharge_pressure",
        "flow",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        cls.mechanism
        for cls in (BearingWear, ImpellerWear, Imbalance, Misalignment, Cavitation, LubricationLoss)
    )
    vibration_zones: ClassVar[ZoneLimits] = GROUP_2_FLEXIBLE

    def __init__(
        self,
        equipment_id: str,
        params: PumpParameters,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self._bearing = Lag(params.thermal_time_constant)

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> PumpParameters:
        return PumpParameters(base_load=float(rng.uniform(0.75, 0.9)))

    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        bearing = self.severity(BearingWear.mechanism, ts)
        impeller = self.severity(ImpellerWear.mechanism, ts)
        imbalance = self.severity(Imbalance.mechanism, ts)
        misalignment = self.severity(Misalignment.mechanism, ts)
        cavitation = self.severity(Cavitation.mechanism, ts) * speed
        dry = self.severity(LubricationLoss.mechanism, ts)

        flow = (
            RATED_FLOW
            * load
            * speed
            * (1.0 - WORN_IMPELLER_FLOW * impeller)
            * (1.0 - CAVITATION_FLOW * cavitation)
        )
        pressure = (
            SYSTEM_PRESSURE
            * (SHUTOFF_SHARE + (1.0 - SHUTOFF_SHARE) * load * load)
            * speed
            * speed
            * (1.0 - WORN_IMPELLER_PRESSURE * impeller)
            * (1.0 - CAVITATION_PRESSURE * cavitation)
        )
        load_current = LOAD_CURRENT * load * (1.0 - WORN_IMPELLER_CURRENT * impeller)
        current = (
            (NO_LOAD_CURRENT + load_current * (1.0 - CAVITATION_CURRENT * cavitation))
            * (1.0 + WORN_BEARING_CURRENT * bearing)
            * (1.0 + MISALIGNMENT_CURRENT * misalignment)
            * speed
        )
        vibration = speed * (
            BASE_VIBRATION
            + LOAD_VIBRATION * load
            + WORN_BEARING_VIBRATION * bearing
            + IMBALANCE_VIBRATION * imbalance * speed
            + MISALIGNMENT_VIBRATION * misalignment
            + CAVITATION_VIBRATION * cavitation
            + DRY_BEARING_VIBRATION * dry**3
        )
        if cavitation > 0.0:
            vibration += (
                CAVITATION_BURSTS * cavitation * abs(float(self.fault_rng.standard_normal()))
            )
            unsteady = 1.0 + CAVITATION_UNSTEADINESS * cavitation
            self.unsteady = {"discharge_pressure": unsteady, "flow": unsteady}
        elif self.unsteady:
            self.unsteady = {}

        settled = self.ambient(ts) + speed * (
            BEARING_RISE
            + LOAD_HEATING * load
            + WORN_BEARING_HEATING * bearing * bearing
            + MISALIGNMENT_HEATING * misalignment
            + DRY_BEARING_HEATING * dry
        )
        return {
            "vibration": vibration,
            "bearing_temp": self._bearing.step(settled, dt),
            "motor_current": current,
            "discharge_pressure": pressure,
            "flow": flow,
        }
