"""JSON telemetry payloads -> `Reading`s, with every bad part counted, never raised.

The plant file says how each topic's payloads are shaped (`devices.PayloadFormat`):
    values: {"ts": 1732500000123, "values": {"vibration": 2.1, "flow": 96.4}}, or a list of those
    value:  one signal per topic: 2.1, or {"ts": "2026-11-25T09:00:00Z", "value": 2.1}
    paths:  any document; each signal's field path (data.pump[0].vib) and the timestamp's path
`ts` is epoch milliseconds, epoch seconds, or ISO 8601 (or the unit the plant file names); without
it, the receive time is used.

The `values` and `value` shapes are parsed by msgspec and turned into readings in one pass. Whatever
that fast path cannot vouch to read exactly as `json.loads` does (NaN and Infinity, which msgspec
refuses; UTF-16, a BOM, lone surrogates; integers beyond 64 bits; deep nesting, whose limit differs
between the two parsers) is decoded again by the reference path (`decode_reference`), so readings
and rejects (reasons and details) are the same either way.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from devices import (
    QUALITIES,
    ColumnSink,
    FieldPath,
    PayloadFormat,
    Plant,
    Quality,
    Reading,
    Route,
    TimestampUnit,
    TopicFormat,
)
from ingest.rejects import Reject, RejectReason

_SHAPES = {
    PayloadFormat.VALUES: 'expected {"ts": ..., "values": {...}} or a list of them',
    PayloadFormat.VALUE: 'expected a number, {"ts": ..., "value": number} or a list of them',
    PayloadFormat.PATHS: "expected a JSON object or a list of them",
}
_MS_THRESHOLD = 1e11
"""Epoch numbers above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973)."""
_MISSING = object()
_INT_LIMIT = 1 << 64
"""The fast path hands integers at or beyond this (in magnitude) to the reference path: `float()`
may overflow on them, and `json.loads` refuses those of more than 4300 digits."""
_PLAIN_DEPTH = 32
"""Nesting the fast path accepts: far below both parsers' recursion limits (which differ)."""
_parse = msgspec.json.Decoder().decode


class JsonDecoder:
    """Decodes one MQTT message into readings; rejected parts go to `on_reject`."""

    def __init__(self, plant: Plant, on_reject: Callable[[Reject], None]) -> None:
        self._plant = plant
        self._on_reject = on_reject

    def decode(self, topic: str, payload: bytes, received_at: float) -> list[Reading]:
        sink = ColumnSink(self._plant.streams)
        self._decode(sink, topic, payload, received_at, fast=True)
        return sink.readings()

    def decode_into(self, sink: ColumnSink, topic: str, payload: bytes, received_at: float) -> None:
        """`decode`, appending the readings to `sink` (numbered by the plant's `streams`)
        instead of building them: what a source does."""
        self._decode(sink, topic, payload, received_at, fast=True)

    def decode_reference(self, topic: str, payload: bytes, received_at: float) -> list[Reading]:
        """What `decode` returns and rejects, by `json.loads` and one check at a time: the path
        for what the fast path declines, and the yardstick of its tests and benchmark."""
        sink = ColumnSink(self._plant.streams)
        self._decode(sink, topic, payload, received_at, fast=False)
        return sink.readings()

    def _decode(
        self, sink: ColumnSink, topic: str, payload: bytes, received_at: float, *, fast: bool
    ) -> None:
        routes = self._plant.routes(topic)
        if routes is None:
            self._unknown(topic, payload, received_at)
            return
        fmt = self._plant.topic_format(topic)
        if fast and fmt.format is not PayloadFormat.PATHS:
            rejects = _fast(payload, received_at, routes, fmt, sink)
            if rejects is not None:
                for reason, detail in rejects:
                    self._on_reject(Reject(reason, topic, detail, payload, received_at))
                return
        streams = {(route.equipment_id, route.signal): route.stream for route in routes.values()}
        for reading in self._reference(topic, payload, received_at, routes, fmt):
            sink.append(streams[reading.equipment_id, reading.signal], reading.ts, reading.value)

    def _unknown(self, topic: str, payload: bytes, received_at: float) -> None:
        self._on_reject(
            Reject(
                RejectReason.UNKNOWN_EQUIPMENT,
                topic,
                "no equipment is bound to this topic",
                payload,
                received_at,
            )
        )

    def _reference(
        self,
        topic: str,
        payload: bytes,
        received_at: float,
        routes: Mapping[str, Route],
        fmt: TopicFormat,
    ) -> list[Reading]:
        def reject(reason: RejectReason, detail: str) -> None:
            self._on_reject(Reject(reason, topic, detail, payload, received_at))

        try:
            document = json.loads(payload)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            reject(RejectReason.PARSE_ERROR, f"not JSON: {exc}")
            return []
        if document == []:
            reject(RejectReason.PARSE_ERROR, "an empty list")
            return []
        readings: list[Reading] = []
        for entry in document if isinstance(document, list) else [document]:
            if fmt.format is PayloadFormat.VALUE and _is_number(entry):
                values: Mapping[str, Any] = {route_field: entry for route_field in routes}
                ts = received_at
            elif not isinstance(entry, dict) or (
                fmt.format is PayloadFormat.VALUES and not isinstance(entry.get("values"), dict)
            ):
                reject(RejectReason.PARSE_ERROR, _SHAPES[fmt.format])
                continue
            else:
                raw_ts = _lookup(entry, fmt.timestamp_path)
                parsed = _timestamp(raw_ts, received_at, fmt.timestamp_unit)
                if parsed is None:
                    reject(RejectReason.BAD_TIMESTAMP, _bad_timestamp(fmt, raw_ts))
                    continue
                ts = parsed
                if fmt.format is PayloadFormat.VALUES:
                    values = entry["values"]
                elif fmt.format is PayloadFormat.VALUE:
                    values = {f: entry[f] for f in routes if f in entry}
                    if not values:
                        reject(RejectReason.PARSE_ERROR, _SHAPES[fmt.format])
                        continue
                else:
                    self._by_path(entry, self._plant.field_paths(topic), ts, readings, reject)
                    continue
            for name, value in values.items():
                route = routes.get(name)
                if route is None:
                    reject(RejectReason.UNKNOWN_SIGNAL, f"{name!r} is not bound to this topic")
                else:
                    _append(readings, route, name, value, ts, reject)
        return readings

    @staticmethod
    def _by_path(
        entry: Any,
        paths: tuple[tuple[FieldPath, Route], ...],
        ts: float,
        readings: list[Reading],
        reject: Callable[[RejectReason, str], None],
    ) -> None:
        found = False
        for path, route in paths:
            value = _lookup(entry, path)
            if value is _MISSING:
                continue
            found = True
            _append(readings, route, _dotted(path), value, ts, reject)
        if not found:
            reject(RejectReason.PARSE_ERROR, "none of the signals' field paths is in the payload")


_UNIT_WORDS = {
    TimestampUnit.AUTO: "epoch ms/s or ISO 8601",
    TimestampUnit.MS: "epoch milliseconds",
    TimestampUnit.S: "epoch seconds",
    TimestampUnit.ISO: "ISO 8601",
}


def _append(
    readings: list[Reading],
    route: Route,
    name: str,
    value: Any,
    ts: float,
    reject: Callable[[RejectReason, str], None],
) -> None:
    if not _is_number(value):
        reject(RejectReason.WRONG_TYPE, _wrong_type(name, value))
        return
    try:
        number = float(value)
    except OverflowError:
        reject(
            RejectReason.NUMBER_OUT_OF_RANGE,
            f"{name}: an integer of {len(str(value))} digits is beyond a float's range",
        )
        return
    if not math.isfinite(number):
        reject(RejectReason.NOT_FINITE, f"{name}={number!r}")
    else:
        readings.append(Reading(route.equipment_id, route.signal, ts, number))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _lookup(document: Any, path: FieldPath) -> Any:
    node = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return _MISSING
        elif not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _dotted(path: FieldPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _timestamp(raw: Any, received_at: float, unit: TimestampUnit) -> float | None:
    if raw is _MISSING or raw is None:
        return received_at
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if unit is TimestampUnit.ISO:
            return None
        try:
            ts = float(raw)
        except OverflowError:
            return None
        if not math.isfinite(ts) or ts < 0:
            return None
        if unit is TimestampUnit.MS or (unit is TimestampUnit.AUTO and ts > _MS_THRESHOLD):
            return ts / 1000.0
        return ts
    if isinstance(raw, str) and unit in (TimestampUnit.AUTO, TimestampUnit.ISO):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return None


def _bad_timestamp(fmt: TopicFormat, raw_ts: Any) -> str:
    return (
        f"{'.'.join(map(str, fmt.timestamp_path))} {raw_ts!r} is not "
        + _UNIT_WORDS[fmt.timestamp_unit]
    )


def _wrong_type(name: str, value: Any) -> str:
    return f"{name}={reprlib.repr(value)} is not a number"


def _plain(node: Any, depth: int = 0) -> bool:
    """`json.loads` reads this (part of a) document exactly as msgspec did: no integer beyond 64
    bits and no deep nesting inside."""
    kind = type(node)
    if kind is int:
        number: int = node
        return -_INT_LIMIT < number < _INT_LIMIT
    if kind is dict:
        return depth < _PLAIN_DEPTH and all(_plain(v, depth + 1) for v in node.values())
    if kind is list:
        return depth < _PLAIN_DEPTH and all(_plain(v, depth + 1) for v in node)
    return True


_Rejects = list[tuple[RejectReason, str]]
_VALUES = PayloadFormat.VALUES
_AUTO = TimestampUnit.AUTO


def _fast(
    payload: bytes,
    received_at: float,
    routes: Mapping[str, Route],
    fmt: TopicFormat,
    sink: ColumnSink,
) -> _Rejects | None:
    """Append to `sink` the readings of a `values` or `value` payload as `JsonDecoder._reference`
    has them, and return its rejects; or None, `sink` as it was, where only the reference path
    can say (nothing is rejected then)."""
    start = len(sink)
    rejects: _Rejects = []
    if _fill(payload, received_at, routes, fmt, sink, rejects):
        sink.quality.extend(_GOOD_CODES * (len(sink.ts) - start))
        return rejects
    sink.truncate(start)
    return None


_GOOD_CODES = [QUALITIES.index(Quality.GOOD)]


def _fill(
    payload: bytes,
    received_at: float,
    routes: Mapping[str, Route],
    fmt: TopicFormat,
    sink: ColumnSink,
    rejects: _Rejects,
) -> bool:
    """`_fast`'s work, the quality column left to it; False where only the reference path can
    say."""
    try:
        document = _parse(payload)
    except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError
        return False
    add_stream, add_ts, add_value = sink.stream.append, sink.ts.append, sink.value.append
    values_format = fmt.format is _VALUES
    ts_path = fmt.timestamp_path
    ts_key = ts_path[0] if len(ts_path) == 1 and isinstance(ts_path[0], str) else None
    unit = fmt.timestamp_unit
    if type(document) is list:
        if not document:
            return False
        entries: list[Any] = document
    else:
        entries = [document]
    for entry in entries:
        kind = type(entry)
        if kind is not dict:
            if values_format or not (kind is float or kind is int):
                if not _plain(entry):
                    return False
                rejects.append((RejectReason.PARSE_ERROR, _SHAPES[fmt.format]))
                continue
            if not -_INT_LIMIT < entry < _INT_LIMIT:
                return False
            number = float(entry)
            for bound in routes.values():
                add_stream(bound.stream)
                add_ts(received_at)
                add_value(number)
            continue
        values = entry.get("values") if values_format else None
        if type(values) is not dict:
            values = None
        for part in entry.values():
            if part is not values:
                kind = type(part)
                if kind is int:
                    if not -_INT_LIMIT < part < _INT_LIMIT:
                        return False
                elif (kind is dict or kind is list) and not _plain(part, 1):
                    return False
        if values_format and values is None:
            rejects.append((RejectReason.PARSE_ERROR, _SHAPES[fmt.format]))
            continue
        raw_ts = entry.get(ts_key, _MISSING) if ts_key is not None else _lookup(entry, ts_path)
        kind = type(raw_ts)
        ts: float | None
        if (kind is int or kind is float) and unit is _AUTO and raw_ts >= 0:
            ts = float(raw_ts)  # finite: msgspec refuses NaN, Infinity and 1e400
            if ts > _MS_THRESHOLD:
                ts /= 1000.0
        elif raw_ts is _MISSING or raw_ts is None:
            ts = received_at
        else:
            ts = _timestamp(raw_ts, received_at, unit)
            if ts is None:
                if values is not None and not _plain(values, 1):
                    return False
                rejects.append((RejectReason.BAD_TIMESTAMP, _bad_timestamp(fmt, raw_ts)))
                continue
        if values is None:
            found = False
            for field, bound in routes.items():
                if field in entry:
                    found = True
                    value = entry[field]
                    kind = type(value)
                    if kind is float or kind is int:  # already checked by `_plain`
                        add_stream(bound.stream)
                        add_ts(ts)
                        add_value(float(value))
                    else:
                        rejects.append((RejectReason.WRONG_TYPE, _wrong_type(field, value)))
            if not found:
                rejects.append((RejectReason.PARSE_ERROR, _SHAPES[fmt.format]))
            continue
        for name, value in values.items():
            route = routes.get(name)
            kind = type(value)
            if kind is float:
                if route is not None:
                    add_stream(route.stream)
                    add_ts(ts)
                    add_value(value)
                    continue
            elif kind is int:
                if not -_INT_LIMIT < value < _INT_LIMIT:
                    return False
                if route is not None:
                    add_stream(route.stream)
                    add_ts(ts)
                    add_value(float(value))
                    continue
            elif not _plain(value, 2):
                return False
            if route is None:
                rejects.append(
                    (RejectReason.UNKNOWN_SIGNAL, f"{name!r} is not bound to this topic")
                )
            else:
                rejects.append((RejectReason.WRONG_TYPE, _wrong_type(name, value)))
    return True
