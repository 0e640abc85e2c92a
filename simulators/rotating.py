"""What every motor-driven machine model shares: the operation, a soft-started drive, a load that
wanders around its setpoint, the ambient temperature, and measurement noise.

A model built on `RotatingMachine` implements `physics`: the noise-free value of every signal
given the speed and load of the moment and the faults' severities. `step` then adds Gaussian
measurement noise, drawing one standard normal for the load and one per signal every step, in
the same order whatever the operation or the faults.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from simulators.base import MachineModel
from simulators.operation import CONTINUOUS, Operation
from simulators.physics import Drive, DriveParameters, Wander, ambient


@dataclass(frozen=True, slots=True)
class MachineParameters:
    """What every rotating machine has; each model's parameters add their own."""

    base_load: float
    """Mean load as a fraction of rated, when the operation does not set one."""
    load_sd: float = 0.02
    """Scale of the load's wander around its setpoint (the standard deviation it would have
    without the soft bound)."""
    load_bound: float = 2.5
    """The load stays within setpoint +- `load_bound * load_sd`, as under a controller."""
    load_time_constant: float = 60.0
    """Seconds for a load excursion to decay by 1/e."""
    ambient: float = 20.0
    """Mean ambient temperature, degC."""
    ambient_daily_swing: float = 2.0
    drive: DriveParameters = field(default_factory=DriveParameters)


PM = TypeVar("PM", bound=MachineParameters)


class RotatingMachine(MachineModel[PM]):
    """A motor-driven machine; see the module docstring."""

    def __init__(
        self,
        equipment_id: str,
        params: PM,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        super().__init__(equipment_id, params, rng, operation)
        self._wander = Wander(
            params.load_time_constant, params.load_bound, float(rng.standard_normal())
        )
        self._drive = Drive(params.drive)
        self._load = params.base_load + params.load_sd * self._wander.value
        noise = self.noise
        self._noise = tuple(noise[name] for name in self.signals)
        self.unsteady: dict[str, float] = {}
        """Signals whose noise is multiplied for the moment (an erratic fault), by how much."""

    @property
    def base_load(self) -> float:
        return self.params.base_load

    @property
    def noise(self) -> Mapping[str, float]:
        params: Any = self.params
        return dataclasses.asdict(params.noise)

    @property
    def load(self) -> float:
        """Load of the last step, as a fraction of rated."""
        return self._load

    @property
    def speed(self) -> float:
        """Fraction of rated speed: 1 running, 0 stopped, in between while starting or stopping."""
        return self._drive.speed

    def ambient(self, ts: float) -> float:
        return ambient(ts, self.params.ambient, self.params.ambient_daily_swing)

    def severity(self, mechanism: str, ts: float) -> float:
        if not self._faults:
            return 0.0
        return super().severity(mechanism, ts)

    def step(self, ts: float, dt: float) -> dict[str, float]:
        p = self.params
        z = self.rng.standard_normal(1 + len(self._noise)).tolist()
        demand = self.schedule.demand(ts)
        wander = self._wander.step(dt, z[0])
        speed = self._drive.step(demand.running, dt)
        setpoint = demand.load if demand.running else p.base_load
        load = self._load = setpoint + p.load_sd * wander
        clean = self.physics(ts, dt, speed, load)
        unsteady = self.unsteady
        measured: dict[str, float] = {}
        for name, sd, zi in zip(self.signals, self._noise, z[1:], strict=True):
            factor = unsteady.get(name, 1.0) if unsteady else 1.0
            measured[name] = max(0.0, clean[name] + sd * factor * zi)
        return measured

    @abstractmethod
    def physics(self, ts: float, dt: float, speed: float, load: float) -> dict[str, float]:
        """Noise-free values of every signal at `ts` after `dt` seconds, at `speed` (fraction of
        rated) and `load` (fraction of rated, with its wander)."""
