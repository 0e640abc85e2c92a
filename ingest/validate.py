"""Checks every source applies to decoded readings: timestamps in a plausible window, and no
reading much older than the last one of its signal."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from devices import Quality, Reading
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
    """Passes on the plausible readings of a message; the others go to `on_reject`.

    Not thread-safe: each source calls it from one thread.
    """

    def __init__(self, limits: IntakeLimits, on_reject: Callable[[Reject], None]) -> None:
        self.limits = limits
        self._on_reject = on_reject
        self._last: dict[tuple[str, str], float] = {}

    def admit(
        self, readings: list[Reading], topic: str, payload: bytes, received_at: float
    ) -> list[Reading]:
        limits = self.limits
        earliest = -math.inf if limits.max_past is None else received_at - limits.max_past
        latest = math.inf if limits.max_future is None else received_at + limits.max_future
        tolerance = limits.out_of_order_tolerance
        last = self._last
        admitted: list[Reading] = []
        for original in readings:
            reading = original
            if limits.receive_time or reading.equipment_id in limits.receive_time_equipment:
                reading = dataclasses.replace(reading, ts=received_at)
            ts = reading.ts
            if not earliest <= ts <= latest:
                self._reject(
                    RejectReason.TIMESTAMP_OUT_OF_RANGE,
                    topic,
                    _out_of_range(reading, received_at, limits),
                    payload,
                    received_at,
                )
                continue
            key = (reading.equipment_id, reading.signal)
            previous = last.get(key)
            if previous is not None and ts < previous - tolerance:
                self._reject(
                    RejectReason.OUT_OF_ORDER,
                    topic,
                    f"{reading.equipment_id}.{reading.signal}: ts {ts:.3f} is "
                    f"{previous - ts:.1f} s older than the last reading "
                    f"(tolerance {tolerance:g} s)",
                    payload,
                    received_at,
                )
                continue
            if reading.quality is not Quality.BAD and (previous is None or ts > previous):
                last[key] = ts
            admitted.append(reading)
        return admitted

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


def _out_of_range(reading: Reading, received_at: float, limits: IntakeLimits) -> str:
    """What was wrong, and the settings that change it."""
    ahead = reading.ts - received_at
    if ahead > 0:
        how, setting, value = f"{ahead:.0f} s ahead of", "max_future", limits.max_future
    else:
        how, setting, value = f"{-ahead:.0f} s behind", "max_past", limits.max_past
    return (
        f"{reading.equipment_id}.{reading.signal}: ts {reading.ts:.3f} is {how} the receive "
        "time. If the device's clock is wrong, or it has none, give the equipment "
        "'timestamp_source: receive_time' in the plant file (or list the source in the "
        f"settings' intake.receive_time_sources); if the time is right, raise intake.{setting} "
        f"(now {value or 0:.0f} s; FOREWARN_INTAKE__{setting.upper()})"
    )
