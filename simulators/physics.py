"""Building blocks the machine models share: a bounded random wander, a first-order lag, the
daily ambient cycle, and a drive that starts, runs and stops."""

from __future__ import annotations

import math
from dataclasses import dataclass

DAY = 86400.0
WARMEST_HOUR_UTC = 15.0
"""The ambient temperature peaks mid-afternoon (UTC)."""


def ambient(ts: float, mean: float, swing: float) -> float:
    """Ambient temperature at `ts`: `mean` +- `swing` degC over the day, warmest at 15:00 UTC."""
    phase = 2.0 * math.pi * (ts - WARMEST_HOUR_UTC * 3600.0) / DAY
    return mean + swing * math.cos(phase)


class Wander:
    """A unit Ornstein-Uhlenbeck process: mean 0, standard deviation 1, decorrelating over
    `time_constant` seconds, squashed by `tanh` so that it stays within +-`bound`.

    Stepped with one standard-normal draw per step, so a caller controls the random stream.
    """

    def __init__(self, time_constant: float, bound: float, start: float) -> None:
        self.time_constant = time_constant
        self.bound = bound
        self._x = start

    @property
    def value(self) -> float:
        return self.bound * math.tanh(self._x / self.bound)

    def step(self, dt: float, z: float) -> float:
        decay = math.exp(-dt / self.time_constant)
        spread = math.sqrt(-math.expm1(-2.0 * dt / self.time_constant))
        self._x = self._x * decay + spread * z
        return self.value


class Lag:
    """A first-order lag (a thermal mass, a receiver volume): the value moves toward its target
    by 1 - e^(-dt/tau) of the difference each step. It starts at the first target it is given."""

    def __init__(self, time_constant: float) -> None:
        self.time_constant = time_constant
        self.value: float | None = None

    def step(self, target: float, dt: float, time_constant: float | None = None) -> float:
        if self.value is None:
            self.value = target
            return target
        tau = self.time_constant if time_constant is None else time_constant
        self.value += (target - self.value) * -math.expm1(-dt / tau)
        return self.value


@dataclass(frozen=True, slots=True)
class DriveParameters:
    run_up: float = 20.0
    """Seconds a soft-started drive takes from standstill to full speed."""
    coast_down: float = 60.0
    """Time constant (s) of the speed decaying after a stop."""


class Drive:
    """The speed of a soft-started motor drive, as a fraction of rated speed.

    Running, the speed ramps linearly up to 1 in `run_up` seconds; stopped, it decays toward 0
    with the `coast_down` time constant (and is taken as 0 below 1%). At the first step the
    machine is already in the state asked for (at full speed, or at rest).
    """

    def __init__(self, params: DriveParameters) -> None:
        self.params = params
        self.speed = 0.0
        self._started = False

    def step(self, running: bool, dt: float) -> float:
        if not self._started:
            self._started = True
            self.speed = 1.0 if running else 0.0
        elif running:
            self.speed = min(1.0, self.speed + dt / self.params.run_up)
        else:
            self.speed *= math.exp(-dt / self.params.coast_down)
            if self.speed < 0.01:
                self.speed = 0.0
        return self.speed

    @property
    def turning(self) -> bool:
        return self.speed > 0.0
