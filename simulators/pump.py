"""Centrifugal pump driven by an induction motor (equipment type `centrifugal_pump`).

The load L (fraction of rated flow) wanders around the pump's base load: a unit Ornstein-Uhlenbeck
process, softly bounded (tanh) as a flow controller would keep it, so healthy operating changes
are continuous, modest and never extreme. Every signal follows L, which
makes them correlated as on a real pump:

    flow                = 120 L                      m3/h
    discharge_pressure  = 6.0 (0.6 + 0.4 L^2)        bar   (system curve)
    motor_current       = 18 + 30 L                  A     (magnetising + load current)
    vibration           = 1.8 + 0.4 L                mm/s RMS
    bearing_temp       -> ambient + 25 + 10 L        degC, through a first-order thermal lag

Ambient is 20 degC with a daily cycle of +-2 degC (warmest at 15:00 UTC). Every measurement gets
Gaussian noise. Bearing wear adds vibration (about 9 mm/s at failure) and, later and less, bearing
temperature (+15 degC at failure); impeller wear takes away flow and head (below their alarm_low
limits of the built-in library at failure) and a little motor current.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.base import MachineModel
from simulators.faults import BearingWear, ImpellerWear

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

DAY = 86400.0
WARMEST_HOUR_UTC = 15.0


@dataclass(frozen=True, slots=True)
class MeasurementNoise:
    """Standard deviation of the Gaussian noise of each measurement, in the signal's unit."""

    vibration: float = 0.05
    bearing_temp: float = 0.2
    motor_current: float = 0.3
    discharge_pressure: float = 0.03
    flow: float = 0.8


@dataclass(frozen=True, slots=True)
class PumpParameters:
    base_load: float
    """Mean load, as a fraction of rated flow."""
    load_sd: float = 0.02
    """Scale of the load's wander around its mean (the standard deviation it would have without
    the soft bound)."""
    load_bound: float = 2.5
    """The load stays within `base_load +- load_bound * load_sd`, as under a flow controller."""
    load_time_constant: float = 60.0
    """Seconds for a load excursion to decay by 1/e."""
    thermal_time_constant: float = 900.0
    """Seconds for the bearing to cover 63% of a temperature step."""
    ambient: float = 20.0
    ambient_daily_swing: float = 2.0
    noise: MeasurementNoise = field(default_factory=MeasurementNoise)


class CentrifugalPump(MachineModel[PumpParameters]):
    machine_type: ClassVar[str] = "centrifugal_pump"
    signals: ClassVar[tuple[str, ...]] = (
        "vibration",
        "bearing_temp",
        "motor_current",
        "discharge_pressure",
        "flow",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        {BearingWear.mechanism, ImpellerWear.mechanism}
    )

    def __init__(self, equipment_id: str, params: PumpParameters, rng: np.random.Generator) -> None:
        super().__init__(equipment_id, params, rng)
        self._wander = float(rng.standard_normal())
        self._load = self._bounded_load()
        self._bearing_temp: float | None = None

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> PumpParameters:
        return PumpParameters(base_load=float(rng.uniform(0.75, 0.9)))

    def _bounded_load(self) -> float:
        p = self.params
        return p.base_load + p.load_sd * p.load_bound * math.tanh(self._wander / p.load_bound)

    @property
    def load(self) -> float:
        return self._load

    def ambient(self, ts: float) -> float:
        p = self.params
        phase = 2.0 * math.pi * (ts - WARMEST_HOUR_UTC * 3600.0) / DAY
        return p.ambient + p.ambient_daily_swing * math.cos(phase)

    def step(self, ts: float, dt: float) -> dict[str, float]:
        p = self.params
        z_load, z_vib, z_temp, z_current, z_pressure, z_flow = self.rng.standard_normal(6).tolist()

        decay = math.exp(-dt / p.load_time_constant)
        spread = math.sqrt(-math.expm1(-2.0 * dt / p.load_time_constant))
        self._wander = self._wander * decay + spread * z_load
        load = self._load = self._bounded_load()

        bearing = self.severity(BearingWear.mechanism, ts)
        impeller = self.severity(ImpellerWear.mechanism, ts)

        flow = RATED_FLOW * load * (1.0 - WORN_IMPELLER_FLOW * impeller)
        pressure = (
            SYSTEM_PRESSURE
            * (SHUTOFF_SHARE + (1.0 - SHUTOFF_SHARE) * load * load)
            * (1.0 - WORN_IMPELLER_PRESSURE * impeller)
        )
        current = (
            NO_LOAD_CURRENT + LOAD_CURRENT * load * (1.0 - WORN_IMPELLER_CURRENT * impeller)
        ) * (1.0 + WORN_BEARING_CURRENT * bearing)
        vibration = BASE_VIBRATION + LOAD_VIBRATION * load + WORN_BEARING_VIBRATION * bearing

        settled = (
            self.ambient(ts)
            + BEARING_RISE
            + LOAD_HEATING * load
            + WORN_BEARING_HEATING * bearing * bearing
        )
        if self._bearing_temp is None:
            self._bearing_temp = settled
        else:
            lag = -math.expm1(-dt / p.thermal_time_constant)
            self._bearing_temp += (settled - self._bearing_temp) * lag

        noise = p.noise
        return {
            "vibration": max(0.0, vibration + noise.vibration * z_vib),
            "bearing_temp": self._bearing_temp + noise.bearing_temp * z_temp,
            "motor_current": current + noise.motor_current * z_current,
            "discharge_pressure": max(0.0, pressure + noise.discharge_pressure * z_pressure),
            "flow": max(0.0, flow + noise.flow * z_flow),
        }
