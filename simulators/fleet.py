"""A simulated plant: one machine model per equipment, faults injected, ground truth kept."""

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
from simulators.ground_truth import CrossingRecorder, GroundTruth
from simulators.registry import MACHINE_MODELS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaultInjection:
    equipment_id: str
    fault: Fault


@dataclass(frozen=True, slots=True)
class _Watch:
    injection: FaultInjection
    recorder: CrossingRecorder


@dataclass(frozen=True, slots=True)
class _Machine:
    equipment_id: str
    model: MachineModel[Any]
    reported: tuple[str, ...] | None
    """Signals to report when the model produces some the plant does not bind; None: all."""
    watches: list[_Watch]


def machine_rng(seed: int, equipment_id: str) -> np.random.Generator:
    """The generator of one machine: derived from the fleet seed and the equipment id only, so a
    machine's values do not depend on which other machines are simulated."""
    digest = hashlib.blake2b(equipment_id.encode("utf-8"), digest_size=8).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, int.from_bytes(digest, "big")]))


class Fleet:
    """Every equipment of `plant` that has a machine model, stepped together in simulated time.

    The same plant, seed, faults and sequence of `tick` calls give the same samples, bit for bit.
    Equipment whose type has no model raises `SimulatorError`, or is left out (and listed in
    `skipped`) with `skip_unsupported=True`. `models` maps equipment type names to models; pass
    your own to simulate a plant's custom types (e.g. `{"booster_pump": CentrifugalPump}`).
    """

    def __init__(
        self,
        plant: Plant,
        *,
        seed: int,
        faults: Sequence[FaultInjection] = (),
        skip_unsupported: bool = False,
        models: Mapping[str, type[MachineModel[Any]]] = MACHINE_MODELS,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SimulatorError(f"seed must be a non-negative integer, got {seed!r}")
        self.plant = plant
        self.seed = seed
        self.faults = tuple(faults)
        self._machines: dict[str, _Machine] = {}
        self._watches: list[tuple[str, _Watch]] = []
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
            model = model_cls.create(eq.id, machine_rng(seed, eq.id))
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
                eq.id, model, None if reported == model_cls.signals else reported, []
            )
        self.skipped = tuple(skipped)
        if skipped:
            log.info("not simulating %d equipment of unknown types: %s", len(skipped), skipped)
        for injection in self.faults:
            self._inject(injection)

    def _inject(self, injection: FaultInjection) -> None:
        eq_id = injection.equipment_id
        machine = self._machines.get(eq_id)
        if machine is None:
            if eq_id in self.plant.equipment:
                eq_type = self.plant.equipment[eq_id].type
                why = f"is of type {eq_type!r}, which is not simulated"
            else:
                why = f"is not in the plant ({self.plant.source})"
            raise SimulatorError(f"cannot inject {injection.fault.name} into {eq_id!r}: it {why}")
        machine.model.attach(injection.fault)
        signals = self.plant.equipment[eq_id].signals.values()
        watch = _Watch(injection, CrossingRecorder(signals, since=injection.fault.onset))
        machine.watches.append(watch)
        self._watches.append((eq_id, watch))

    def __len__(self) -> int:
        return len(self._machines)

    @property
    def equipment_ids(self) -> tuple[str, ...]:
        return tuple(self._machines)

    def model(self, equipment_id: str) -> MachineModel[Any]:
        return self._machines[equipment_id].model

    def tick(self, ts: float, dt: float) -> list[Sample]:
        """Advance every machine by `dt` seconds to simulated time `ts`; one sample each."""
        if not (dt >= 0 and math.isfinite(dt)):
            raise SimulatorError(f"dt must be a non-negative number of seconds, got {dt}")
        samples: list[Sample] = []
        for machine in self._machines.values():
            values = machine.model.step(ts, dt)
            if machine.reported is not None:
                values = {name: values[name] for name in machine.reported}
            for watch in machine.watches:
                watch.recorder.observe(ts, values)
            samples.append(Sample(machine.equipment_id, ts, values))
        return samples

    def ground_truth(self) -> list[GroundTruth]:
        """One record per injected fault (in injection order), with the limit crossings seen up
        to the last tick."""
        return [
            GroundTruth(
                equipment_id=eq_id,
                fault=watch.injection.fault.name,
                mechanism=watch.injection.fault.mechanism,
                failure_mode=watch.injection.fault.failure_mode,
                onset=watch.injection.fault.onset,
                failure_at=watch.injection.fault.failure_at,
                crossings=watch.recorder.crossings,
            )
            for eq_id, watch in self._watches
        ]
