"""Alembic migrations of the work-order database; applied by `ticketing.database.upgrade`."""
