"""Request and response bodies of the API (pydantic), built from the store's records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from devices import FindingKind, Severity
from ticketing.base import WorkOrderType
from ticketing.lifecycle import Status
from ticketing.priority import Priority


def _severity_label(value: Any) -> Any:
    return value.label if isinstance(value, Severity) else value


SeverityLabel = Annotated[Literal["warning", "alarm", "critical"], BeforeValidator(_severity_label)]
Actor = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(description="Who does this: a person's name or login, or a system's name."),
]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class EvidenceOut(_Out):
    """The finding behind the latest update of a work order."""

    detector: str = Field(description="The detector that decided the finding.")
    kind: FindingKind
    signals: list[str]
    severity: SeverityLabel
    score: float = Field(description="Anomaly score in [0, 1]; 0.5 is where a condition starts.")
    summary: str
    ts: float = Field(description="Source time of the finding, seconds since the Unix epoch.")
    time_to_limit: float | None = Field(
        description="Seconds from `ts` until the signal is predicted to reach its alarm limit."
    )
    points: dict[str, list[tuple[float, float]]] = Field(
        description="Recent (ts, value) points per signal, oldest first."
    )


class WorkOrderOut(_Out):
    """A preventive work order; times are UTC."""

    number: str = Field(examples=["WO-000123"])
    equipment_id: str
    equipment_path: str = Field(description="ISA-95 path: site/area/line/equipment.")
    equipment_type: str
    team: str = Field(description="The maintenance team that owns the equipment.")
    failure_mode_code: str = Field(description="ISO 14224 failure-mode code, e.g. VIB.")
    failure_mode_name: str
    mechanism: str = Field(description="The likely failure mechanism.")
    type: WorkOrderType
    priority: Priority
    severity: SeverityLabel = Field(description="The worst severity of the findings so far.")
    status: Status
    title: str
    instructions: list[str] = Field(description="Recommended checks for this failure mode.")
    evidence: EvidenceOut
    finding_count: int = Field(description="Findings recorded on this order.")
    first_seen: datetime
    last_seen: datetime
    condition_active: bool = Field(description="Whether the detected condition still holds.")
    due_at: datetime | None = Field(
        description="When the signal is predicted to reach its alarm limit, if it is heading there."
    )
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Actor


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Actor
    note: str = Field(default="", max_length=4000, description="What was found and done.")


class Problem(BaseModel):
    """Why a request failed."""

    detail: str


class TransitionProblem(Problem):
    """A status change the work-order lifecycle does not allow."""

    status: Status = Field(description="The order's current status.")
    requested: Status
    allowed: list[Status] = Field(description="The statuses the order may move to from here.")


class Health(BaseModel):
    """`ok` when the API and its database answer, with the service's own counters."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok"]
