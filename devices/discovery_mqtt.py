"""What messages heard on a broker say about the plant: UNS JSON topics
(`{site}/{area}/{line}/{equipment}/...`, in the `values`, `value` or `paths` shape) and
Sparkplug B births (group, edge node, device, metric names). Pure: `forewarn discover mqtt`
listens and hands the messages here."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from devices.discovery import (
    Discovery,
    FoundEquipment,
    FoundSignal,
    identifier,
    sample_period,
    signal_name,
)
from devices.errors import SparkplugError
from devices.sparkplug import DataType, MessageType, Topic, decode_payload
from devices.sparkplug.topics import NAMESPACE

Message = tuple[str, bytes, float]
"""(topic, payload, receive time in epoch seconds)."""

_TIMESTAMP_KEYS = ("ts", "timestamp", "time")
_CONTROL_PREFIXES = ("Node Control/", "Device Control/", "Properties/", "bdSeq")
_DEFAULT_SUFFIX = "telemetry"


@dataclass
class _Stream:
    """One equipment as heard: its place, topic(s), shape, and each signal's times."""

    site: str
    area: str
    line: str
    equipment: str
    topic: str = ""
    format: str = "values"
    suffix: str | None = None
    signals: dict[str, list[float]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    """Signal -> payload field (paths) or topic (value) where not the default."""
    timestamp_field: str | None = None
    sparkplug: tuple[str, str, str] | None = None
    metrics: dict[str, str] = field(default_factory=dict)
    """Signal -> Sparkplug metric name where they differ."""


def from_mqtt(messages: Sequence[Message]) -> Discovery:
    """Equipment, signals, sample periods and payload formats from what the broker carried."""
    streams: dict[tuple[str, ...], _Stream] = {}
    notes: list[str] = []
    skipped: Counter[str] = Counter()
    aliases: dict[tuple[str, str, str], dict[int, str]] = {}
    sparkplug_data_only: set[str] = set()
    for topic, payload, received in messages:
        if topic.startswith(f"{NAMESPACE}/"):
            _sparkplug(topic, payload, received, streams, aliases, sparkplug_data_only)
        elif not _json(topic, payload, received, streams):
            skipped[topic.split("/")[0]] += 1
    if skipped:
        notes.append(
            "left out messages that are neither JSON telemetry nor Sparkplug B, by first topic "
            f"level: {', '.join(f'{k} ({n})' for k, n in skipped.most_common(5))}"
        )
    if sparkplug_data_only:
        notes.append(
            "heard Sparkplug data but no birth from "
            f"{', '.join(sorted(sparkplug_data_only))}: births name the metrics; listen again "
            "while the edge node (re)starts"
        )
    if any(s.sparkplug for s in streams.values()):
        notes.append(
            "Sparkplug B is read only with a host id: set sparkplug.host_id in the settings "
            "(or FOREWARN_SPARKPLUG__HOST_ID)"
        )
    sites = Counter(s.site for s in streams.values())
    site = sites.most_common(1)[0][0] if sites else "site"
    if len(sites) > 1:
        notes.append(
            f"several sites ({', '.join(sites)}); {site} is the plant's site, the others' "
            "equipment keep their own topics"
        )
    suffixes = Counter(s.suffix for s in streams.values() if s.suffix is not None)
    suffix = suffixes.most_common(1)[0][0] if suffixes else _DEFAULT_SUFFIX
    template = f"{{site}}/{{area}}/{{line}}/{{equipment}}{'/' + suffix if suffix else ''}"
    equipment = list(_equipment(streams.values(), site, template))
    sources: dict[str, Any] = {}
    if suffix != _DEFAULT_SUFFIX:
        sources["mqtt"] = {"topic": template}
    if not equipment:
        notes.append("heard no telemetry: is anything publishing, and are the topics right?")
    return Discovery(site=site, equipment=tuple(equipment), sources=sources, notes=tuple(notes))


def _equipment(streams: Iterable[_Stream], site: str, template: str) -> Iterator[FoundEquipment]:
    used: set[str] = set()
    for s in streams:
        eq_id = identifier(s.equipment, "eq")
        while eq_id in used:
            eq_id += "-2"
        used.add(eq_id)
        settings: dict[str, Any] = {}
        default_topic = template.format(site=site, area=s.area, line=s.line, equipment=eq_id)
        if s.sparkplug is not None:
            group, edge, device = s.sparkplug
            settings["sparkplug"] = {"group": group, "edge_node": edge, "device": device}
            origin = f"Sparkplug {group}/{edge}" + (f"/{device}" if device else "")
        else:
            origin = s.topic
            mqtt: dict[str, Any] = {}
            if s.format != "values":
                mqtt["format"] = s.format
            if s.format != "value" and s.topic != default_topic:
                mqtt["topic"] = s.topic
            if s.timestamp_field not in (None, "ts"):
                mqtt["timestamp_field"] = s.timestamp_field
            if mqtt:
                settings["mqtt"] = mqtt
        signals = []
        for name, times in s.signals.items():
            binding: dict[str, Any] = {}
            if name in s.metrics:
                binding["sparkplug"] = {"metric": s.metrics[name]}
            if s.format == "value":
                own = f"{site}/{s.area}/{s.line}/{eq_id}/{name}"
                if s.fields[name] != own:
                    binding["mqtt"] = {"topic": s.fields[name]}
            elif name in s.fields:
                binding["mqtt"] = {"field": s.fields[name]}
            signals.append(
                FoundSignal(name=name, sample_period=sample_period(times), binding=binding)
            )
        yield FoundEquipment(
            id=eq_id,
            area=s.area,
            line=s.line,
            signals=tuple(signals),
            settings=settings,
            origin=origin,
        )


def _json(
    topic: str, payload: bytes, received: float, streams: dict[tuple[str, ...], _Stream]
) -> bool:
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        return False
    levels = topic.split("/")
    items = document if isinstance(document, list) else [document]
    if _number(document) is not None or (
        isinstance(document, dict)
        and _number(document.get("value")) is not None
        and not isinstance(document.get("values"), dict)
    ):
        if len(levels) < 2:
            return False
        place = _place(levels[:-1])
        stream = streams.setdefault(("value", *place), _Stream(*place, topic=topic, format="value"))
        name = signal_name(levels[-1])
        stream.fields[name] = topic
        ts = _timestamp(document) if isinstance(document, dict) else None
        stream.signals.setdefault(name, []).append(ts or received)
        return True
    if all(isinstance(i, dict) and isinstance(i.get("values"), dict) for i in items) and items:
        fmt = "values"
    elif all(isinstance(i, dict) for i in items) and items:
        fmt = "paths"
    else:
        return False
    if len(levels) >= 5:
        place, suffix = _place(levels[:4]), "/".join(levels[4:])
    elif len(levels) == 4:
        place, suffix = _place(levels), ""
    else:
        place, suffix = _place(levels), None
    stream = streams.setdefault((topic,), _Stream(*place, topic=topic, format=fmt, suffix=suffix))
    for item in items:
        ts = _timestamp(item)
        if fmt == "values":
            for key, value in item["values"].items():
                if _number(value) is not None:
                    name = signal_name(key)
                    if name != key:
                        stream.fields[name] = key
                    stream.signals.setdefault(name, []).append(ts or received)
        else:
            for path, value in _leaves(item):
                if path in _TIMESTAMP_KEYS:
                    stream.timestamp_field = path
                    continue
                if _number(value) is not None:
                    name = signal_name(path.replace("[", "_").replace("]", ""))
                    stream.fields[name] = path
                    stream.signals.setdefault(name, []).append(ts or received)
    return True


def _place(levels: Sequence[str]) -> tuple[str, str, str, str]:
    """(site, area, line, equipment) from the topic levels that name them, nearest last."""
    padded = ["site", "area", "line-1", *levels][-4:]
    return padded[0], padded[1], padded[2], padded[3]


def _sparkplug(
    topic: str,
    payload: bytes,
    received: float,
    streams: dict[tuple[str, ...], _Stream],
    aliases: dict[tuple[str, str, str], dict[int, str]],
    data_only: set[str],
) -> None:
    try:
        parsed = Topic.parse(topic)
        message = decode_payload(payload)
    except SparkplugError:
        return
    address = (parsed.group, parsed.edge_node, parsed.device or "")
    key = ("spB", *address)
    birth = parsed.message_type in (MessageType.NBIRTH, MessageType.DBIRTH)
    data = parsed.message_type in (MessageType.NDATA, MessageType.DDATA)
    if not (birth or data):
        return
    if data and address not in aliases:
        data_only.add("/".join(a for a in address if a))
        return
    names = aliases.setdefault(address, {})
    stamp = message.timestamp / 1000 if message.timestamp else received
    for metric in message.metrics:
        if birth and metric.name is not None and metric.alias is not None:
            names[metric.alias] = metric.name
        name = metric.name or (names.get(metric.alias) if metric.alias is not None else None)
        if name is None or name.startswith(_CONTROL_PREFIXES):
            continue
        datatype = metric.datatype
        if (
            not (isinstance(datatype, int) and DataType(datatype).is_numeric)
            or datatype == DataType.BOOLEAN
        ):
            continue
        stream = streams.get(key)
        if stream is None:
            equipment = parsed.device or parsed.edge_node
            stream = streams[key] = _Stream(
                parsed.group, parsed.group, parsed.edge_node, equipment, sparkplug=address
            )
        signal = signal_name(name)
        if signal != name:
            stream.metrics[signal] = name
        times = stream.signals.setdefault(signal, [])
        times.append(metric.timestamp / 1000 if metric.timestamp else stamp)


def _timestamp(item: dict[str, Any]) -> float | None:
    for key in _TIMESTAMP_KEYS:
        value = item.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value) / 1000 if value > 1e11 else float(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value
