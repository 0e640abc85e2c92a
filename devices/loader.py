"""Load a plant file: parse YAML, validate, merge equipment types, and say exactly what is wrong."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from devices.bindings import (
    OpcUaNode,
    OpcUaServerSpec,
    PayloadFormat,
    SparkplugAddress,
    TopicFormat,
    fill,
    parse_path,
)
from devices.errors import PlantFileError
from devices.organisation import resolve_organisation
from devices.plant import DEFAULT_FORMAT, DetectorConfig, Equipment, FailureMode, Plant, Signal
from devices.schema import DetectorSpec, EquipmentSpec, EquipmentTypeSpec, PlantSpec, SignalSpec

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
    return plant_from_dict(data, source=str(path), text=text, base_dir=path.parent)


def plant_from_dict(
    data: Any, *, source: str = "<memory>", text: str | None = None, base_dir: Path | None = None
) -> Plant:
    """Validate and resolve a plant given as plain data (what `yaml.safe_load` returns).

    Relative certificate paths are taken from `base_dir` (the plant file's folder).
    """
    if not isinstance(data, Mapping):
        raise PlantFileError(source, ["the file must be a mapping with 'site' and 'areas'"])
    lines = _LineFinder(text)
    try:
        spec = PlantSpec.model_validate(data)
    except ValidationError as exc:
        raise PlantFileError(source, [_describe(err, lines) for err in exc.errors()]) from exc
    return _resolve(spec, source, lines, base_dir or Path.cwd())


@functools.cache
def builtin_types() -> Mapping[str, EquipmentTypeSpec]:
    """The equipment-type library shipped with forewarn (devices/library.yaml)."""
    text = resources.files("devices").joinpath("library.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)["types"]
    return {name: EquipmentTypeSpec.model_validate(spec) for name, spec in raw.items()}


def _resolve(spec: PlantSpec, source: str, lines: _LineFinder, base_dir: Path) -> Plant:
    types = {**builtin_types(), **spec.types}
    problems: list[str] = []
    formats: dict[str, tuple[TopicFormat, Loc]] = {}
    first_seen: dict[str, Loc] = {}
    equipment: dict[str, Equipment] = {}
    equipment_teams: dict[Loc, str] = {}
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
                equipment_teams[loc] = eq.team
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
                places = {
                    "site": spec.site.id,
                    "area": area.id,
                    "line": line.id,
                    "equipment": eq.id,
                }
                signals = _signals(spec, eq, merged, places, loc, lines, problems, formats)
                regime_signal = eq.regime_signal or eq_type.regime_signal
                if regime_signal is not None and regime_signal not in signals:
                    problems.append(
                        lines.at(
                            (*loc, "regime_signal") if eq.regime_signal else (*loc, "type"),
                            f"regime signal {regime_signal!r} is not a signal of {eq.id!r}; "
                            f"its signals: {', '.join(sorted(merged))}",
                        )
                    )
                address = _sparkplug_address(spec, eq, places)
                problems.extend(lines.at((*loc, "sparkplug"), p) for p in address.problems())
                if len(problems) > len_before:
                    continue
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
                    sparkplug=address,
                    regime_signal=regime_signal,
                    detectors=DetectorConfig.from_specs(
                        _first_set(eq.detectors, eq_type.detectors, spec.detectors)
                    ),
                )
    organisation = resolve_organisation(
        spec.organisation,
        spec.actions,
        failure_modes={
            name: frozenset(mode.code for mode in t.failure_modes) for name, t in types.items()
        },
        equipment_teams=equipment_teams,
        at=lines.at,
        problems=problems,
    )
    if problems:
        raise PlantFileError(source, problems)
    if not equipment:
        raise PlantFileError(source, ["areas: no equipment defined; add lines with 'equipment:'"])
    return Plant(
        site=spec.site.id,
        topic_template=spec.mqtt.topic,
        equipment=equipment,
        source=source,
        topic_formats={t: f for t, (f, _) in formats.items() if f != DEFAULT_FORMAT},
        opcua_servers={
            name: _with_paths(server, base_dir) for name, server in spec.opcua.servers.items()
        },
        organisation=organisation,
        sparkplug_declared=_declares_sparkplug(spec),
    )


def _declares_sparkplug(spec: PlantSpec) -> bool:
    equipment = [eq for area in spec.areas for line in area.lines for eq in line.equipment]
    return (
        "sparkplug" in spec.model_fields_set
        or any("sparkplug" in eq.model_fields_set for eq in equipment)
        or any(
            "sparkplug" in signal.model_fields_set
            for eq in equipment
            for signal in eq.signals.values()
        )
        or any(
            "sparkplug" in signal.model_fields_set
            for eq_type in spec.types.values()
            for signal in eq_type.signals.values()
        )
    )


def _signals(
    spec: PlantSpec,
    eq: EquipmentSpec,
    merged: Mapping[str, SignalSpec],
    places: dict[str, str],
    loc: Loc,
    lines: _LineFinder,
    problems: list[str],
    formats: dict[str, tuple[TopicFormat, Loc]],
) -> dict[str, Signal]:
    """The equipment's signals with their MQTT topic and field, OPC UA node and Sparkplug metric;
    what cannot be resolved is added to `problems`."""
    payload = eq.mqtt
    fmt = payload.format or spec.mqtt.format
    try:
        eq_topic = (payload.topic or spec.mqtt.topic).format(**places)
    except (KeyError, IndexError, ValueError) as exc:
        problems.append(
            lines.at(
                (*loc, "mqtt", "topic"),
                f"bad topic template ({exc}); use {{site}}, {{area}}, {{line}}, {{equipment}}",
            )
        )
        return {}
    topic_format = TopicFormat(
        fmt,
        parse_path(payload.timestamp_field or spec.mqtt.timestamp_field),
        payload.timestamp_unit or spec.mqtt.timestamp_unit,
    )
    signals: dict[str, Signal] = {}
    for name, s in merged.items():
        where: Loc = (*loc, "signals", name)
        if fmt is PayloadFormat.VALUE:
            topic = s.mqtt.topic or spec.mqtt.signal_topic.format(**places, signal=name)
            field = s.mqtt.field or "value"
        else:
            topic = s.mqtt.topic or eq_topic
            field = s.mqtt.field or name
        if fmt is PayloadFormat.PATHS:
            try:
                parse_path(field)
            except ValueError as exc:
                problems.append(lines.at((*where, "mqtt", "field"), str(exc)))
                continue
        seen = formats.setdefault(topic, (topic_format, loc))
        if seen[0] != topic_format:
            problems.append(
                lines.at(
                    (*loc, "mqtt"),
                    f"topic {topic!r} is also read by {_dotted(seen[1])} with another payload "
                    "format; signals sharing a topic must share its format",
                )
            )
            continue
        signals[name] = Signal(
            name=name,
            unit=s.unit,
            sample_period=s.sample_period,
            limits=s.limits,
            topic=topic,
            field=field,
            description=s.description,
            opcua=_opcua_node(spec, eq, name, s, places, where, lines, problems),
            metric=s.sparkplug.metric or "",
            physical_range=(s.range.min, s.range.max) if s.range else (None, None),
            detectors=DetectorConfig.from_specs(s.detectors),
        )
    return signals


def _opcua_node(
    spec: PlantSpec,
    eq: EquipmentSpec,
    name: str,
    signal: SignalSpec,
    places: dict[str, str],
    where: Loc,
    lines: _LineFinder,
    problems: list[str],
) -> OpcUaNode | None:
    binding, on_equipment = signal.opcua, eq.opcua
    server_name = (binding.server if binding else None) or (
        on_equipment.server if on_equipment else None
    )
    if server_name is None:
        if binding is not None:
            problems.append(
                lines.at((*where, "opcua"), "name the OPC UA 'server' (or give the equipment one)")
            )
        return None
    server = spec.opcua.servers.get(server_name)
    if server is None:
        known = ", ".join(sorted(spec.opcua.servers)) or "none defined under opcua.servers"
        problems.append(
            lines.at(
                (*where, "opcua") if binding and binding.server else (*where[:-2], "opcua"),
                f"unknown OPC UA server {server_name!r}; servers: {known}",
            )
        )
        return None
    node = browse = None
    for level in (binding, on_equipment, server):
        if level is not None and (level.node or level.browse_path):
            node, browse = level.node, level.browse_path
            break
    if node is None and browse is None:
        problems.append(
            lines.at(
                (*where, "opcua"),
                f"signal {name!r} has no OPC UA 'node' or 'browse_path' (give one here, on the "
                f"equipment, or a template on server {server_name!r})",
            )
        )
        return None
    values = {**places, "signal": name}
    return OpcUaNode(
        server=server_name,
        node_id=fill(node, **values) if node else None,
        browse_path=fill(browse, **values) if browse else None,
        sampling_interval=_first(
            binding.sampling_interval if binding else None,
            server.sampling_interval,
            signal.sample_period,
        ),
        queue_size=(binding.queue_size if binding else None) or server.queue_size,
        deadband=(binding.deadband if binding else None) or server.deadband,
    )


def _first_set(*values: list[DetectorSpec] | None) -> list[DetectorSpec] | None:
    return next((v for v in values if v is not None), None)


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)


def _sparkplug_address(
    spec: PlantSpec, eq: EquipmentSpec, places: dict[str, str]
) -> SparkplugAddress:
    own = eq.sparkplug
    device = own.device if own.device is not None else fill(spec.sparkplug.device, **places)
    return SparkplugAddress(
        group=own.group or fill(spec.sparkplug.group, **places),
        edge_node=own.edge_node or fill(spec.sparkplug.edge_node, **places),
        device=device or None,
    )


def _with_paths(server: OpcUaServerSpec, base_dir: Path) -> OpcUaServerSpec:
    files = ("certificate", "private_key", "server_certificate")
    update = {
        name: str(base_dir / value)
        for name in files
        if (value := getattr(server, name)) is not None and not Path(value).is_absolute()
    }
    return server.model_copy(update=update)


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
