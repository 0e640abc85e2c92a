"""The records `ticketing` hands out: a work order as read from the store, and what recording a
finding did. No ORM object ever leaves the store; these frozen dataclasses do."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from devices import Equipment, Finding, FindingKind, Point, Severity
from ticketing.lifecycle import ACTIVE, Status
from ticketing.priority import Priority


class Role(enum.StrEnum):
    """What a token may do; each role may do everything the ones before it may."""

    TECHNICIAN = "technician"
    """Sees and updates the orders assigned to them or their team; reports corrective orders."""
    PLANNER = "planner"
    """Sees every order, assigns, closes and cancels, schedules windows and shelves alarms."""
    ADMIN = "admin"
    """Configuration: tokens and webhooks, besides everything a planner does."""

    def at_least(self, other: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(other)


class Outcome(enum.StrEnum):
    """What closing an order found about the finding behind it."""

    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"


class Recurrence(enum.StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"


class DeliveryKind(enum.StrEnum):
    WEBHOOK = "webhook"
    """An event for a webhook receiver, signed with its secret."""
    NOTIFY = "notify"
    """A notification for a person or team channel."""
    ACTION_HTTP = "action_http"
    """An automatic action that calls a URL."""
    ACTION_MQTT = "action_mqtt"
    """An automatic action that publishes an MQTT message."""


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Gave up after the retry period; kept, and can be retried by an admin."""


class Event(enum.StrEnum):
    """Work-order events sent to webhooks."""

    CREATED = "work_order.created"
    UPDATED = "work_order.updated"
    ESCALATED = "work_order.escalated"
    CLOSED = "work_order.closed"


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
    time_to_limit_range: tuple[float, float] | None = None
    """Earliest and latest plausible `time_to_limit` (latest may be infinite)."""

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
            time_to_limit_range=finding.time_to_limit_range,
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
            "time_to_limit_range": (
                None
                if self.time_to_limit_range is None
                else [_finite(bound) for bound in self.time_to_limit_range]
            ),
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
            time_to_limit_range=_range(data.get("time_to_limit_range")),
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
    evidence: Evidence | None
    """The latest finding; None for an order a person reported."""
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
    description: str = ""
    reported_by: str | None = None
    assignee: str | None = None
    started_at: datetime | None = None
    done_at: datetime | None = None
    hold_reason: str | None = None
    outcome: Outcome | None = None
    found_failure_mode: str | None = None
    found_mechanism: str | None = None
    found_cause: str | None = None
    ack_due_at: datetime | None = None
    start_due_at: datetime | None = None
    start_overdue_at: datetime | None = None
    escalation_level: int = 0
    escalated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def to_json(self) -> dict[str, Any]:
        """The order as JSON (webhooks, notifications, the event stream)."""
        data: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Severity):
                value = value.label
            elif isinstance(value, Evidence):
                value = value.to_json()
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        data.pop("id")
        return data


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording one finding did: the order it opened (`created`) or updated."""

    order: WorkOrderView
    created: bool


class FindingRecorder(Protocol):
    """Where findings are recorded: the store itself, or a `SpoolingRecorder` in front of it."""

    def record(self, finding: Finding, equipment: Equipment) -> Recorded | None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: the holder of a token, or forewarn itself."""

    name: str
    role: Role | None
    """None for forewarn's own actions (the system)."""
    team: str | None = None
    token_id: int | None = None

    @property
    def role_label(self) -> str:
        return self.role.value if self.role is not None else "system"


SYSTEM = Principal("forewarn", None)


@dataclass(frozen=True, slots=True)
class AlarmView:
    id: int
    equipment_id: str
    failure_mode_code: str
    kind: FindingKind
    detector: str
    signals: tuple[str, ...]
    severity: Severity
    active: bool
    acknowledged: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    raised_at: datetime
    cleared_at: datetime | None
    updated_at: datetime
    finding_count: int
    suppressed: str | None
    work_order: str | None
    """The number of the order it opened or joined."""


@dataclass(frozen=True, slots=True)
class FindingView:
    id: int
    detector: str
    kind: FindingKind
    severity: Severity
    score: float | None
    signals: tuple[str, ...]
    summary: str
    ts: datetime
    active: bool
    time_to_limit: float | None
    label: Outcome | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    actor_role: str
    entity: str
    entity_id: str
    action: str
    work_order: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    note: str


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    work_order: str
    author: str
    at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class Window:
    id: int
    target: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    recurrence: Recurrence
    timezone: str
    until: datetime | None
    created_at: datetime
    created_by: str
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Shelf:
    id: int
    equipment_id: str
    failure_mode_code: str | None
    reason: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    role: Role
    team: str | None
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: `secret` is shown once and never stored."""

    token: TokenView
    secret: str


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: int
    name: str
    url: str
    events: tuple[Event, ...]
    active: bool
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    key: str
    kind: DeliveryKind
    destination: str
    event: str
    work_order: str | None
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    response_status: int | None


def _range(bounds: list[float | None] | None) -> tuple[float, float] | None:
    """A stored (earliest, latest) range; JSON has no infinity, so a missing latest is one."""
    if bounds is None:
        return None
    earliest, latest = bounds
    return (earliest or 0.0, math.inf if latest is None else latest)
