"""Alarms, findings, the audit trail, comments, maintenance windows, shelves, API tokens,
webhooks with their outbox, feedback; work orders gain assignment, lifecycle times, close codes
and stored escalation deadlines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}"))


def _severity(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        "severity IN ('warning', 'alarm', 'critical')", name=op.f(f"ck_{table}_severity")
    )


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _order_fk(ondelete: str, *, nullable: bool = True) -> sa.Column[int]:
    return sa.Column(
        "work_order_id",
        sa.Integer(),
        sa.ForeignKey("work_orders.id", ondelete=ondelete),
        nullable=nullable,
    )


def upgrade() -> None:
    _work_orders()
    op.create_table(
        "alarms",
        _id(),
        sa.Column("equipment_id", sa.String(200), nullable=False),
        sa.Column("failure_mode_code", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("detector", sa.String(200), nullable=False),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("acknowledged_at", WHEN, nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("raised_at", WHEN, nullable=False),
        sa.Column("cleared_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Text(), nullable=True),
        _order_fk("SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        _severity("alarms"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_alarms_equipment_id"), "alarms", ["equipment_id"])
    op.create_index(op.f("ix_alarms_work_order_id"), "alarms", ["work_order_id"])
    op.create_index(
        "uq_alarms_active_equipment_mode",
        "alarms",
        ["equipment_id", "failure_mode_code"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "findings",
        _id(),
        sa.Column(
            "alarm_id", sa.Integer(), sa.ForeignKey("alarms.id", ondelete="CASCADE"), nullable=True
        ),
        _order_fk("SET NULL"),
        sa.Column("equipment_id", sa.String(200), nullable=False),
        sa.Column("failure_mode_code", sa.String(50), nullable=False),
        sa.Column("detector", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("ts", WHEN, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("time_to_limit", sa.Double(), nullable=True),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("label", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        _severity("findings"),
        _one_of("findings", "label", ["confirmed", "false_alarm"]),
        sqlite_autoincrement=True,
    )
    for column in ("alarm_id", "work_order_id", "detector"):
        op.create_index(op.f(f"ix_findings_{column}"), "findings", [column])
    op.create_table(
        "audit_events",
        _id(),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        _order_fk("CASCADE"),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_work_order_id"), "audit_events", ["work_order_id"])
    op.create_table(
        "comments",
        _id(),
        _order_fk("CASCADE", nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_comments_work_order_id"), "comments", ["work_order_id"])
    op.create_table(
        "maintenance_windows",
        _id(),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("recurrence", sa.String(20), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("until", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
        _one_of("maintenance_windows", "recurrence", ["none", "daily", "weekly"]),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_maintenance_windows_ends_after_start")
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "shelves",
        _id(),
        sa.Column("equipment_id", sa.String(200), nullable=False),
        sa.Column("failure_mode_code", sa.String(50), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelves")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_shelves_equipment_id"), "shelves", ["equipment_id"])
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        _one_of("api_tokens", "role", ["technician", "planner", "admin"]),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhooks",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("name", name=op.f("uq_webhooks_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "outbox",
        _id(),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("qos", sa.Integer(), nullable=False),
        sa.Column("retain", sa.Boolean(), nullable=False),
        sa.Column(
            "webhook_id",
            sa.Integer(),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("event", sa.String(50), nullable=False),
        _order_fk("CASCADE"),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
        _one_of("outbox", "kind", ["webhook", "notify", "action_http", "action_mqtt"]),
        _one_of("outbox", "state", ["pending", "delivered", "failed"]),
        sqlite_autoincrement=True,
    )
    for column in ("webhook_id", "work_order_id", "state", "next_attempt_at"):
        op.create_index(op.f(f"ix_outbox_{column}"), "outbox", [column])
    op.create_table(
        "external_refs",
        sa.Column(
            "work_order_id",
            sa.Integer(),
            sa.ForeignKey("work_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "webhook_id",
            sa.Integer(),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "webhook_id", name=op.f("pk_external_refs")),
    )
    op.create_table(
        "sensitivity",
        sa.Column("equipment_id", sa.String(200), nullable=False),
        sa.Column("signal", sa.String(200), nullable=False),
        sa.Column("false_alarms", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("min_score", sa.Double(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("equipment_id", "signal", name=op.f("pk_sensitivity")),
    )


def _work_orders() -> None:
    columns: list[sa.Column[Any]] = [
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("reported_by", sa.String(200), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("done_at", WHEN, nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("found_failure_mode", sa.String(50), nullable=True),
        sa.Column("found_mechanism", sa.Text(), nullable=True),
        sa.Column("found_cause", sa.Text(), nullable=True),
        sa.Column("ack_due_at", WHEN, nullable=True),
        sa.Column("start_due_at", WHEN, nullable=True),
        sa.Column("start_overdue_at", WHEN, nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalated_at", WHEN, nullable=True),
        sa.Column("next_timer_at", WHEN, nullable=True),
    ]
    # Added in place (no table rebuild on SQLite, so the partial unique index stays as it is);
    # the outcome's values are checked by the application.
    for column in columns:
        op.add_column("work_orders", column)
    op.create_index(op.f("ix_work_orders_assignee"), "work_orders", ["assignee"])
    op.create_index(op.f("ix_work_orders_next_timer_at"), "work_orders", ["next_timer_at"])


def downgrade() -> None:
    for table in (
        "sensitivity",
        "external_refs",
        "outbox",
        "webhooks",
        "api_tokens",
        "shelves",
        "maintenance_windows",
        "comments",
        "audit_events",
        "findings",
        "alarms",
    ):
        op.drop_table(table)
    op.drop_index(op.f("ix_work_orders_next_timer_at"), "work_orders")
    op.drop_index(op.f("ix_work_orders_assignee"), "work_orders")
    for name in (
        "next_timer_at",
        "escalated_at",
        "escalation_level",
        "start_overdue_at",
        "start_due_at",
        "ack_due_at",
        "found_cause",
        "found_mechanism",
        "found_failure_mode",
        "outcome",
        "hold_reason",
        "done_at",
        "started_at",
        "assignee",
        "reported_by",
        "description",
    ):
        op.drop_column("work_orders", name)
