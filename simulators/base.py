"""The simulator contract: machine models, the faults that degrade them, samples, publishers.

A machine model advances its physics in simulated time (`step`) and returns one measured value per
signal. It is deterministic given its parameters, its `numpy.random.Generator` and the sequence of
`(ts, dt)` it is stepped with; nothing in it reads the wall clock. A fault does not compute values
itself: it says how far a degradation mechanism has progressed (a severity in [0, 1] at a given
time) and the model decides what that mechanism does to its physics.
"""

from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, Self, TypeVar

import numpy as np

from devices import Reading
from simulators.errors import SimulatorError
from simulators.iso10816 import ZoneLimits
from simulators.operation import CONTINUOUS, Operation

EXPONENTIAL_RATE = 1.0
"""Curvature of the exponential progression: at failure, severity grows e**rate times faster
than at onset."""


class Progression(enum.StrEnum):
    """How a fault's severity grows from 0 at onset to 1 at functional failure."""

    LINEAR = "linear"
    """Steady degradation (erosion, fouling, stretching)."""
    EXPONENTIAL = "exponential"
    """Degradation that feeds itself (spalling bearings, failing lubrication)."""
    STEP = "step"
    """Sudden damage at onset (a lost balance weight, a cracked seal face) that holds at
    `step_level` until the machine fails."""

    def severity(self, fraction: float, step_level: float = 0.5) -> float:
        """Severity after `fraction` of the time to failure (clipped to [0, 1])."""
        x = min(max(fraction, 0.0), 1.0)
        if self is Progression.LINEAR:
            return x
        if self is Progression.STEP:
            return 1.0 if x >= 1.0 else (step_level if x > 0.0 else 0.0)
        return math.expm1(EXPONENTIAL_RATE * x) / math.expm1(EXPONENTIAL_RATE)


@dataclass(frozen=True)
class Fault(ABC):
    """A developing fault: nothing before `onset`, functional failure `time_to_failure` seconds
    later, and a severity that follows `shape` in between (and stays at 1 after failure)."""

    onset: float
    """Simulated time (epoch seconds, UTC) when the fault starts to develop."""
    time_to_failure: float
    """Seconds from onset until the machine functionally fails."""
    shape: Progression = Progression.LINEAR
    step_level: float = 0.5
    """Severity between onset and failure with the `step` shape."""

    mechanism: ClassVar[str]
    """The degradation mechanism a model must know to be given this fault; also the fault's
    name in scenario files."""
    failure_mode: ClassVar[str]
    """The ISO 14224 failure-mode code (devices/library.yaml) a work order should carry."""
    also_seen_as: ClassVar[tuple[str, ...]] = ()
    """Other failure-mode codes a correct work order may carry (cavitation shows as vibration
    as much as lost head, for instance)."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.onset):
            raise SimulatorError(
                f"{self.name}: onset must be a finite epoch time, got {self.onset}"
            )
        if not (self.time_to_failure > 0 and math.isfinite(self.time_to_failure)):
            raise SimulatorError(
                f"{self.name}: time_to_failure must be a positive number of seconds, "
                f"got {self.time_to_failure}"
            )
        try:
            shape = Progression(self.shape)
        except ValueError:
            known = ", ".join(p.value for p in Progression)
            raise SimulatorError(
                f"{self.name}: unknown progression shape {self.shape!r}; use one of: {known}"
            ) from None
        object.__setattr__(self, "shape", shape)
        if not 0.0 < self.step_level <= 1.0:
            raise SimulatorError(
                f"{self.name}: step_level must be in (0, 1], got {self.step_level}"
            )

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def failure_at(self) -> float:
        return self.onset + self.time_to_failure

    @property
    def failure_modes(self) -> tuple[str, ...]:
        """Every failure-mode code a work order for this fault may rightly carry."""
        return (self.failure_mode, *self.also_seen_as)

    def severity(self, ts: float) -> float:
        """0 before onset, rising along `shape` to 1 at `failure_at`, 1 afterwards."""
        if ts <= self.onset:
            return 0.0
        return self.shape.severity((ts - self.onset) / self.time_to_failure, self.step_level)


P = TypeVar("P")


class MachineModel(ABC, Generic[P]):
    """One simulated machine of one equipment type.

    Subclasses set `machine_type` (the equipment type name plant files use), `signals` (what
    `step` returns), `mechanisms` (the faults they can be given) and `vibration_zones`, and
    implement `draw_parameters`, `base_load`, `noise` and `step`. All randomness comes from
    `rng`, drawn in the same order whatever the faults, so a fault changes the physics but not
    the noise. The machine is run as its `operation` says (around the clock by default); the
    schedule draws from a generator spawned from `rng`, so the operation does not change the
    noise either.
    """

    machine_type: ClassVar[str]
    signals: ClassVar[tuple[str, ...]]
    mechanisms: ClassVar[frozenset[str]]
    vibration_zones: ClassVar[ZoneLimits]

    def __init__(
        self,
        equipment_id: str,
        params: P,
        rng: np.random.Generator,
        operation: Operation = CONTINUOUS,
    ) -> None:
        self.equipment_id = equipment_id
        self.params = params
        self.rng = rng
        self.operation = operation
        schedule_rng, fault_rng = rng.spawn(2)
        self.schedule = operation.schedule(self.base_load, schedule_rng)
        self.fault_rng = fault_rng
        """For the randomness of faults themselves (bursts, erratic slip); drawn only while a
        fault needs it, so it never changes a healthy machine's values."""
        self._faults: list[Fault] = []

    @classmethod
    @abstractmethod
    def draw_parameters(cls, rng: np.random.Generator) -> P:
        """Parameters of one machine of this type (what differs from unit to unit)."""

    @classmethod
    def create(
        cls, equipment_id: str, rng: np.random.Generator, operation: Operation = CONTINUOUS
    ) -> Self:
        """A machine whose parameters and noise both come from `rng`."""
        return cls(equipment_id, cls.draw_parameters(rng), rng, operation)

    @property
    @abstractmethod
    def base_load(self) -> float:
        """The load (fraction of rated) this machine runs at when nothing else is asked."""

    @property
    @abstractmethod
    def noise(self) -> Mapping[str, float]:
        """Standard deviation of each signal's measurement noise, in the signal's unit."""

    @property
    def faults(self) -> tuple[Fault, ...]:
        return tuple(self._faults)

    def attach(self, fault: Fault) -> None:
        if fault.mechanism not in self.mechanisms:
            known = ", ".join(sorted(self.mechanisms)) or "none"
            raise SimulatorError(
                f"{self.equipment_id}: a {self.machine_type} cannot develop {fault.name} "
                f"(mechanism {fault.mechanism!r}); its mechanisms: {known}"
            )
        self._faults.append(fault)

    def repair(self) -> tuple[Fault, ...]:
        """Fix the machine: every attached fault is gone from now on. Returns those removed."""
        removed, self._faults = tuple(self._faults), []
        return removed

    def severity(self, mechanism: str, ts: float) -> float:
        """How far `mechanism` has progressed at `ts`: the worst of the attached faults."""
        return max((f.severity(ts) for f in self._faults if f.mechanism == mechanism), default=0.0)

    @abstractmethod
    def step(self, ts: float, dt: float) -> dict[str, float]:
        """Advance the physics by `dt` seconds to `ts` and return the measured signal values."""


@dataclass(frozen=True, slots=True)
class Sample:
    """The measured values of one machine at one simulated time."""

    equipment_id: str
    ts: float
    values: Mapping[str, float]

    def readings(self) -> list[Reading]:
        """The sample as the records ingest produces, for pipelines fed without a broker."""
        return [Reading(self.equipment_id, name, self.ts, v) for name, v in self.values.items()]


class Publisher(Protocol):
    """Where a simulation's samples go (an MQTT broker, an OPC UA server, a file...)."""

    async def publish(self, samples: Sequence[Sample]) -> None:
        """Hand over one tick's samples (a publisher may hold some back to pack them)."""
        ...

    async def flush(self) -> None:
        """Send whatever is held back and wait until everything published has been delivered."""
        ...
