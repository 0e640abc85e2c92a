"""Scenario files: load, validate against the plant, and resolve into a runnable `Scenario`.

Every problem is reported at once, each with the line and the field it concerns and what to do
about it (`ScenarioFileError`). See `simulators.scenario_schema` for the format.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from devices import DevicesError, Plant, load_plant, plant_from_dict
from simulators.base import Fault
from simulators.errors import SimulatorError
from simulators.faults import FAULTS
from simulators.fleet import FaultInjection, Fleet, Injection, SensorFaultInjection
from simulators.operation import LoadChanges, Operation, Shift
from simulators.registry import MACHINE_MODELS
from simulators.scenario_schema import (
    FaultSpec,
    OperationSpec,
    ScenarioSpec,
    SensorFaultSpec,
    fault_spec,
)
from simulators.sensor_faults import SENSOR_FAULTS

Loc = tuple[str | int, ...]


class ScenarioFileError(SimulatorError):
    """A scenario file that cannot be used; the message names the file, each field and what is
    wrong with it."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        noun = "problem" if len(problems) == 1 else "problems"
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} {noun}:\n{lines}")


@dataclass(frozen=True)
class Scenario:
    """A plant, how its machines are run, what goes wrong with them and when."""

    name: str
    description: str
    source: str
    plant: Plant
    seed: int
    start: float
    duration: float
    period: float
    speed: float
    """Simulated seconds per real second; `math.inf`: as fast as possible."""
    samples_per_message: int
    operations: Mapping[str, Operation]
    faults: tuple[Injection, ...]
    skip_unsupported: bool = False

    @property
    def end(self) -> float:
        """Simulated time at which the run stops (exclusive)."""
        return self.start + self.duration

    @property
    def ticks(self) -> int:
        return math.ceil(self.duration / self.period)

    def fleet(self) -> Fleet:
        """A fresh fleet for one run of this scenario."""
        return Fleet(
            self.plant,
            seed=self.seed,
            faults=self.faults,
            skip_unsupported=self.skip_unsupported,
            operations=self.operations,
        )

    def replace(self, **changes: Any) -> Scenario:
        """This scenario with some fields changed (speed, seed, duration, ...)."""
        return dataclasses.replace(self, **changes)


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and resolve a scenario file; `ScenarioFileError` lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ScenarioFileError(str(path), [f"{where}not valid YAML: {exc}"]) from exc
    return scenario_from_dict(
        data, source=str(path), text=text, base_dir=path.parent, default_name=path.stem
    )


def scenario_from_dict(
    data: Any,
    *,
    source: str = "<memory>",
    text: str | None = None,
    base_dir: Path | None = None,
    default_name: str = "scenario",
) -> Scenario:
    """Validate and resolve a scenario given as plain data (what `yaml.safe_load` returns); a
    plant file it names is found relative to `base_dir`."""
    lines = _LineFinder(text)
    if not isinstance(data, Mapping):
        raise ScenarioFileError(
            source, ["the file must be a mapping with at least 'plant' and 'duration'"]
        )
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioFileError(source, [_describe(err, lines) for err in exc.errors()]) from exc
    problems: list[str] = []
    plant = _plant(spec, base_dir or Path.cwd(), lines, problems)
    if plant is None:
        raise ScenarioFileError(source, problems)
    operations = _operations(spec, plant, lines, problems)
    faults = _faults(spec, plant, lines, problems)
    if not spec.skip_unsupported:
        for eq in plant:
            if eq.type not in MACHINE_MODELS:
                known = ", ".join(sorted(MACHINE_MODELS))
                problems.append(
                    lines.at(
                        ("plant",),
                        f"equipment {eq.id!r} is of type {eq.type!r}, which the simulator has no "
                        f"model for (it has: {known}); set 'skip_unsupported: true' to leave it "
                        "out",
                    )
                )
    if problems:
        raise ScenarioFileError(source, problems)
    return Scenario(
        name=spec.name or default_name,
        description=spec.description.strip(),
        source=source,
        plant=_sampled_every(plant, spec.period),
        seed=spec.seed,
        start=spec.start,
        duration=spec.duration,
        period=spec.period,
        speed=spec.speed,
        samples_per_message=spec.samples_per_message,
        operations=operations,
        faults=tuple(faults),
        skip_unsupported=spec.skip_unsupported,
    )


def _plant(
    spec: ScenarioSpec, base_dir: Path, lines: _LineFinder, problems: list[str]
) -> Plant | None:
    try:
        if isinstance(spec.plant, str):
            plant_path = Path(spec.plant)
            if not plant_path.is_absolute():
                plant_path = base_dir / plant_path
            return load_plant(plant_path)
        return plant_from_dict(spec.plant, source="the scenario's inline plant", base_dir=base_dir)
    except DevicesError as exc:
        problems.append(lines.at(("plant",), str(exc)))
        return None


def _operations(
    spec: ScenarioSpec, plant: Plant, lines: _LineFinder, problems: list[str]
) -> dict[str, Operation]:
    types_in_plant = {eq.type for eq in plant}
    for type_name in spec.types:
        if type_name not in types_in_plant:
            problems.append(
                lines.at(
                    ("types", type_name),
                    f"no equipment of type {type_name!r} in the plant; its types: "
                    f"{', '.join(sorted(types_in_plant))}",
                )
            )
    for eq_id in spec.machines:
        if eq_id not in plant.equipment:
            problems.append(lines.at(("machines", eq_id), _not_in_plant(eq_id, plant)))
    default = _operation(spec.operation, ("operation",), lines, problems)
    by_type = {
        name: _operation(m.operation, ("types", name, "operation"), lines, problems)
        for name, m in spec.types.items()
    }
    by_machine = {
        eq_id: _operation(m.operation, ("machines", eq_id, "operation"), lines, problems)
        for eq_id, m in spec.machines.items()
    }
    operations: dict[str, Operation] = {}
    for eq in plant:
        chosen = by_machine.get(eq.id) or by_type.get(eq.type) or default
        if chosen is not None:
            operations[eq.id] = chosen
    return operations


def _operation(
    spec: OperationSpec, loc: Loc, lines: _LineFinder, problems: list[str]
) -> Operation | None:
    try:
        changes = spec.load_changes
        return Operation(
            shifts=tuple(Shift(s.start, s.end, s.load) for s in spec.shifts),
            days=frozenset(spec.days),
            off_shift=spec.off_shift,
            load=spec.load,
            load_changes=(
                LoadChanges(tuple(changes.levels), changes.mean_dwell, changes.ramp)
                if changes is not None
                else None
            ),
            jitter=spec.jitter,
        )
    except SimulatorError as exc:
        problems.append(lines.at(loc, str(exc)))
        return None


def _faults(
    spec: ScenarioSpec, plant: Plant, lines: _LineFinder, problems: list[str]
) -> list[Injection]:
    injections: list[Injection] = []
    for index, entry in enumerate(spec.faults):
        loc: Loc = ("faults", index)
        model = fault_spec(entry)
        if model is None:
            machine = ", ".join(sorted(FAULTS))
            sensor = ", ".join(sorted(SENSOR_FAULTS))
            where = (*loc, "fault") if "fault" in entry else loc
            got = f"unknown fault {entry['fault']!r}" if "fault" in entry else "no 'fault' given"
            problems.append(
                lines.at(where, f"{got}; machine faults: {machine}; sensor faults: {sensor}")
            )
            continue
        try:
            parsed = model.model_validate(entry)
        except ValidationError as exc:
            problems.extend(_describe(err, lines, prefix=loc) for err in exc.errors())
            continue
        injection = _injection(parsed, spec, plant, loc, lines, problems)
        if injection is not None:
            injections.append(injection)
    return injections


def _injection(
    parsed: FaultSpec | SensorFaultSpec,
    spec: ScenarioSpec,
    plant: Plant,
    loc: Loc,
    lines: _LineFinder,
    problems: list[str],
) -> Injection | None:
    equipment = plant.equipment.get(parsed.equipment)
    if equipment is None:
        problems.append(lines.at((*loc, "equipment"), _not_in_plant(parsed.equipment, plant)))
        return None
    kind, value = parsed.onset
    onset = spec.start + value if kind == "after" else value
    end = spec.start + spec.duration
    if not spec.start <= onset < end:
        problems.append(
            lines.at(
                (*loc, "onset"),
                "the fault starts outside the run (it runs for "
                f"{_hours(spec.duration)} from the start); give an onset within it",
            )
        )
        return None
    model = MACHINE_MODELS.get(equipment.type)
    if isinstance(parsed, FaultSpec):
        fault_cls = FAULTS[parsed.fault]
        if model is not None and fault_cls.mechanism not in model.mechanisms:
            problems.append(
                lines.at(
                    (*loc, "fault"),
                    f"a {equipment.type} ({parsed.equipment}) cannot develop {parsed.fault}; "
                    f"it can: {', '.join(sorted(model.mechanisms))}",
                )
            )
            return None
        options: dict[str, Any] = {"step_level": parsed.step_level}
        if parsed.shape is not None:
            options["shape"] = parsed.shape
        fault: Fault = fault_cls(onset=onset, time_to_failure=parsed.time_to_failure, **options)
        return FaultInjection(parsed.equipment, fault)
    signals = model.signals if model is not None else tuple(equipment.signals)
    reported = [s for s in signals if s in equipment.signals]
    if parsed.signal not in reported:
        problems.append(
            lines.at(
                (*loc, "signal"),
                f"{parsed.equipment} has no simulated signal {parsed.signal!r}; its signals: "
                f"{', '.join(reported)}",
            )
        )
        return None
    extra = parsed.model_dump(exclude=set(SensorFaultSpec.model_fields))
    try:
        sensor_fault = SENSOR_FAULTS[parsed.fault](
            signal=parsed.signal, onset=onset, duration=parsed.duration, **extra
        )
    except SimulatorError as exc:
        problems.append(lines.at(loc, str(exc)))
        return None
    return SensorFaultInjection(parsed.equipment, sensor_fault)


def _not_in_plant(eq_id: str, plant: Plant) -> str:
    ids = sorted(plant.equipment)
    shown = ", ".join(ids[:12]) + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")
    return f"no equipment {eq_id!r} in the plant ({plant.source}); its equipment: {shown}"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.3g} h"


def _sampled_every(plant: Plant, period: float) -> Plant:
    """The plant with every signal's expected sample period set to the scenario's: the simulated
    machines send exactly that often, and a stale-data check must expect it."""
    if all(s.sample_period == period for eq in plant for s in eq.signals.values()):
        return plant
    equipment = {
        eq.id: dataclasses.replace(
            eq,
            signals={
                name: dataclasses.replace(signal, sample_period=period)
                for name, signal in eq.signals.items()
            },
        )
        for eq in plant
    }
    fields = {
        f.name: getattr(plant, f.name)
        for f in dataclasses.fields(plant)
        if f.init and not f.name.startswith("_")
    }
    fields["equipment"] = equipment
    return Plant(**fields)


def _describe(err: Any, lines: _LineFinder, prefix: Loc = ()) -> str:
    loc: Loc = prefix + tuple(
        p for p in err["loc"] if not str(p).startswith(("function-", "tuple["))
    )
    msg: str = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; it is not part of the scenario format)"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and not isinstance(err["input"], Mapping | list):
        msg = f"{msg} (got {err['input']!r})"
    return lines.at(loc, msg)


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _LineFinder:
    """Finds the line of a field in the original YAML text, so problems can point at it."""

    def __init__(self, text: str | None) -> None:
        self._root: yaml.Node | None = None
        if text is not None:
            try:
                self._root = yaml.compose(text)
            except yaml.YAMLError:
                self._root = None

    def at(self, loc: Loc, message: str) -> str:
        line = self._line(loc)
        where = f"line {line}: " if line is not None else ""
        return f"{where}{_dotted(loc)}: {message}"

    def _line(self, loc: Loc) -> int | None:
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                found = next((kv for kv in node.value if kv[0].value == str(key)), None)
                if found is None:
                    break
                line, node = found[0].start_mark.line, found[1]
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(key, int)
                and key < len(node.value)
            ):
                node = node.value[key]
                line = node.start_mark.line
            else:
                break
        return line + 1
