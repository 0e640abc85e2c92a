"""Problems reported from the floor: note, photo and progress code per report.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "floor_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column(
            "work_order_id",
            sa.Integer(),
            sa.ForeignKey("work_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("equipment_id", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(50), nullable=True),
        sa.Column("reported_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor_reports")),
        sa.UniqueConstraint("code", name=op.f("uq_floor_reports_code")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_floor_reports_work_order_id"), "floor_reports", ["work_order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_floor_reports_work_order_id"), "floor_reports")
    op.drop_table("floor_reports")
