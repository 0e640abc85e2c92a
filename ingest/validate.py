"""Checks every source applies to decoded readings: timestamps in a plausible window, and no
reading much older than the last one of its signal."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices import ColumnSink, Reading, StreamKey
from devices.columns import BAD
from ingest.rejects import Reject, RejectReason


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """What a source accepts. The defaults suit a real plant; `SIMULATED_TIME` drops the
    timestamp window for simulators and replays, whose clocks run ahead of the wall clock."""

    max_payload_bytes: int = 1 << 20
    """Larger MQTT payloads are rejected before they are parsed."""
    max_future: float | None = 300.0
    """Seconds a timestamp may be ahead of the receive time (clock skew); None: no limit (for
    simulated or replayed time, which runs ahead of the wall clock)."""
    max_past: float | None = 30 * 86400.0
    """Seconds a timestamp may be behind the receive time (a broker's persistent session may hold
    messages for days while forewarn is down); None: no limit."""
    out_of_order_tolerance: float = 10.0
    """Seconds a reading may be older than the last one of its signal and still be passed on.
    Only readings with a value count as the last one: a bad status without a value (an OPC UA
    server's "waiting for initial data", a Sparkplug death) is often stamped with the server's or
    the receive time, and must not make the source's own samples look late."""
    receive_time: bool = False
    """Stamp every reading of the source with the time it arrives (devices without a clock, or
    with a wrong one)."""
    receive_time_equipment: frozenset[str] = frozenset()
    """Equipment whose readings are stamped with the time they arrive (`timestamp_source:
    receive_time` in the plant file)."""


SIMULATED_TIME = IntakeLimits(max_future=None, max_past=None)


class Validator:
    """Passes on the plausible readings of a message; the others go to `on_reject`. A stream's
    last reading is kept in a slot of its `(equipment_id, signal)`, whatever table numbers a
    sink (each table's slots are looked up once, not per reading).

    Not thread-safe: each source calls it from one thread.
    """

    def __init__(self, limits: IntakeLimits, on_reject: Callable[[Reject], None]) -> None:
        self.limits = limits
        self._on_reject = on_reject
        self._slots: dict[StreamKey, int] = {}
        """Each stream's slot in `_last`."""
        self._last: list[float] = []
        """The time of each stream's last reading with a value (-inf: none yet)."""
        self._table: tuple[Sequence[StreamKey], list[int]] = ((), [])
        """The last table a sink came with, and the slot of each of its streams."""

    def admit(
        self, readings: list[Reading], topic: str, payload: bytes, received_at: float
    ) -> list[Reading]:
        """The plausible ones of `readings` (`admit_columns` of them)."""
        sink = ColumnSink()
        for reading in readings:
            sink.add(reading)
        self.admit_columns(sink, 0, topic, payload, received_at)
        return sink.readings()

    def admit_columns(
        self, sink: ColumnSink, start: int, topic: str, payload: bytes, received_at: float
    ) -> None:
        """Keep in `sink` the plausible ones of the readings it got from `start` on (one
        message's); the others are rejected."""
        limits = self.limits
        earliest = -math.inf if limits.max_past is None else received_at - limits.max_past
        latest = math.inf if limits.max_future is None else received_at + limits.max_future
        tolerance = limits.out_of_order_tolerance
        stamp_all, stamped = limits.receive_time, limits.receive_time_equipment
        last = self._last
        keys = sink.keys
        slots = self._slots_of(keys)
        streams, stamps, values, qualities = sink.stream, sink.ts, sink.value, sink.quality
        kept = start
        for position in range(start, len(stamps)):
            stream = streams[position]
            ts = stamps[position]
            if stamp_all or (stamped and keys[stream][0] in stamped):
                ts = received_at
            if not earliest <= ts <= latest:
                self._reject(
                    RejectReason.TIMESTAMP_OUT_OF_RANGE,
                    topic,
                    _out_of_range(keys[stream], ts, received_at, limits),
                    payload,
                    received_at,
                )
                continue
            slot = slots[stream]
            previous = last[slot]
            if ts < previous - tolerance:
                equipment_id, signal = keys[stream]
                self._reject(
                    RejectReason.OUT_OF_ORDER,
                    topic,
                    f"{equipment_id}.{signal}: ts {ts:.3f} is {previous - ts:.1f} s older than "
                    f"the last reading (tolerance {tolerance:g} s)",
                    payload,
                    received_at,
                )
                continue
            quality = qualities[position]
            if quality != BAD and ts > previous:
                last[slot] = ts
            if kept != position:
                streams[kept] = streams[position]
                values[kept] = values[position]
                qualities[kept] = quality
            stamps[kept] = ts
            kept += 1
        if kept != len(stamps):
            sink.truncate(kept)

    def _slots_of(self, keys: Sequence[StreamKey]) -> list[int]:
        """The slot of each stream of the table `keys` (new streams get one)."""
        table, slots = self._table
        if table is keys and len(slots) == len(keys):
            return slots
        if table is not keys:
            slots = []
        for key in keys[len(slots) :]:  # a table of a sink's own grows
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = len(self._last)
                self._last.append(-math.inf)
            slots.append(slot)
        self._table = (keys, slots)
        return slots

    def too_large(self, topic: str, payload: bytes, received_at: float) -> bool:
        """True (and counted) if the payload is over the limit."""
        if len(payload) <= self.limits.max_payload_bytes:
            return False
        self._reject(
            RejectReason.PAYLOAD_TOO_LARGE,
            topic,
            f"{len(payload)} bytes; the limit is {self.limits.max_payload_bytes}",
            payload,
            received_at,
        )
        return True

    def _reject(
        self, reason: RejectReason, topic: str, detail: str, payload: bytes, received_at: float
    ) -> None:
        self._on_reject(Reject(reason, topic, detail, payload, received_at))


def _out_of_range(key: StreamKey, ts: float, received_at: float, limits: IntakeLimits) -> str:
    """What was wrong, and the settings that change it."""
    ahead = ts - received_at
    if ahead > 0:
        how, setting, value = f"{ahead:.0f} s ahead of", "max_future", limits.max_future
    else:
        how, setting, value = f"{-ahead:.0f} s behind", "max_past", limits.max_past
    return (
        f"{key[0]}.{key[1]}: ts {ts:.3f} is {how} the receive "
        "time. If the device's clock is wrong, or it has none, give the equipment "
        "'timestamp_source: receive_time' in the plant file (or list the source in the "
        f"settings' intake.receive_time_sources); if the time is right, raise intake.{setting} "
        f"(now {value or 0:.0f} s; FOREWARN_INTAKE__{setting.upper()})"
    )
