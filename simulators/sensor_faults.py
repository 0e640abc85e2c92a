"""Sensor faults: the machine is fine, its measurement is not.

A sensor fault corrupts one signal of one machine from `onset` for `duration` seconds (or to the
end of the run): the value sticks, drifts away, spikes, goes missing or gets noisy. It is applied
after the machine model, so the machine's own physics and ground truth are untouched. Defaults
scale with the signal: the largest value it showed before the fault (its working range, even if
the machine happens to be stopped at onset) and its normal measurement noise.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from simulators.errors import SimulatorError


@dataclass(frozen=True)
class SensorFault(ABC):
    """A faulty measurement of `signal` from `onset` (epoch s) for `duration` seconds (None: to
    the end of the run)."""

    signal: str
    onset: float
    duration: float | None = None

    kind: ClassVar[str]
    """The fault's name in scenario files."""
    failure_mode: ClassVar[str] = "AIR"
    """ISO 14224: abnormal instrument reading."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.onset):
            raise SimulatorError(
                f"{self.name}: onset must be a finite epoch time, got {self.onset}"
            )
        if self.duration is not None and not (self.duration > 0 and math.isfinite(self.duration)):
            raise SimulatorError(
                f"{self.name}: duration must be a positive number of seconds, got {self.duration}"
            )

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def end(self) -> float:
        """When the sensor is good again (infinity: never, within the run)."""
        return math.inf if self.duration is None else self.onset + self.duration

    def active(self, ts: float) -> bool:
        return self.onset <= ts < self.end

    @abstractmethod
    def channel(self, noise_sd: float, rng: np.random.Generator) -> SensorChannel[Any]:
        """The stateful corruption of one machine's signal."""


F = TypeVar("F", bound=SensorFault)


class SensorChannel(ABC, Generic[F]):
    """Corrupts the values of one signal while its fault is active."""

    def __init__(self, fault: F, noise_sd: float, rng: np.random.Generator) -> None:
        self.fault = fault
        self.noise_sd = noise_sd
        self.rng = rng
        self.at_onset: float | None = None
        """The last true value before the fault started (what a stuck sensor keeps showing)."""
        self.peak = 0.0
        """The largest magnitude seen before the fault: the scale of the signal."""

    def apply(self, ts: float, value: float) -> float | None:
        """The measured value at `ts` for the true `value`; None when the sensor gives none."""
        if ts < self.fault.onset:
            self.at_onset = value
            self.peak = max(self.peak, abs(value))
            return value
        if self.at_onset is None:
            self.at_onset = value
            self.peak = max(self.peak, abs(value))
        if ts >= self.fault.end:
            return value
        return self.corrupt(ts, value, self.at_onset)

    @abstractmethod
    def corrupt(self, ts: float, value: float, at_onset: float) -> float | None:
        """The measured value while the fault is active; None when the sensor gives none."""


@dataclass(frozen=True)
class StuckSensor(SensorFault):
    """The reading freezes at its last value (a hung transmitter, a frozen PLC register)."""

    kind: ClassVar[str] = "stuck"

    def channel(self, noise_sd: float, rng: np.random.Generator) -> SensorChannel[Any]:
        return _Stuck(self, noise_sd, rng)


class _Stuck(SensorChannel[StuckSensor]):
    def corrupt(self, ts: float, value: float, at_onset: float) -> float | None:
        return at_onset


@dataclass(frozen=True)
class DriftingSensor(SensorFault):
    """The reading walks away from the truth at `rate` units per hour (a failing reference, a
    fouled probe). Default: 2% of the signal's scale per hour, at least 5 noise standard
    deviations per hour, upward."""

    rate: float | None = None

    kind: ClassVar[str] = "drift"

    def channel(self, noise_sd: float, rng: np.random.Generator) -> SensorChannel[Any]:
        return _Drift(self, noise_sd, rng)


class _Drift(SensorChannel[DriftingSensor]):
    def corrupt(self, ts: float, value: float, at_onset: float) -> float | None:
        fault = self.fault
        rate = fault.rate
        if rate is None:
            rate = max(0.02 * self.peak, 5.0 * self.noise_sd)
        return value + rate * (ts - fault.onset) / 3600.0


@dataclass(frozen=True)
class SpikingSensor(SensorFault):
    """Now and then a reading jumps far off and back (a loose connector, electrical noise):
    each reading spikes with `probability`, by `magnitude` units up or down (never below 0).
    Default magnitude: half the signal's scale, at least 20 noise standard deviations."""

    probability: float = 0.01
    magnitude: float | None = None

    kind: ClassVar[str] = "spikes"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.probability <= 1.0:
            raise SimulatorError(
                f"{self.name}: probability must be in (0, 1], got {self.probability}"
            )

    def channel(self, noise_sd: float, rng: np.random.Generator) -> SensorChannel[Any]:
        return _Spikes(self, noise_sd, rng)


class _Spikes(SensorChannel[SpikingSensor]):
    def corrupt(self, ts: float, value: float, at_onset: float) -> float | None:
        fault = self.fault
        draw, sign = self.rng.random(2).tolist()
        if draw >= fault.probability:
            return value
        magnitude = fault.magnitude
        if magnitude is None:
            magnitude = max(0.5 * self.peak, 20.0 * self.noise_sd)
        return max(0.0, value + (magnitude if sign < 0.5 else -magnitude))


@dataclass(frozen=True)
class SensorDropout(SensorFault):
    """Readings go missing (a broken cable, a dead transmitter, a radio link that drops): each
    reading is lost with `probability` (1: the sensor is silent)."""

    probability: float = 1.0

    kind: ClassVar[str] = "dropout"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.probability <= 1.0:
            raise SimulatorError(
                f"{self.name}: probability must be in (0, 1], got {self.probability}"
            )

    def channel(self, noise_sd: float, rng: np.random.Generator) -> SensorChannel[Any]:
        return _Dropout(self, noise_sd, rng)


class _Dropout(SensorChannel[SensorDropout]):
    def corrupt(self, ts: float, value: float, at_onset: float) -> float | None:
        fault = self.fault
        if fault.probability >= 1.0 or float(self.rng.random()) < fault.probability:
            return None
        return value


@dataclass(frozen=True)
class NoisySensor(SensorFault):
    """The reading gets much noisier (a failing amplifier, a ground loop): Gaussian noise of `sd`
    units is added. Default: ten times the signal's normal noise, at least 2% of its scale."""

    sd: float | None = None

    kind: ClassVar[str] = "noise"

    def channel(self, noise_sd: float, rng: np.random.Generator) -> SensorChannel[Any]:
        return _Noisy(self, noise_sd, rng)


class _Noisy(SensorChannel[NoisySensor]):
    def corrupt(self, ts: float, value: float, at_onset: float) -> float | None:
        fault = self.fault
        sd = fault.sd if fault.sd is not None else max(10.0 * self.noise_sd, 0.02 * self.peak)
        return max(0.0, value + sd * float(self.rng.standard_normal()))


SENSOR_FAULTS: Mapping[str, type[SensorFault]] = {
    cls.kind: cls
    for cls in (StuckSensor, DriftingSensor, SpikingSensor, SensorDropout, NoisySensor)
}
"""Sensor faults by the names scenario files use."""
