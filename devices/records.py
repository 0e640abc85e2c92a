"""The records every package speaks: one sample in (`Reading`), one conclusion out (`Finding`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

Point = tuple[float, float]
"""A `(ts, value)` pair: source time in seconds since the Unix epoch (UTC), and the value."""


class Quality(enum.StrEnum):
    """How far a reading can be trusted, as OPC UA status codes put it."""

    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample of one signal of one piece of equipment.

    `ts` is the source timestamp in seconds since the Unix epoch (UTC); a float keeps the hot path
    free of datetime objects.
    """

    equipment_id: str
    signal: str
    ts: float
    value: float
    quality: Quality = Quality.GOOD


class _Draft:
    """A writable twin of `Reading`'s layout: filled with plain attribute stores, then turned into
    the frozen `Reading` by assigning `__class__` (allowed between classes of identical slots)."""

    __slots__ = ("equipment_id", "signal", "ts", "value", "quality")  # noqa: RUF023 (as Reading)
    equipment_id: str
    signal: str
    ts: float
    value: float
    quality: Quality


if _Draft.__slots__ != Reading.__slots__:  # pragma: no cover - a field was added to one of them
    raise TypeError("devices.records._Draft must have exactly Reading's slots")


def new_reading(
    equipment_id: str, signal: str, ts: float, value: float, quality: Quality = Quality.GOOD
) -> Reading:
    """`Reading(equipment_id, signal, ts, value, quality)`, built about four times faster than the
    frozen dataclass's `__init__` (which stores each field through `object.__setattr__`): for the
    decoders' per-value loops. The result is an ordinary `Reading` in every way."""
    draft = _Draft()
    draft.equipment_id = equipment_id
    draft.signal = signal
    draft.ts = ts
    draft.value = value
    draft.quality = quality
    draft.__class__ = Reading  # type: ignore[assignment]
    return draft  # type: ignore[return-value]


class FindingKind(enum.StrEnum):
    LIMIT = "limit"
    """A configured warning or alarm limit is crossed."""
    DRIFT = "drift"
    """The signal moved away from its learned baseline."""
    ANOMALY = "anomaly"
    """The joint behaviour of signals is unusual."""
    SENSOR = "sensor"
    """The sensor, not the machine, looks broken (stale, stuck, spiking, out of range)."""
    COMMUNICATION = "communication"
    """The link, not the machine, is down: its source is disconnected or declared it dead
    (Sparkplug NDEATH / DDEATH, an OPC UA session lost, the MQTT broker unreachable)."""


class Severity(enum.IntEnum):
    WARNING = 1
    ALARM = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector concluded about one equipment, with the evidence behind it.

    A detector emits a finding when a condition episode starts (`active=True`), again when it
    worsens, and once more when it clears (`active=False`).
    """

    equipment_id: str
    signals: tuple[str, ...]
    kind: FindingKind
    severity: Severity
    score: float
    """Anomaly score in [0, 1]; 0.5 is where a decision starts to fire."""
    ts: float
    """Source time of the reading that decided this finding."""
    detector: str
    summary: str
    active: bool = True
    time_to_limit: float | None = None
    """Seconds from `ts` until the signal is expected to cross its alarm limit, if heading there."""
    time_to_limit_range: tuple[float, float] | None = None
    """Plausible range (earliest, latest) of `time_to_limit`; latest may be infinite."""
    evidence: Mapping[str, tuple[Point, ...]] = field(default_factory=dict)
    """Recent `(ts, value)` points per signal, oldest first."""

    @property
    def is_notice(self) -> bool:
        """A drift or anomaly finding under the decision score (0.5) and below alarm severity:
        it marks where a signal began to behave unusually (detector `onset`) but opens no work
        order by itself (ticketing's sensitivity starts at that score)."""
        return (
            self.kind in (FindingKind.DRIFT, FindingKind.ANOMALY)
            and self.severity < Severity.ALARM
            and self.score < 0.5
        )
