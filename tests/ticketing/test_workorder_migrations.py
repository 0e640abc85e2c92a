"""The shipped Alembic migrations: applied on open, idempotent, and in step with the models."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from workorder_helpers import T0, finding, order_row, record

from devices import Plant
from ticketing import Status, WorkOrderStore
from ticketing.database import alembic_config, create_engine_for, current_revision, head_revision
from ticketing.models import Base


def test_opening_a_store_twice_keeps_the_orders_and_the_revision_at_head(
    database_url: str, demo_plant: Plant
) -> None:
    with WorkOrderStore(database_url) as first:
        number = record(first, finding(), demo_plant.equipment["P-103"]).order.number
        assert first.revision == head_revision()
    with WorkOrderStore(database_url) as second:
        assert second.revision == head_revision()
        assert [o.number for o in second.orders.list()] == [number]
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision() == "0004"
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


def test_upgrading_a_0001_database_with_orders_keeps_them_working(
    database_url: str, demo_plant: Plant
) -> None:
    engine = create_engine_for(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            assert current_revision(connection) == "0001"
            for equipment, status in [("P-103", "open"), ("P-104", "closed")]:
                row = order_row(equipment, "VIB", Status(status))
                connection.execute(
                    text(
                        "INSERT INTO work_orders (equipment_id, equipment_path, equipment_type, "
                        "team, failure_mode_code, failure_mode_name, mechanism, type, priority, "
                        "severity, status, title, instructions, evidence, finding_count, "
                        "first_seen, last_seen, condition_active, created_at, updated_at, "
                        "resolution_note) VALUES (:e, :p, 'centrifugal_pump', 'mechanical', "
                        "'VIB', 'Abnormal vibration', 'Bearing wear', 'predictive', 'medium', "
                        "'warning', :s, 'VIB on it', 'check', :ev, 1, :t, :t, :a, :t, :t, '')"
                    ),
                    {
                        "e": equipment,
                        "p": row["equipment_path"],
                        "s": status,
                        "ev": json.dumps(row["evidence"]),
                        "t": row["first_seen"].replace(tzinfo=None)
                        if engine.dialect.name == "sqlite"
                        else row["first_seen"],
                        "a": status == "open",
                    },
                )
            connection.execute(
                text("UPDATE work_orders SET number = 'WO-' || lpad(cast(id AS text), 6, '0')")
                if engine.dialect.name == "postgresql"
                else text("UPDATE work_orders SET number = printf('WO-%06d', id)")
            )
    finally:
        engine.dispose()
    with WorkOrderStore(database_url, plant=demo_plant) as store:
        assert store.revision == head_revision()
        old_open, old_closed = store.orders.get("WO-000001"), store.orders.get("WO-000002")
        assert (old_open.status, old_closed.status) == (Status.OPEN, Status.CLOSED)
        assert (old_open.escalation_level, old_open.description, old_open.assignee) == (0, "", None)
        # a new finding updates the old open order (the partial unique index still holds)
        updated = record(store, finding(ts=T0 + 60), demo_plant.equipment["P-103"])
        assert not updated.created
        assert updated.order.number == "WO-000001"
        assert updated.order.finding_count == 2
        reopened = record(store, finding("P-104", ts=T0 + 60), demo_plant.equipment["P-104"])
        assert reopened.created
        assert reopened.order.number == "WO-000003"
        assert [a.work_order for a in store.alarms.list()] == ["WO-000003", "WO-000001"]
        assert store.orders.acknowledge("WO-000001", by="ann").status is Status.ACKNOWLEDGED
        # the floor reports of 0003 work on the upgraded database
        reported = store.floor.report("P-103", note="leaking at the seal", by="bruno")
        assert reported.recorded.order.number == "WO-000004"
        assert store.floor.progress(reported.code).number == "WO-000004"
