"""A simulated plant: one machine model per equipment, run as its operation says, with machine
and sensor faults injected and ground truth kept."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from devices import Plant
from simulators.base import Fault, MachineModel, Sample
from simulators.errors import SimulatorError
from simulators.ground_truth import (
    CrossingRecorder,
    GroundTruth,
    MachineTruth,
    RunTruth,
    SensorFaultTruth,
)
from simulators.operation import CONTINUOUS, Operation
from simulators.registry import MACHINE_MODELS
from simulators.sensor_faults import SensorChannel, SensorFault

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaultInjection:
    """A machine fault developing on one equipment."""

    equipment_id: str
    fault: Fault


@dataclass(frozen=True, slots=True)
class SensorFaultInjection:
    """A sensor fault on one signal of one equipment."""

    equipment_id: str
    fault: SensorFault


Injection = FaultInjection | SensorFaultInjection


@dataclass(frozen=True, slots=True)
class _Watch:
    fault: Fault
    recorder: CrossingRecorder


@dataclass(frozen=True, slots=True)
class _Sensor:
    fault: SensorFault
    channel: SensorChannel[Any]
    recorder: CrossingRecorder


@dataclass(frozen=True, slots=True)
class _Machine:
    equipment_id: str
    model: MachineModel[Any]
    reported: tuple[str, ...] | None
    """Signals to report when the model produces some the plant does not bind; None: all."""
    watches: list[_Watch]
    sensors: list[_Sensor]


def machine_rng(seed: int, equipment_id: str) -> np.random.Generator:
    """The generator of one machine: derived from the fleet seed and the equipment id only, so a
    machine's values do not depend on which other machines are simulated."""
    digest = hashlib.blake2b(equipment_id.encode("utf-8"), digest_size=8).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, int.from_bytes(digest, "big")]))


class Fleet:
    """Every equipment of `plant` that has a machine model, stepped together in simulated time.

    The same plant, seed, operations, faults and sequence of `tick` calls give the same samples,
    bit for bit. Equipment whose type has no model raises `SimulatorError`, or is left out (and
    listed in `skipped`) with `skip_unsupported=True`. `models` maps equipment type names to
    models; pass your own to simulate a plant's custom types (e.g. `{"booster_pump":
    CentrifugalPump}`). `operations` says how each equipment is run (default: around the clock).
    """

    def __init__(
        self,
        plant: Plant,
        *,
        seed: int,
        faults: Sequence[Injection] = (),
        skip_unsupported: bool = False,
        models: Mapping[str, type[MachineModel[Any]]] = MACHINE_MODELS,
        operations: Mapping[str, Operation] | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SimulatorError(f"seed must be a non-negative integer, got {seed!r}")
        operations = operations or {}
        unknown = sorted(set(operations) - set(plant.equipment))
        if unknown:
            raise SimulatorError(
                f"operations given for equipment not in the plant ({plant.source}): {unknown}"
            )
        self.plant = plant
        self.seed = seed
        self.faults = tuple(faults)
        self._operations = operations
        self._machines: dict[str, _Machine] = {}
        self._watches: list[tuple[str, _Watch]] = []
        self._sensors: list[tuple[str, _Sensor]] = []
        self._first_ts: float | None = None
        self._last_ts: float | None = None
        self._period = 0.0
        skipped: list[str] = []
        for eq in plant:
            model_cls = models.get(eq.type)
            if model_cls is None:
                if not skip_unsupported:
                    known = ", ".join(sorted(models)) or "none"
                    raise SimulatorError(
                        f"equipment {eq.id!r} is of type {eq.type!r}, which the simulator cannot "
                        f"simulate (it knows: {known}); pass skip_unsupported=True to leave it out"
                    )
                skipped.append(eq.id)
                continue
            operation = operations.get(eq.id, CONTINUOUS)
            model = model_cls.create(eq.id, machine_rng(seed, eq.id), operation)
            missing = sorted(set(eq.signals) - set(model_cls.signals))
            if missing:
                log.warning(
                    "%s: the %s model does not produce %s; those signals get no values",
                    eq.id,
                    model_cls.machine_type,
                    ", ".join(missing),
                )
            reported = tuple(s for s in model_cls.signals if s in eq.signals)
            self._machines[eq.id] = _Machine(
                eq.id, model, None if reported == model_cls.signals else reported, [], []
            )
        self.skipped = tuple(skipped)
        if skipped:
            log.info("not simulating %d equipment of unknown types: %s", len(skipped), skipped)
        for index, injection in enumerate(self.faults):
            self._inject(index, injection)

    def _inject(self, index: int, injection: Injection) -> None:
        eq_id, fault = injection.equipment_id, injection.fault
        machine = self._machines.get(eq_id)
        if machine is None:
            if eq_id in self.plant.equipment:
                eq_type = self.plant.equipment[eq_id].type
                why = f"is of type {eq_type!r}, which is not simulated"
            else:
                why = f"is not in the plant ({self.plant.source})"
            raise SimulatorError(f"cannot inject {fault.name} into {eq_id!r}: it {why}")
        equipment = self.plant.equipment[eq_id]
        if isinstance(injection, SensorFaultInjection):
            fault = injection.fault
            reported = machine.reported or type(machine.model).signals
            if fault.signal not in reported:
                raise SimulatorError(
                    f"cannot inject {fault.name} into {eq_id!r}: it has no simulated signal "
                    f"{fault.signal!r}; its signals: {', '.join(reported)}"
                )
            rng = machine_rng(self.seed, f"{eq_id}/{fault.signal}/{index}")
            channel = fault.channel(machine.model.noise[fault.signal], rng)
            recorder = CrossingRecorder(
                [equipment.signals[fault.signal]], since=fault.onset, until=fault.end
            )
            sensor = _Sensor(fault, channel, recorder)
            machine.sensors.append(sensor)
            self._sensors.append((eq_id, sensor))
            return
        machine.model.attach(injection.fault)
        recorder = CrossingRecorder(equipment.signals.values(), since=injection.fault.onset)
        watch = _Watch(injection.fault, recorder)
        machine.watches.append(watch)
        self._watches.append((eq_id, watch))

    def __len__(self) -> int:
        return len(self._machines)

    @property
    def equipment_ids(self) -> tuple[str, ...]:
        return tuple(self._machines)

    def model(self, equipment_id: str) -> MachineModel[Any]:
        return self._machines[equipment_id].model

    def repair(self, equipment_id: str) -> tuple[str, ...]:
        """Repair a machine as maintenance would (the faults of its model are removed; its
        sensors' faults stay: a repair of the machine does not fix a sensor). Returns the names
        of the faults removed; ground truth keeps them, as they happened."""
        machine = self._machines.get(equipment_id)
        if machine is None:
            raise SimulatorError(f"cannot repair {equipment_id!r}: it is not simulated")
        removed = machine.model.repair()
        if removed:
            log.info("%s repaired: %s", equipment_id, ", ".join(f.name for f in removed))
        return tuple(f.name for f in removed)

    def tick(self, ts: float, dt: float) -> list[Sample]:
        """Advance every machine by `dt` seconds to simulated time `ts`; one sample each (without
        the readings a faulty sensor did not give)."""
        if not (dt >= 0 and math.isfinite(dt)):
            raise SimulatorError(f"dt must be a non-negative number of seconds, got {dt}")
        if self._first_ts is None:
            self._first_ts = ts
        self._last_ts, self._period = ts, dt
        samples: list[Sample] = []
        for machine in self._machines.values():
            values = machine.model.step(ts, dt)
            if machine.reported is not None:
                values = {name: values[name] for name in machine.reported}
            for watch in machine.watches:
                watch.recorder.observe(ts, values)
            if machine.sensors:
                values = _measured(values, machine.sensors, ts)
            samples.append(Sample(machine.equipment_id, ts, values))
        return samples

    def ground_truth(self) -> list[GroundTruth]:
        """One record per injected machine fault (in injection order), with the limit crossings
        seen up to the last tick."""
        truths: list[GroundTruth] = []
        for eq_id, watch in self._watches:
            fault = watch.fault
            truths.append(
                GroundTruth(
                    equipment_id=eq_id,
                    fault=fault.name,
                    mechanism=fault.mechanism,
                    failure_mode=fault.failure_mode,
                    onset=fault.onset,
                    failure_at=fault.failure_at,
                    crossings=watch.recorder.crossings,
                    shape=fault.shape.value,
                    failure_modes=fault.failure_modes,
                )
            )
        return truths

    def sensor_truth(self) -> list[SensorFaultTruth]:
        """One record per injected sensor fault (in injection order)."""
        truths: list[SensorFaultTruth] = []
        for eq_id, sensor in self._sensors:
            fault = sensor.fault
            truths.append(
                SensorFaultTruth(
                    equipment_id=eq_id,
                    signal=fault.signal,
                    fault=fault.name,
                    kind=fault.kind,
                    onset=fault.onset,
                    end=None if math.isinf(fault.end) else fault.end,
                    crossings=sensor.recorder.crossings,
                )
            )
        return truths

    def truth(self, scenario: str = "") -> RunTruth:
        """What happened in the run so far: machines, faults, sensor faults."""
        start = self._first_ts if self._first_ts is not None else math.nan
        end = self._last_ts if self._last_ts is not None else start
        machines = tuple(
            MachineTruth(
                equipment_id=eq_id,
                type=self.plant.equipment[eq_id].type,
                path=self.plant.equipment[eq_id].path,
                operation=describe(self._operations.get(eq_id, CONTINUOUS)),
            )
            for eq_id in self._machines
        )
        return RunTruth(
            scenario=scenario,
            seed=self.seed,
            start=start,
            end=end,
            period=self._period,
            machines=machines,
            faults=tuple(self.ground_truth()),
            sensor_faults=tuple(self.sensor_truth()),
        )


def _measured(values: dict[str, float], sensors: list[_Sensor], ts: float) -> dict[str, float]:
    measured = dict(values)
    for sensor in sensors:
        name = sensor.channel.fault.signal
        if name not in measured:
            continue
        value = sensor.channel.apply(ts, measured[name])
        if value is None:
            del measured[name]
            continue
        measured[name] = value
        sensor.recorder.observe(ts, {name: value})
    return measured


def describe(operation: Operation) -> str:
    """An operation in a few words, for ground truth and reports."""
    if operation.continuous:
        how = "around the clock"
    else:
        shifts = ", ".join(f"{_hhmm(s.start)}-{_hhmm(s.end)}" for s in operation.shifts)
        days = (
            "every day"
            if len(operation.days) == 7
            else "days " + ",".join(str(d) for d in sorted(operation.days))
        )
        idle = f", idling at {operation.off_shift:g} between" if operation.off_shift else ""
        how = f"shifts {shifts} {days}{idle}"
    if operation.load_changes is not None:
        levels = "/".join(f"{level:g}" for level in operation.load_changes.levels)
        how += f", load changes {levels}"
    elif operation.load is not None:
        how += f", load {operation.load:g}"
    return how


def _hhmm(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
