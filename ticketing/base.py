"""The records `ticketing` hands out: a work order as read from the store, and what recording a
finding did. No ORM object ever leaves the store; these frozen dataclasses do."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devices import Finding, FindingKind, Point, Severity
from ticketing.lifecycle import ACTIVE, Status
from ticketing.priority import Priority


class WorkOrderType(enum.StrEnum):
    PREDICTIVE = "predictive"
    """Opened from a detector finding: the condition of the machine says it is needed."""
    PREVENTIVE = "preventive"
    """Scheduled by time or usage."""
    CORRECTIVE = "corrective"
    """Repairs a failure that happened."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """The finding behind the latest update of a work order."""

    detector: str
    kind: FindingKind
    signals: tuple[str, ...]
    severity: Severity
    score: float
    summary: str
    ts: float
    """Source time of the finding, seconds since the Unix epoch (UTC)."""
    time_to_limit: float | None
    points: Mapping[str, tuple[Point, ...]]
    """Recent `(ts, value)` points per signal, oldest first."""

    @classmethod
    def of(cls, finding: Finding) -> Evidence:
        return cls(
            detector=finding.detector,
            kind=finding.kind,
            signals=tuple(finding.signals),
            severity=finding.severity,
            score=finding.score,
            summary=finding.summary,
            ts=finding.ts,
            time_to_limit=finding.time_to_limit,
            points={name: tuple(points) for name, points in finding.evidence.items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "kind": self.kind.value,
            "signals": list(self.signals),
            "severity": self.severity.label,
            "score": _finite(self.score),
            "summary": self.summary,
            "ts": self.ts,
            "time_to_limit": _finite(self.time_to_limit),
            "points": {
                name: [[ts, _finite(value)] for ts, value in points]
                for name, points in self.points.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            detector=data["detector"],
            kind=FindingKind(data["kind"]),
            signals=tuple(data["signals"]),
            severity=Severity[data["severity"].upper()],
            score=_float(data["score"]),
            summary=data["summary"],
            ts=data["ts"],
            time_to_limit=data["time_to_limit"],
            points={
                name: tuple((float(ts), _float(value)) for ts, value in points)
                for name, points in data["points"].items()
            },
        )


def _finite(value: float | None) -> float | None:
    """JSON (and PostgreSQL's jsonb above all) has no NaN or infinity: they become null."""
    return value if value is not None and math.isfinite(value) else None


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, slots=True)
class WorkOrderView:
    """A work order as stored; times are timezone-aware UTC."""

    id: int
    number: str
    """Human-readable, derived from the id: WO-000123."""
    equipment_id: str
    equipment_path: str
    """ISA-95 path: site/area/line/equipment."""
    equipment_type: str
    team: str
    failure_mode_code: str
    failure_mode_name: str
    mechanism: str
    type: WorkOrderType
    priority: Priority
    severity: Severity
    """The worst severity of the findings recorded on this order."""
    status: Status
    title: str
    instructions: tuple[str, ...]
    """The failure mode's recommended checks."""
    evidence: Evidence
    finding_count: int
    first_seen: datetime
    last_seen: datetime
    condition_active: bool
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording one finding did: the order it opened (`created`) or updated."""

    order: WorkOrderView
    created: bool
