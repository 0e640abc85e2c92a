"""What `forewarn discover` found, and the plant file it writes: equipment in an ISA-95
hierarchy, their signals with units, ranges and sample periods, and where each signal is read.

Pure: the shells (forewarn/commands/discover.py) browse an OPC UA server or listen to a broker
and hand the records here. An equipment type guessed from signal names is offered as a comment,
never applied: the person who knows the machine decides.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from devices.loader import builtin_types

UNCLASSIFIED = "unclassified"
"""The type every discovered equipment gets until a person picks a library type."""

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_.\-]+")
_NICE_PERIODS = (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def identifier(text: str, fallback: str = "x") -> str:
    """`text` made a plant-file identifier (letters, digits, '.', '_', '-', starting with one of
    the first two): `Pump 101/Flow` -> `Pump_101_Flow`."""
    cleaned = _NOT_IDENTIFIER.sub("_", text.strip()).strip("_.-")
    if not cleaned:
        return fallback
    return cleaned if cleaned[0].isalnum() else f"{fallback}{cleaned}"


def signal_name(text: str) -> str:
    """A signal name as the library spells them: `Bearing Temp` -> `bearing_temp`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text.strip())
    return identifier(snake.replace("-", "_").replace(".", "_").lower(), "signal_")


def sample_period(timestamps: Sequence[float]) -> float | None:
    """The typical spacing of `timestamps` (seconds), rounded to a period people configure."""
    ordered = sorted(timestamps)
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b > a]
    if not gaps:
        return None
    typical = statistics.median(gaps)
    return min(_NICE_PERIODS, key=lambda p: abs(math.log(p / typical)))


@dataclass(frozen=True, slots=True)
class FoundSignal:
    name: str
    unit: str = ""
    description: str = ""
    sample_period: float | None = None
    range: tuple[float | None, float | None] | None = None
    """What the instrument can report (OPC UA EURange)."""
    limits: Mapping[str, float] = field(default_factory=dict)
    binding: Mapping[str, Any] = field(default_factory=dict)
    """The signal's source keys as the plant file writes them: {"opcua": {...}}, {"mqtt": ...}."""


@dataclass(frozen=True, slots=True)
class FoundEquipment:
    id: str
    area: str
    line: str
    signals: tuple[FoundSignal, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Equipment-level source keys: {"opcua": {"server": ...}}, {"sparkplug": {...}}, ..."""
    origin: str = ""
    """Where it was found (a browse path, a topic), written as a comment."""


@dataclass(frozen=True, slots=True)
class Discovery:
    site: str
    equipment: tuple[FoundEquipment, ...]
    sources: Mapping[str, Any] = field(default_factory=dict)
    """Top-level source sections: {"opcua": {"servers": ...}}, {"mqtt": {...}}."""
    notes: tuple[str, ...] = ()
    """What the person should know or check, written at the top of the file."""


def guess_type(signals: Iterable[str]) -> tuple[str, list[str]] | None:
    """The library type whose signals best match these names, with the matching names; None when
    fewer than two of them match."""
    names = set(signals)
    best: tuple[int, str, list[str]] | None = None
    for type_name, spec in builtin_types().items():
        matched = sorted(names & set(spec.signals))
        if len(matched) >= 2 and (best is None or len(matched) > best[0]):
            best = (len(matched), type_name, matched)
    return (best[1], best[2]) if best else None


def plant_file(discovery: Discovery, *, team: str = "maintenance", command: str = "") -> str:
    """The plant file (YAML, with comments) a person then edits; loads as it is."""
    out = [
        "# yaml-language-server: $schema=plant.schema.json",
        f"# Written by `{command or 'forewarn discover'}`. Check it, then `forewarn plant check`.",
        f"# Every equipment has type {UNCLASSIFIED!r} (no failure modes, no limits): give each",
        "# a library type (centrifugal_pump, induction_motor, fan, compressor, gearbox, conveyor)",
        "# or one of your own under `types:`, a team, and limits where you know them.",
    ]
    for note in discovery.notes:
        out += textwrap.wrap(note, 96, initial_indent="# NOTE: ", subsequent_indent="#   ")
    out.append(_dump({"site": {"id": identifier(discovery.site, "site")}}))
    for key, value in discovery.sources.items():
        out.append(_dump({key: value}, flow_below=2))
    out.append(
        _dump(
            {
                "types": {
                    UNCLASSIFIED: {
                        "description": "found by forewarn discover; replace with a library type"
                    }
                }
            }
        )
    )
    out.append("areas:")
    by_area: dict[str, dict[str, list[FoundEquipment]]] = {}
    for eq in discovery.equipment:
        by_area.setdefault(eq.area, {}).setdefault(eq.line, []).append(eq)
    for area, lines in by_area.items():
        out.append(f"  - id: {_flow(identifier(area, 'area'))}")
        out.append("    lines:")
        for line, equipment in lines.items():
            out.append(f"      - id: {_flow(identifier(line, 'line'))}")
            out.append("        equipment:")
            for eq in equipment:
                out += _equipment(eq, team)
    return "\n".join(out) + "\n"


def _equipment(eq: FoundEquipment, team: str) -> list[str]:
    pad = " " * 12
    lines = [f"          - id: {_flow(identifier(eq.id, 'eq'))}"]
    if eq.origin:
        lines[0] += f"  # {eq.origin}"
    guess = guess_type(s.name for s in eq.signals)
    type_line = f"{pad}type: {UNCLASSIFIED}"
    if guess is not None:
        type_line += f"  # type guess: {guess[0]} (matching: {', '.join(guess[1])})"
    lines += [type_line, f"{pad}team: {_flow(team)}"]
    for key, value in eq.settings.items():
        lines.append(f"{pad}{key}: {_flow(value)}")
    lines.append(f"{pad}signals:")
    for signal in eq.signals:
        lines.append(f"{pad}  {_flow(identifier(signal.name))}: {_flow(_signal(signal))}")
    return lines


def _signal(signal: FoundSignal) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if signal.unit:
        spec["unit"] = signal.unit
    if signal.description:
        spec["description"] = signal.description
    if signal.sample_period is not None:
        spec["sample_period"] = signal.sample_period
    if signal.range is not None and any(v is not None for v in signal.range):
        low, high = signal.range
        spec["range"] = {
            k: float(f"{v:.6g}")
            for k, v in (("min", low), ("max", high))
            if v is not None and math.isfinite(v)
        }
    if signal.limits:
        spec["limits"] = dict(signal.limits)
    spec.update(signal.binding)
    return spec


def _dump(data: Mapping[str, Any], flow_below: int = 3) -> str:
    """Block style for the first `flow_below` levels, flow style (one line) beneath."""

    def render(value: Any, depth: int, indent: int) -> list[str]:
        if not isinstance(value, Mapping) or depth >= flow_below or not value:
            return [_flow(value)]
        lines = []
        for key, item in value.items():
            inner = render(item, depth + 1, indent + 2)
            if isinstance(item, Mapping) and item and depth + 1 < flow_below:
                lines.append(" " * indent + f"{_flow(key)}:")
                lines += inner
            else:
                lines.append(" " * indent + f"{_flow(key)}: {inner[0]}")
        return lines

    return "\n".join(render(data, 0, 0))


def _flow(value: Any) -> str:
    text: str = yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, width=math.inf, allow_unicode=True
    )
    return text.strip().removesuffix("...").strip()


# ---- OPC UA ----


@dataclass(frozen=True, slots=True)
class BrowsedVariable:
    """A numeric variable found on an OPC UA server."""

    path: tuple[str, ...]
    """Browse names from below the Objects folder down to the variable."""
    node_id: str
    """As OPC UA writes it: ns=2;s=P-1.vibration."""
    namespace_index: int
    unit: str = ""
    """EngineeringUnits' display name."""
    eu_range: tuple[float, float] | None = None
    limits: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    minimum_sampling_interval: float | None = None
    """Seconds; None or 0: the server does not say."""


def from_opcua(
    variables: Sequence[BrowsedVariable],
    *,
    server: str,
    connection: Mapping[str, Any],
    namespaces: Sequence[str],
) -> Discovery:
    """Folders above each variable's object become site / area / line (the three nearest), the
    object the equipment, the variable a signal read by node id."""
    if not variables:
        return Discovery(site=server, equipment=(), notes=("no numeric variables found",))
    counts: dict[int, int] = {}
    for v in variables:
        counts[v.namespace_index] = counts.get(v.namespace_index, 0) + 1
    ns = max(counts, key=lambda index: counts[index])
    prefix = f"ns={ns};"
    uri = namespaces[ns] if ns < len(namespaces) else None
    notes: list[str] = []
    sites: dict[str, int] = {}
    grouped: dict[tuple[str, str, str], list[tuple[BrowsedVariable, str, str]]] = {}
    for v in variables:
        levels = v.path[:-2]
        site = levels[-3] if len(levels) >= 3 else server
        area = levels[-2] if len(levels) >= 2 else server
        line = levels[-1] if levels else "line-1"
        equipment_name = v.path[-2] if len(v.path) >= 2 else server
        sites[site] = sites.get(site, 0) + 1
        node = (
            "ns={ns};" + v.node_id.removeprefix(prefix)
            if v.node_id.startswith(prefix)
            else v.node_id
        )
        grouped.setdefault((area, line, equipment_name), []).append(
            (v, node, signal_name(v.path[-1]))
        )
    site = max(sites, key=lambda s: sites[s])
    if len(sites) > 1:
        notes.append(f"folders of several sites ({', '.join(sites)}); the plant file has one")
    named = _unique_names(grouped)
    template = _node_template(named)
    equipment: list[FoundEquipment] = []
    for (area, line, _), (eq_id, found) in zip(grouped, named, strict=True):
        signals = [
            FoundSignal(
                name=sig,
                unit=v.unit,
                description=v.description if v.description != v.path[-1] else "",
                sample_period=v.minimum_sampling_interval or None,
                range=v.eu_range,
                limits=v.limits,
                binding={} if template else {"opcua": {"node": node}},
            )
            for v, node, sig in found
        ]
        equipment.append(
            FoundEquipment(
                id=eq_id,
                area=area,
                line=line,
                signals=tuple(signals),
                settings={"opcua": {"server": server}},
                origin="/".join(found[0][0].path[:-1]),
            )
        )
    if not any(v.minimum_sampling_interval for v in variables):
        notes.append(
            "the server gives no MinimumSamplingInterval: sample periods are the 1 s default; "
            "set each signal's sample_period to how often its value really changes"
        )
    spec: dict[str, Any] = dict(connection)
    if uri is not None:
        spec["namespace"] = uri
    if template:
        spec["node"] = template
    return Discovery(
        site=site,
        equipment=tuple(equipment),
        sources={"opcua": {"servers": {server: spec}}},
        notes=tuple(notes),
    )


_Named = list[tuple[str, list[tuple[BrowsedVariable, str, str]]]]
"""Per equipment: its id, and its (variable, node id, signal name)."""


def _unique_names(
    grouped: Mapping[tuple[str, str, str], list[tuple[BrowsedVariable, str, str]]],
) -> _Named:
    """Equipment ids unique in the plant (an object name repeated on several lines, such as
    `Motor`, gets its line's name in front) and signal names unique in each equipment."""
    used: set[str] = set()
    named: _Named = []
    for (_, line, name), found in grouped.items():
        eq_id = identifier(name, "eq")
        if eq_id in used:
            eq_id = identifier(f"{line}-{name}", "eq")
        while eq_id in used:
            eq_id += "-2"
        used.add(eq_id)
        seen: set[str] = set()
        signals = []
        for v, node, sig in found:
            unique = sig
            while unique in seen:
                unique += "_2"
            seen.add(unique)
            signals.append((v, node, unique))
        named.append((eq_id, signals))
    return named


def _node_template(named: _Named) -> str | None:
    """One node id template for every variable (`ns={ns};s={equipment}.{signal}`), if one fits."""
    eq0, [(_, node0, sig0), *_] = named[0]
    if eq0 not in node0 or sig0 not in node0:
        return None
    head, _, tail = node0.rpartition(sig0)
    template = head.replace(eq0, "{equipment}") + "{signal}" + tail
    for eq_id, found in named:
        for _, node, sig in found:
            if template.replace("{equipment}", eq_id).replace("{signal}", sig) != node:
                return None
    return template
