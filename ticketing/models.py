"""The database tables, as SQLAlchemy typed declarative models. Only the store uses them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from devices import Severity
from ticketing.base import (
    DeliveryKind,
    DeliveryState,
    Outcome,
    Recurrence,
    Role,
    WorkOrderType,
)
from ticketing.lifecycle import ACTIVE, Status
from ticketing.priority import Priority

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give times with a timezone (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _labels(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


def _enum(enum_class: type[enum.Enum], column: str, *, constraint: bool = True) -> Enum:
    """A VARCHAR holding the enum's values, with a CHECK constraint named for the column (no
    native PostgreSQL type, so adding a value later is a plain migration)."""
    return Enum(
        enum_class,
        name=column,
        native_enum=False,
        create_constraint=constraint,
        length=20,
        values_callable=_labels,
        validate_strings=True,
    )


class SeverityName(TypeDecorator[Severity]):
    """`devices.Severity` stored by its lowercase name (warning/alarm/critical)."""

    impl = String(10)
    cache_ok = True

    def process_bind_param(self, value: Severity | None, dialect: Dialect) -> str | None:
        return None if value is None else value.label

    def process_result_value(self, value: str | None, dialect: Dialect) -> Severity | None:
        return None if value is None else Severity[value.upper()]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")


class WorkOrderRow(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    """Set from the id in the transaction that inserts the row."""
    equipment_id: Mapped[str] = mapped_column(String(200), index=True)
    equipment_path: Mapped[str] = mapped_column(Text)
    equipment_type: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200))
    failure_mode_code: Mapped[str] = mapped_column(String(50))
    failure_mode_name: Mapped[str] = mapped_column(Text)
    mechanism: Mapped[str] = mapped_column(Text)
    type: Mapped[WorkOrderType] = mapped_column(_enum(WorkOrderType, "type"))
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "priority"))
    severity: Mapped[Severity] = mapped_column(SeverityName())
    status: Mapped[Status] = mapped_column(_enum(Status, "status"), index=True)
    title: Mapped[str] = mapped_column(Text)
    instructions: Mapped[str] = mapped_column(Text)
    """The failure mode's checks, one per line."""
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT, nullable=False)
    """The latest finding; JSON null for an order a person reported that no finding joined."""
    finding_count: Mapped[int]
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    condition_active: Mapped[bool]
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    """What a person reported (corrective orders)."""
    reported_by: Mapped[str | None] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hold_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "outcome", constraint=False))
    found_failure_mode: Mapped[str | None] = mapped_column(String(50))
    found_mechanism: Mapped[str | None] = mapped_column(Text)
    found_cause: Mapped[str | None] = mapped_column(Text)
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the order passed its time to start (the team lead was told then)."""
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    """The earliest stored deadline still to act on (escalation, time to start)."""

    __table_args__ = (
        CheckConstraint("severity IN ('warning', 'alarm', 'critical')", name="severity"),
        CheckConstraint("finding_count >= 1", name="finding_count"),
        {"sqlite_autoincrement": True},
    )


ACTIVE_ORDER = text(
    "status IN ({})".format(", ".join(f"'{s.value}'" for s in Status if s in ACTIVE))
)
"""SQL condition of an active order: where the partial unique index applies."""

Index(
    "uq_work_orders_active_equipment_mode",
    WorkOrderRow.equipment_id,
    WorkOrderRow.failure_mode_code,
    unique=True,
    sqlite_where=ACTIVE_ORDER,
    postgresql_where=ACTIVE_ORDER,
)


class AlarmRow(Base):
    """A condition episode of one equipment and failure mode (active/cleared x acknowledged)."""

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[str] = mapped_column(String(200), index=True)
    failure_mode_code: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    detector: Mapped[str] = mapped_column(String(200))
    signals: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)
    severity: Mapped[Severity] = mapped_column(SeverityName())
    active: Mapped[bool]
    acknowledged: Mapped[bool] = mapped_column(default=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """Source time of the finding that raised it."""
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finding_count: Mapped[int]
    suppressed: Mapped[str | None] = mapped_column(Text)
    """Why no work order was opened for it (maintenance window, shelved, feedback)."""
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = ({"sqlite_autoincrement": True},)


ACTIVE_ALARM = text("active")
"""SQL condition of an active alarm: where the partial unique index applies."""

Index(
    "uq_alarms_active_equipment_mode",
    AlarmRow.equipment_id,
    AlarmRow.failure_mode_code,
    unique=True,
    sqlite_where=ACTIVE_ALARM,
    postgresql_where=ACTIVE_ALARM,
)


class FindingRow(Base):
    """Every finding recorded: the history behind alarms and orders, and the labels of feedback."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int | None] = mapped_column(
        ForeignKey("alarms.id", ondelete="CASCADE"), index=True
    )
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), index=True
    )
    equipment_id: Mapped[str] = mapped_column(String(200))
    failure_mode_code: Mapped[str] = mapped_column(String(50))
    detector: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[Severity] = mapped_column(SeverityName())
    score: Mapped[float | None]
    signals: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)
    summary: Mapped[str] = mapped_column(Text)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool]
    time_to_limit: Mapped[float | None]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[Outcome | None] = mapped_column(_enum(Outcome, "label"))
    """Set when its order closes: confirmed or false_alarm."""

    __table_args__ = ({"sqlite_autoincrement": True},)


class AuditRow(Base):
    """One change: who or what, when, on what, before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(20))
    """technician, planner, admin, or system."""
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = ({"sqlite_autoincrement": True},)


class CommentRow(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = ({"sqlite_autoincrement": True},)


class FloorReportRow(Base):
    """A problem reported from the floor (a machine's label): the note, the photo, and the short
    progress code that lets whoever reported it follow the order without signing in."""

    __tablename__ = "floor_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    equipment_id: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(50))
    reported_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = ({"sqlite_autoincrement": True},)


class WindowRow(Base):
    """A maintenance window: findings inside it are recorded but open no order."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(Text)
    """An ISA-95 path prefix: site, site/area, site/area/line or site/area/line/equipment."""
    reason: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recurrence: Mapped[Recurrence] = mapped_column(_enum(Recurrence, "recurrence"))
    timezone: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        {"sqlite_autoincrement": True},
    )


class ShelfRow(Base):
    """A shelved equipment + failure mode: its findings open no order until it expires."""

    __tablename__ = "shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[str] = mapped_column(String(200), index=True)
    failure_mode_code: Mapped[str | None] = mapped_column(String(50))
    """None: every failure mode of the equipment."""
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = ({"sqlite_autoincrement": True},)


class TokenRow(Base):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    """Who uses it: a person id for technicians, any label for others."""
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    team: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = ({"sqlite_autoincrement": True},)


class WebhookRow(Base):
    """A receiver of work-order events (another CMMS, a chat bridge)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    """HMAC-SHA256 key of the signature header; shown once, when the webhook is created."""
    events: Mapped[list[str]] = mapped_column(JSON_DOCUMENT)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = ({"sqlite_autoincrement": True},)


class OutboxRow(Base):
    """A message to deliver, written in the transaction of the change it reports."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    """The idempotency key: the same on every attempt."""
    kind: Mapped[DeliveryKind] = mapped_column(_enum(DeliveryKind, "kind"))
    destination: Mapped[str] = mapped_column(String(200))
    """Webhook name, person id, or the action's target, for people to read."""
    url: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(Text)
    qos: Mapped[int] = mapped_column(default=1)
    retain: Mapped[bool] = mapped_column(default=False)
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(50))
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "state"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None]

    __table_args__ = ({"sqlite_autoincrement": True},)


class ExternalRefRow(Base):
    """The id a webhook receiver gave its own ticket for one of our orders."""

    __tablename__ = "external_refs"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    external_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SensitivityRow(Base):
    """Feedback per equipment + signal: false alarms raise the score a finding needs to open an
    order (bounded); confirmed findings lower it back."""

    __tablename__ = "sensitivity"

    equipment_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    signal: Mapped[str] = mapped_column(String(200), primary_key=True)
    false_alarms: Mapped[int] = mapped_column(default=0)
    confirmed: Mapped[int] = mapped_column(default=0)
    min_score: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShardLeaseRow(Base):
    """Which worker holds which shard of the plant until when (forewarn.leases): a row per shard,
    `owner` None when it is free."""

    __tablename__ = "shard_leases"

    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    owner: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ShardSnapshotRow(Base):
    """The newest detector state snapshot of a shard, written by the worker holding its lease, so
    whoever takes the shard over resumes where it stopped."""

    __tablename__ = "shard_snapshots"

    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(Text())
