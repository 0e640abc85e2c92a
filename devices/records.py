"""The records every package speaks: one sample in (`Reading`), one conclusion out (`Finding`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.drafts import draft_type

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


_ReadingDraft = draft_type(Reading)


def new_reading(
    equipment_id: str, signal: str, ts: float, value: float, quality: Quality = Quality.GOOD
) -> Reading:
    """`Reading(equipment_id, signal, ts, value, quality)`, built about four times faster (see
    `devices.drafts`): for the decoders' per-value loops. The result is an ordinary `Reading`."""
    draft: Any = _ReadingDraft()
    draft.equipment_id = equipment_id
    draft.signal = signal
    draft.ts = ts
    draft.value = value
    draft.quality = quality
    draft.__class__ = Reading
    reading: Reading = draft
    return reading


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
