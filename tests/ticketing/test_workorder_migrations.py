"""The shipped Alembic migrations: applied on open, idempotent, and in step with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from workorder_helpers import finding, record

from devices import Plant
from ticketing import WorkOrderStore
from ticketing.database import create_engine_for, current_revision, head_revision
from ticketing.models import Base


def test_opening_a_store_twice_keeps_the_orders_and_the_revision_at_head(
    database_url: str, demo_plant: Plant
) -> None:
    with WorkOrderStore(database_url) as first:
        number = record(first, finding(), demo_plant.equipment["P-103"]).order.number
        assert first.revision == head_revision()
    with WorkOrderStore(database_url) as second:
        assert second.revision == head_revision()
        assert [o.number for o in second.list()] == [number]
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision() == "0002"
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models(store: WorkOrderStore, database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            indexes = {
                index["name"]: index for index in inspect(connection).get_indexes("work_orders")
            }
    finally:
        engine.dispose()
    assert differences == []
    guard = indexes["uq_work_orders_active_equipment_mode"]
    assert guard["unique"]
    assert guard["column_names"] == ["equipment_id", "failure_mode_code"]
