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
    Index,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from devices import Severity
from ticketing.base import WorkOrderType
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


def _enum(enum_class: type[enum.Enum], column: str) -> Enum:
    """A VARCHAR holding the enum's values, with a CHECK constraint named for the column (no
    native PostgreSQL type, so adding a value later is a plain migration)."""
    return Enum(
        enum_class,
        name=column,
        native_enum=False,
        create_constraint=True,
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
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT)
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
