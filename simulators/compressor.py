"""Oil-injected rotary screw air compressor, 75 kW, load/unload control (equipment type
`compressor`).

The compressor fills an air receiver that the plant draws from. It loads when the receiver
pressure falls to the cut-in pressure (6.5 bar) and unloads at cut-out (7.5 bar); with an air
demand L (fraction of the compressor's capacity) the pressure saws between the two every few
minutes, and current, discharge temperature and vibration follow the load/unload cycle:

    d pressure / dt   = 0.008 (loaded - (L + leak) p / 7)          bar/s
    motor_current     = loaded: 118 + 6 (p - 6.5) A; unloaded: 42 A
    discharge_temp   -> ambient + 58 + 4 (p - 6.5) loaded, ambient + 35 unloaded (lag 4 min)
    bearing_temp     -> ambient + 22 + 10 x loaded share           degC, lag 15 min
    vibration         = 1.5 + 0.5 x loaded share                   mm/s RMS (group 2, flexible)
    ambient_temp      = the compressor room: 25 degC +- 3 over the day

When its operation stops it, the plant's demand stops too (only leaks remain) and the pressure
bleeds down slowly. A plant that never stops its air supply idles at night instead (give the
operation an `off_shift` load).

Faults: seal leak (an air leak the compressor must also feed: it runs loaded longer and longer,
then cannot hold the pressure, which falls past its low alarm), cooling loss (a fouled oil cooler:
the discharge temperature rises past its alarm), lubrication loss (low oil: hotter discharge and
bearings, then vibration), bearing wear and misalignment (vibration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from simulators.faults import BearingWear, CoolingLoss, LubricationLoss, Misalignment, SealLeak
from simulators.iso10816 import GROUP_2_FLEXIBLE, ZoneLimits
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Lag
from simulators.rotating import MachineParameters, RotatingMachine

FILL_RATE = 0.008
"""bar/s the receiver gains per unit of net air flow (1 = the compressor's capacity)."""
NOMINAL_PRESSURE = 7.0
"""bar at which the demand L is measured (consumption is proportional to pressure)."""
BACKGROUND_DEMAND = 0.02
"""Air the plant draws even when it is stopped (small leaks, instruments)."""
LOADED_CURRENT = 118.0
CURRENT_PER_BAR = 6.0
UNLOADED_CURRENT = 42.0
LOADED_RISE = 58.0
RISE_PER_BAR = 4.0
UNLOADED_RISE = 35.0
BEARING_RISE = 22.0
LOADED_BEARING_HEATING = 10.0
BASE_VIBRATION = 1.5
LOADED_VIBRATION = 0.5
MAX_SUBSTEP = 2.0
"""Seconds; the receiver is integrated in steps no longer than this."""

LEAK_AT_FAILURE = 1.5
"""Total air demand (plant + leak, in units of capacity) at functional failure: the receiver then
settles near 7 / 1.5 = 4.7 bar, below the low alarm."""
LOST_COOLING = 0.45
"""Share of the oil cooler's heat rejection lost at failure: the discharge temperature's rise
over ambient is divided by 1 - 0.45 severity."""
DRY_DISCHARGE_HEATING = 30.0
DRY_BEARING_HEATING = 56.0
DRY_VIBRATION = 1.5
WORN_BEARING_VIBRATION = 6.5
WORN_BEARING_HEATING = 15.0
MISALIGNMENT_VIBRATION = 6.0
MISALIGNMENT_HEATING = 8.0


@dataclass(frozen=True, slots=True)
class CompressorNoise:
    discharge_pressure: float = 0.02
    discharge_temp: float = 0.3
    motor_current: float = 0.5
    vibration: float = 0.05
    bearing_temp: float = 0.2
    ambient_temp: float = 0.1


@dataclass(frozen=True, slots=True)
class CompressorParameters(MachineParameters):
    cut_in: float = 6.5
    cut_out: float = 7.5
    discharge_time_constant: float = 240.0
    bearing_time_constant: float = 900.0
    cool_down_time_constant: float = 1200.0
    noise: CompressorNoise = field(default_factory=CompressorNoise)


class Compressor(RotatingMachine[CompressorParameters]):
    machine_type: ClassVar[str] = "compressor"
    signals: ClassVar[tuple[str, ...]] = (
        "discharge_pressure",
        "discharge_temp",
        "motor_current",
        "vibration",
        "bearing_temp",
        "ambient_temp",
    )
    mechanisms: ClassVar[frozenset[str]] = frozenset(
        cls.mechanism for cls in (SealLeak, CoolingLoss, LubricationLoss, BearingWear, Misalignment)
    )
    vibration_zones: ClassVar[ZoneLimits] = GROUP_2_FLEXIBLE

    def __init__(
        self,
        equipment_id: str,
        params: CompressorParameters,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self.pressure = float(rng.uniform(params.cut_in, params.cut_out))
        self.loaded = False
        self._discharge = Lag(params.discharge_time_constant)
        self._bearing = Lag(params.bearing_time_constant)

    @classmethod
    def draw_parameters(cls, rng: np.random.Generator) -> CompressorParameters:
        return CompressorParameters(
            base_load=float(rng.uniform(0.5, 0.7)),
            load_sd=0.04,
            load_time_constant=300.0,
            ambient=float(rng.uniform(23.0, 27.0)),
            ambient_daily_swing=3.0,
        )

    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        p = self.params
        leak = max(0.0, LEAK_AT_FAILURE - p.base_load) * self.severity(SealLeak.mechanism, ts)
        cooling = self.severity(CoolingLoss.mechanism, ts)
        dry = self.severity(LubricationLoss.mechanism, ts)
        bearing = self.severity(BearingWear.mechanism, ts)
        misalignment = self.severity(Misalignment.mechanism, ts)

        demand = load * speed + BACKGROUND_DEMAND + leak
        steps = max(1, math.ceil(dt / MAX_SUBSTEP))
        h = dt / steps
        loaded_time = 0.0
        for _ in range(steps):
            if speed < 0.5:
                self.loaded = False
            elif self.pressure <= p.cut_in:
                self.loaded = True
            elif self.pressure >= p.cut_out:
                self.loaded = False
            supply = speed if self.loaded else 0.0
            consumption = demand * self.pressure / NOMINAL_PRESSURE
            self.pressure = max(0.0, self.pressure + FILL_RATE * (supply - consumption) * h)
            loaded_time += h if self.loaded else 0.0
        share = loaded_time / dt if dt > 0 else float(self.loaded)
        above_cut_in = self.pressure - p.cut_in

        current = share * (LOADED_CURRENT + CURRENT_PER_BAR * above_cut_in)
        current += (1.0 - share) * UNLOADED_CURRENT * speed
        room = self.ambient(ts)
        rise = share * (LOADED_RISE + RISE_PER_BAR * above_cut_in) + (1.0 - share) * UNLOADED_RISE
        discharge = room + speed * (
            rise / (1.0 - LOST_COOLING * cooling) + DRY_DISCHARGE_HEATING * dry
        )
        bearing_temp = room + speed * (
            BEARING_RISE
            + LOADED_BEARING_HEATING * share
            + WORN_BEARING_HEATING * bearing * bearing
            + MISALIGNMENT_HEATING * misalignment
            + DRY_BEARING_HEATING * dry
        )
        vibration = speed * (
            BASE_VIBRATION
            + LOADED_VIBRATION * share
            + WORN_BEARING_VIBRATION * bearing
            + MISALIGNMENT_VIBRATION * misalignment
            + DRY_VIBRATION * dry**3
        )
        cooling_tau = None if speed > 0.0 else p.cool_down_time_constant
        return {
            "discharge_pressure": self.pressure,
            "discharge_temp": self._discharge.step(discharge, dt, cooling_tau),
            "motor_current": current,
            "vibration": vibration,
            "bearing_temp": self._bearing.step(bearing_temp, dt),
            "ambient_temp": room,
        }
