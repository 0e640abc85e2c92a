"""Alembic environment: runs on the connection `ticketing.database` puts in the configuration."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ticketing.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the work-order migrations run through ticketing.database.upgrade (or with an Alembic "
        "Config from ticketing.database.alembic_config), not from the alembic command line"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
