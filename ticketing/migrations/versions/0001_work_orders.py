"""Work orders, with at most one active order per equipment and failure mode.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('open', 'acknowledged', 'in_progress', 'on_hold', 'done')"


def _one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_work_orders_{column}"))


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("equipment_id", sa.String(length=200), nullable=False),
        sa.Column("equipment_path", sa.Text(), nullable=False),
        sa.Column("equipment_type", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("failure_mode_code", sa.String(length=50), nullable=False),
        sa.Column("failure_mode_name", sa.Text(), nullable=False),
        sa.Column("mechanism", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("first_seen", when, nullable=False),
        sa.Column("last_seen", when, nullable=False),
        sa.Column("condition_active", sa.Boolean(), nullable=False),
        sa.Column("due_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("acknowledged_at", when, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", when, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_work_orders_number")),
        _one_of("type", ["predictive", "preventive", "corrective"]),
        _one_of("priority", ["urgent", "high", "medium", "low"]),
        _one_of("severity", ["warning", "alarm", "critical"]),
        _one_of(
            "status",
            ["open", "acknowledged", "in_progress", "on_hold", "done", "closed", "cancelled"],
        ),
        sa.CheckConstraint("finding_count >= 1", name=op.f("ck_work_orders_finding_count")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_work_orders_equipment_id"), "work_orders", ["equipment_id"])
    op.create_index(op.f("ix_work_orders_status"), "work_orders", ["status"])
    op.create_index(
        "uq_work_orders_active_equipment_mode",
        "work_orders",
        ["equipment_id", "failure_mode_code"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_table("work_orders")
