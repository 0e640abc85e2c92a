"""Request and response bodies of the API (pydantic), built from the store's records."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from devices import FindingKind, Severity
from ticketing.base import (
    DeliveryKind,
    DeliveryState,
    Event,
    Outcome,
    Recurrence,
    Role,
    WorkOrderType,
)
from ticketing.equipment_health import MachineState
from ticketing.lifecycle import Status
from ticketing.priority import Priority


def _severity_label(value: Any) -> Any:
    return value.label if isinstance(value, Severity) else value


_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("give an ISO 8601 date-time such as 2026-01-31T06:00:00Z")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-01-31T06:00:00Z or +01:00)")
    return value


SeverityLabel = Annotated[Literal["warning", "alarm", "critical"], BeforeValidator(_severity_label)]
AwareTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_aware)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
# Some character that is not white space in Python, ECMAScript or Rust regular expressions, so
# that the OpenAPI pattern refuses exactly the texts that are empty once stripped.
VISIBLE = r"[^\s\x1c-\x1f\x85\ufeff]"
Required = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000, pattern=VISIBLE)
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=VISIBLE)
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=VISIBLE)
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceOut(_Out):
    """The finding behind the latest update of a work order."""

    detector: str = Field(description="The detector that decided the finding.")
    kind: FindingKind
    signals: list[str]
    severity: SeverityLabel
    score: float | None = Field(
        description="Anomaly score in [0, 1]; 0.5 is where a condition starts."
    )
    summary: str
    ts: float = Field(description="Source time of the finding, seconds since the Unix epoch.")
    time_to_limit: float | None = Field(
        description="Seconds from `ts` until the signal is predicted to reach its alarm limit."
    )
    time_to_limit_range: tuple[float | None, float | None] | None = Field(
        default=None,
        description="Earliest and latest plausible time to limit, in seconds from `ts` (latest "
        "null: the trend may not reach the limit at all).",
    )
    points: dict[str, list[tuple[float, float | None]]] = Field(
        description="Recent (ts, value) points per signal, oldest first."
    )


class WorkOrderOut(_Out):
    """A work order; times are UTC."""

    number: str = Field(examples=["WO-000123"])
    equipment_id: str
    equipment_path: str = Field(description="ISA-95 path: site/area/line/equipment.")
    equipment_type: str
    team: str = Field(description="The maintenance team that owns the order.")
    assignee: str | None = Field(description="The technician it is assigned to.")
    failure_mode_code: str = Field(description="ISO 14224 failure-mode code, e.g. VIB.")
    failure_mode_name: str
    mechanism: str = Field(description="The likely failure mechanism.")
    type: WorkOrderType
    priority: Priority
    severity: SeverityLabel = Field(description="The worst severity of the findings so far.")
    status: Status
    title: str
    description: str = Field(description="What a person reported (corrective orders).")
    reported_by: str | None
    instructions: list[str] = Field(description="Recommended checks for this failure mode.")
    evidence: EvidenceOut | None = Field(description="The latest finding, if any.")
    finding_count: int = Field(description="Findings (and reports) recorded on this order.")
    first_seen: datetime
    last_seen: datetime
    condition_active: bool = Field(description="Whether the detected condition still holds.")
    due_at: datetime | None = Field(
        description="When the signal is predicted to reach its alarm limit, else the end of the "
        "priority's service level."
    )
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    started_at: datetime | None
    done_at: datetime | None
    hold_reason: str | None
    resolved_at: datetime | None = Field(description="When it was closed or cancelled.")
    resolved_by: str | None
    resolution_note: str
    outcome: Outcome | None = Field(description="Whether the finding was confirmed.")
    found_failure_mode: str | None
    found_mechanism: str | None
    found_cause: str | None
    ack_due_at: datetime | None = Field(description="Acknowledge by then or it escalates.")
    start_due_at: datetime | None = Field(description="Start work by then.")
    start_overdue_at: datetime | None
    escalation_level: int = Field(description="0 until the first escalation.")
    escalated_at: datetime | None


class CreatedOrder(BaseModel):
    created: bool = Field(description="False: an active order existed and was updated.")
    work_order: WorkOrderOut


class ReportIn(_In):
    """A problem seen by a person: opens a corrective order, or updates the active one of the
    same equipment and failure mode."""

    equipment_id: Name
    failure_mode: Code | None = Field(
        default=None, description="A failure-mode code of the equipment's type; none: other."
    )
    description: Required = Field(description="What was seen, heard or measured.")
    severity: Literal["warning", "alarm", "critical"] = "warning"


class NoteIn(_In):
    note: Text = ""


class AssignIn(_In):
    assignee: Name | None = Field(description="A person id; null gives it back to the team.")
    team: Name | None = None


class HoldIn(_In):
    reason: Required


class CloseIn(_In):
    outcome: Outcome | None = Field(
        default=None, description="confirmed, or false_alarm (makes the signal less sensitive)."
    )
    failure_mode: Code | None = Field(default=None, description="The failure mode found.")
    mechanism: Text | None = None
    cause: Text | None = None
    note: Text = ""


class ResolveIn(_In):
    note: Text = ""


class CancelIn(_In):
    reason: Required


class CommentIn(_In):
    body: Required


class CommentOut(_Out):
    id: int
    work_order: str
    author: str
    at: datetime
    body: str


class AuditOut(_Out):
    id: int
    at: datetime
    actor: str
    actor_role: str = Field(description="technician, planner, admin or system.")
    entity: str
    entity_id: str
    action: str
    work_order: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str
    sentence: str = Field(default="", description="The change in words, for people.")


class FindingOut(_Out):
    id: int
    detector: str
    kind: FindingKind
    severity: SeverityLabel
    score: float | None
    signals: list[str]
    summary: str
    ts: datetime
    active: bool
    time_to_limit: float | None
    label: Outcome | None


class AlarmOut(_Out):
    id: int
    equipment_id: str
    failure_mode_code: str
    kind: FindingKind
    detector: str
    signals: list[str]
    severity: SeverityLabel
    active: bool
    acknowledged: bool
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    raised_at: datetime
    cleared_at: datetime | None
    updated_at: datetime
    finding_count: int
    suppressed: str | None = Field(description="Why it opened no work order, if it did not.")
    work_order: str | None


class HealthOut(_Out):
    state: MachineState = Field(
        description="window, sensor_fault, order, finding (active, with no order) or normal: "
        "the first of them that holds."
    )
    status: Literal["ok", "warning", "alarm", "critical"] = Field(
        description="The worst severity of the active alarms."
    )
    active_alarms: int = 0
    sensor_faults: int = Field(default=0, description="Active alarms about sensors or links.")
    active_orders: int = 0
    top_priority: Priority | None = None
    window: str | None = Field(
        default=None, description="The reason of a maintenance window covering it now."
    )


class SignalOut(BaseModel):
    name: str
    unit: str
    warn_high: float | None = None
    alarm_high: float | None = None
    warn_low: float | None = None
    alarm_low: float | None = None


class EquipmentOut(BaseModel):
    id: str
    name: str
    type: str
    criticality: str
    team: str
    path: str
    health: HealthOut
    signals: list[SignalOut] = Field(default=[], description="With unit and limits.")


class LineOut(BaseModel):
    id: str
    equipment: list[EquipmentOut]


class AreaOut(BaseModel):
    id: str
    lines: list[LineOut]


class PlantTree(BaseModel):
    site: str
    areas: list[AreaOut]


class WindowIn(_In):
    target: Name = Field(
        description="ISA-95 path prefix: site, site/area, site/area/line or one equipment's "
        "full path.",
        examples=["demo/treatment/line-1"],
    )
    starts_at: AwareTime
    ends_at: AwareTime
    reason: Required
    recurrence: Recurrence = Recurrence.NONE
    timezone: Name | None = Field(
        default=None, description="For recurring windows; default: the plant's time zone."
    )
    until: AwareTime | None = None


class WindowOut(_Out):
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


class ShelfIn(_In):
    equipment_id: Name
    failure_mode: Code | None = Field(default=None, description="None: all its failure modes.")
    reason: Required
    expires_at: AwareTime


class ShelfOut(_Out):
    id: int
    equipment_id: str
    failure_mode_code: str | None
    reason: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    cancelled_at: datetime | None


class TokenIn(_In):
    name: Name = Field(description="A technician's person id, or who else uses it.")
    role: Role
    team: Name | None = None
    expires_at: AwareTime | None = None


class TokenOut(_Out):
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


class IssuedTokenOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="Shown once; send it as `Authorization: Bearer <secret>`.")


class WebhookIn(_In):
    name: Name
    url: Annotated[str, StringConstraints(pattern=r"^https?://[!-~]+$", max_length=2000)] = Field(
        description="http(s) URL in printable ASCII (percent-encode anything else)."
    )
    events: list[Event] = Field(default_factory=lambda: list(Event), min_length=1)
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None


class WebhookOut(_Out):
    id: int
    name: str
    url: str
    events: list[Event]
    active: bool
    created_at: datetime
    created_by: str


class CreatedWebhook(BaseModel):
    webhook: WebhookOut
    secret: str = Field(description="The HMAC key of X-Forewarn-Signature; shown once.")


class DeliveryOut(_Out):
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


class MeanTimeOut(_Out):
    priority: Priority | None = Field(description="None: all priorities.")
    orders: int
    mean_seconds: float | None


class ResolutionOut(_Out):
    priority: Priority | None
    orders: int
    mean_seconds: float | None = Field(description="Created -> closed.")
    mean_repair_seconds: float | None = Field(description="Started -> done.")


class BacklogOut(_Out):
    at: datetime
    active: int


class ThroughputOut(_Out):
    start: datetime
    end: datetime
    opened: int = Field(description="Orders created in [start, end).")
    closed: int = Field(description="Orders closed (not cancelled) in [start, end).")


class LineCountOut(_Out):
    line: str = Field(description="ISA-95 path of the line: site/area/line.")
    start: datetime
    end: datetime
    orders: int = Field(description="Orders created in [start, end), cancelled ones left out.")


class TeamBacklogOut(_Out):
    team: str
    priority: Priority
    active: int = Field(description="Orders neither closed nor cancelled.")


class OutcomeCountOut(_Out):
    outcome: Outcome | None = Field(description="None: closed without a judgement.")
    orders: int


class LeadTimeOut(_Out):
    orders: int = Field(description="Predictive orders created in the period.")
    forecast: int = Field(description="Of which with a forecast time to the alarm limit.")
    mean_seconds: float | None = Field(description="Mean time from the finding to the limit.")
    min_seconds: float | None = Field(description="The shortest warning given.")


class FailureModeCountOut(_Out):
    equipment_type: str
    failure_mode_code: str
    failure_mode_name: str
    orders: int


class ParetoBarOut(_Out):
    key: str = Field(description="The failure-mode code, or the cause folded to lower case.")
    label: str = Field(description="The failure mode's name, or one spelling of the cause.")
    orders: int
    cumulative_share: float = Field(
        description="Share of the counted orders in this bar and every bar before it."
    )


class ParetoOut(_Out):
    counted: int = Field(description="Orders with a key, the whole the shares are of.")
    bars: list[ParetoBarOut] = Field(description="The largest groups, most orders first.")
    rest: int = Field(description="Counted orders in the groups beyond the bars.")
    without_key: int = Field(description="Orders left out for having no key (no cause given).")


class RepeatsOut(_Out):
    within_seconds: float = Field(description="How soon after a closing a new order repeats.")
    orders: int = Field(description="Orders created in the period, cancelled ones left out.")
    repeats: int = Field(
        description="Of which opened on the same equipment and failure mode within "
        "`within_seconds` of an earlier order's closing."
    )
    repeat_share: float | None = Field(description="repeats / orders.")
    closed: int = Field(description="Orders created in the period and closed.")
    judged: int = Field(
        description="Of the closed ones, those whose `within_seconds` have passed or that a "
        "repeat already followed; the others are pending."
    )
    fixed_first_time: int = Field(description="Of the judged ones, those no repeat followed.")
    first_time_fix_rate: float | None = Field(description="fixed_first_time / judged.")


class PrecisionOut(_Out):
    detector: str
    confirmed: int
    false_alarms: int
    precision: float | None


class PersonOut(BaseModel):
    id: str
    name: str
    team: str | None
    skills: list[str]
    on_shift: bool
    open_orders: int = Field(default=0, description="Active orders assigned to this person.")


class TeamOut(BaseModel):
    id: str
    name: str
    lead: str | None


class People(BaseModel):
    teams: list[TeamOut]
    people: list[PersonOut]


class Me(BaseModel):
    name: str
    role: Role
    team: str | None


class FieldProblem(BaseModel):
    """One part of a request that is not valid."""

    loc: list[str | int] = Field(description="Where: `body`, `query`, `path` and the field.")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="A stable code for the kind of problem.")


class Problem(BaseModel):
    """Why a request failed: the answer of every 4xx and 5xx."""

    detail: str = Field(description="What went wrong and what to change.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="For invalid requests (422), each invalid part."
    )


class TransitionProblem(Problem):
    """A status change the work-order lifecycle does not allow."""

    status: Status = Field(description="The order's current status.")
    requested: Status
    allowed: list[Status] = Field(description="The statuses the order may move to from here.")


class Health(BaseModel):
    """`ok` when the API and its database answer and the service does its job; `degraded` or
    `failing` (with `reasons`) when the service's own checks say otherwise; and its counters."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded", "failing"]
    reasons: list[str] = []
