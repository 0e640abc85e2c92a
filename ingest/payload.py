"""JSON telemetry payloads -> `Reading`s, with every bad part counted, never raised.

Accepted shapes, on a topic bound to equipment by the plant file:
    {"ts": 1732500000123, "values": {"vibration": 2.1, "flow": 96.4}}
    [{"ts": "2026-11-25T09:00:00Z", "values": {...}}, ...]
`ts` is epoch milliseconds, epoch seconds, or ISO 8601; without it, the receive time is used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devices import Plant, Reading
from ingest.rejects import Reject, RejectReason

_SHAPE = 'expected {"ts": ..., "values": {...}} or a list of them'
_MS_THRESHOLD = 1e11
"""Epoch numbers above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973)."""


class JsonDecoder:
    """Decodes one MQTT message into readings; rejected parts go to `on_reject`."""

    def __init__(self, plant: Plant, on_reject: Callable[[Reject], None]) -> None:
        self._plant = plant
        self._on_reject = on_reject

    def decode(self, topic: str, payload: bytes, received_at: float) -> list[Reading]:
        def reject(reason: RejectReason, detail: str) -> None:
            self._on_reject(Reject(reason, topic, detail, payload, received_at))

        routes = self._plant.routes(topic)
        if routes is None:
            reject(RejectReason.UNKNOWN_EQUIPMENT, "no equipment is bound to this topic")
            return []
        try:
            document = json.loads(payload)
        except (UnicodeDecodeError, ValueError) as exc:
            reject(RejectReason.PARSE_ERROR, f"not JSON: {exc}")
            return []
        readings: list[Reading] = []
        for entry in document if isinstance(document, list) else [document]:
            if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
                reject(RejectReason.PARSE_ERROR, _SHAPE)
                continue
            ts = _timestamp(entry.get("ts"), received_at)
            if ts is None:
                reject(
                    RejectReason.BAD_TIMESTAMP,
                    f"ts {entry.get('ts')!r} is not epoch ms/s or ISO 8601",
                )
                continue
            for name, value in entry["values"].items():
                route = routes.get(name)
                if route is None:
                    reject(RejectReason.UNKNOWN_SIGNAL, f"{name!r} is not bound to this topic")
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    reject(RejectReason.WRONG_TYPE, f"{name}={value!r} is not a number")
                elif not math.isfinite(value):
                    reject(RejectReason.NOT_FINITE, f"{name}={value!r}")
                else:
                    readings.append(Reading(route.equipment_id, route.signal, ts, float(value)))
        return readings


def _timestamp(raw: Any, received_at: float) -> float | None:
    if raw is None:
        return received_at
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        ts = float(raw)
        if not math.isfinite(ts) or ts < 0:
            return None
        return ts / 1000.0 if ts > _MS_THRESHOLD else ts
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return None
