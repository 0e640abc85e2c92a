"""What the pipeline did during a replay: every finding it recorded against a work order."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devices import Finding
from ticketing import Recorded


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One finding recorded on a work order (opening it, updating it, or clearing its
    condition), with the order as it stood right after."""

    ts: float
    """Simulated (source) time of the finding."""
    equipment_id: str
    signals: tuple[str, ...]
    kind: str
    """Finding kind: limit, drift, anomaly, sensor."""
    finding_severity: str
    detector: str
    summary: str
    active: bool
    """False when the finding says the condition cleared."""
    time_to_limit: float | None
    order_number: str
    created: bool
    """This finding opened the order."""
    failure_mode: str
    failure_mode_name: str
    priority: str
    severity: str
    """The order's severity after this finding (the worst so far)."""
    status: str
    finding_count: int
    time_to_limit_range: tuple[float, float] | None = None
    """The finding's 90 % range of `time_to_limit` (the upper end may be infinite)."""

    @classmethod
    def of(cls, finding: Finding, recorded: Recorded) -> OrderEvent:
        order = recorded.order
        return cls(
            ts=finding.ts,
            equipment_id=finding.equipment_id,
            signals=tuple(finding.signals),
            kind=finding.kind.value,
            finding_severity=finding.severity.label,
            detector=finding.detector,
            summary=finding.summary,
            active=finding.active,
            time_to_limit=finding.time_to_limit,
            order_number=order.number,
            created=recorded.created,
            failure_mode=order.failure_mode_code,
            failure_mode_name=order.failure_mode_name,
            priority=order.priority.value,
            severity=order.severity.label,
            status=order.status.value,
            finding_count=order.finding_count,
            time_to_limit_range=finding.time_to_limit_range,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "equipment_id": self.equipment_id,
            "signals": list(self.signals),
            "kind": self.kind,
            "finding_severity": self.finding_severity,
            "detector": self.detector,
            "summary": self.summary,
            "active": self.active,
            "time_to_limit": self.time_to_limit,
            "order_number": self.order_number,
            "created": self.created,
            "failure_mode": self.failure_mode,
            "failure_mode_name": self.failure_mode_name,
            "priority": self.priority,
            "severity": self.severity,
            "status": self.status,
            "finding_count": self.finding_count,
            "time_to_limit_range": None
            if self.time_to_limit_range is None
            else list(self.time_to_limit_range),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderEvent:
        span = data.get("time_to_limit_range")
        return cls(
            **{
                **data,
                "signals": tuple(data["signals"]),
                "time_to_limit_range": None if span is None else (_bound(span[0]), _bound(span[1])),
            }
        )


def _bound(value: float | None) -> float:
    """JSON has no infinity: an open upper end is written as null."""
    return math.inf if value is None else float(value)
