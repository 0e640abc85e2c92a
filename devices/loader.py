"""Load a plant file: parse YAML, validate, merge equipment types, and say exactly what is wrong."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from devices.errors import PlantFileError
from devices.plant import Equipment, FailureMode, Plant, Signal
from devices.schema import EquipmentTypeSpec, PlantSpec

Loc = tuple[str | int, ...]


def load_plant(path: str | Path) -> Plant:
    """Read and resolve a plant file; raise `PlantFileError` naming the field and what to fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlantFileError(str(path), [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise PlantFileError(str(path), [f"{where}not valid YAML: {exc}"]) from exc
    return plant_from_dict(data, source=str(path), text=text)


def plant_from_dict(data: Any, *, source: str = "<memory>", text: str | None = None) -> Plant:
    """Validate and resolve a plant given as plain data (what `yaml.safe_load` returns)."""
    if not isinstance(data, Mapping):
        raise PlantFileError(source, ["the file must be a mapping with 'site' and 'areas'"])
    lines = _LineFinder(text)
    try:
        spec = PlantSpec.model_validate(data)
    except ValidationError as exc:
        raise PlantFileError(source, [_describe(err, lines) for err in exc.errors()]) from exc
    return _resolve(spec, source, lines)


@functools.cache
def builtin_types() -> Mapping[str, EquipmentTypeSpec]:
    """The equipment-type library shipped with forewarn (devices/library.yaml)."""
    text = resources.files("devices").joinpath("library.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["types"]
    return {name: EquipmentTypeSpec.model_validate(spec) for name, spec in raw.items()}


def _resolve(spec: PlantSpec, source: str, lines: _LineFinder) -> Plant:
    types = {**builtin_types(), **spec.types}
    problems: list[str] = []
    first_seen: dict[str, Loc] = {}
    equipment: dict[str, Equipment] = {}
    for a, area in enumerate(spec.areas):
        for li, line in enumerate(area.lines):
            for e, eq in enumerate(line.equipment):
                loc: Loc = ("areas", a, "lines", li, "equipment", e)
                if eq.id in first_seen:
                    problems.append(
                        lines.at(
                            (*loc, "id"),
                            f"equipment id {eq.id!r} is already used at "
                            f"{_dotted(first_seen[eq.id])}; ids must be unique in the plant",
                        )
                    )
                    continue
                first_seen[eq.id] = loc
                len_before = len(problems)
                eq_type = types.get(eq.type)
                if eq_type is None:
                    known = ", ".join(sorted(types))
                    problems.append(
                        lines.at(
                            (*loc, "type"),
                            f"unknown equipment type {eq.type!r}; "
                            f"known types: {known} (or define it under 'types:')",
                        )
                    )
                    continue
                merged = dict(eq_type.signals)
                for name, override in eq.signals.items():
                    try:
                        merged[name] = merged[name].merged(override) if name in merged else override
                    except ValidationError as exc:
                        where = (*loc, "signals", name, "limits")
                        problems.extend(_describe(err, lines, prefix=where) for err in exc.errors())
                if len(problems) > len_before:
                    continue
                if not merged:
                    problems.append(
                        lines.at(
                            loc,
                            f"equipment {eq.id!r} has no signals: give it "
                            "'signals:' or a type that has some",
                        )
                    )
                    continue
                topic = spec.mqtt.topic.format(
                    site=spec.site.id, area=area.id, line=line.id, equipment=eq.id
                )
                signals = {
                    name: Signal(
                        name=name,
                        unit=s.unit,
                        sample_period=s.sample_period,
                        limits=s.limits,
                        topic=s.mqtt.topic or topic,
                        field=s.mqtt.field or name,
                        description=s.description,
                    )
                    for name, s in merged.items()
                }
                equipment[eq.id] = Equipment(
                    id=eq.id,
                    name=eq.name or eq.id,
                    type=eq.type,
                    criticality=eq.criticality,
                    team=eq.team,
                    site=spec.site.id,
                    area=area.id,
                    line=line.id,
                    signals=signals,
                    failure_modes=tuple(FailureMode.from_spec(m) for m in eq_type.failure_modes),
                )
    if problems:
        raise PlantFileError(source, problems)
    if not equipment:
        raise PlantFileError(source, ["areas: no equipment defined; add lines with 'equipment:'"])
    return Plant(
        site=spec.site.id, topic_template=spec.mqtt.topic, equipment=equipment, source=source
    )


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(err: Any, lines: _LineFinder, prefix: Loc = ()) -> str:
    loc: Loc = prefix + tuple(p for p in err["loc"] if not str(p).startswith("function-"))
    msg: str = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; it is not part of the plant file format)"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and not isinstance(err["input"], Mapping | list):
        msg = f"{msg} (got {err['input']!r})"
    return lines.at(loc, msg)


class _LineFinder:
    """Finds the line of a field in the original YAML text, so errors can point at it."""

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
