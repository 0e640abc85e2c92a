"""The work-order store on SQLite and PostgreSQL: opening, deduplication, clearing, the lifecycle
operations and the database's own guard of one active order per equipment and failure mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from workorder_helpers import T0, finding, order_row, record

from devices import FindingKind, Plant, Severity
from ticketing import (
    InvalidTransition,
    Priority,
    Status,
    StorageError,
    TicketingError,
    WorkOrderNotFound,
    WorkOrderStore,
    WorkOrderType,
)
from ticketing.database import create_engine_for
from ticketing.models import WorkOrderRow

HOUR = 3600.0


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_a_finding_opens_an_order_for_the_equipment_s_team_with_the_mode_s_checks(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    recorded = record(
        store, finding(severity=Severity.WARNING, time_to_limit=30 * HOUR, score=0.7), pump
    )
    assert recorded.created
    order = recorded.order
    assert order.number == f"WO-{order.id:06d}"
    assert order.equipment_id == "P-103"
    assert order.equipment_path == "demo/treatment/line-1/P-103"
    assert order.equipment_type == "centrifugal_pump"
    assert order.team == "mechanical"
    assert (order.failure_mode_code, order.failure_mode_name) == ("VIB", "Abnormal vibration")
    assert order.mechanism == "Bearing wear"
    assert order.type is WorkOrderType.PREDICTIVE
    assert order.status is Status.OPEN
    assert order.severity is Severity.WARNING
    assert order.priority is Priority.MEDIUM  # warning on a medium-criticality pump, > 24 h left
    assert order.title == "Abnormal vibration on P-103"
    assert order.instructions == pump.failure_modes[0].checks
    assert order.finding_count == 1
    assert order.first_seen == order.last_seen == at(T0)
    assert order.first_seen.tzinfo is UTC
    assert order.due_at == at(T0 + 30 * HOUR)
    assert order.condition_active
    assert order.created_at.tzinfo is UTC
    assert order.acknowledged_at is None
    assert order.resolved_at is None
    evidence = order.evidence
    assert (evidence.detector, evidence.kind, evidence.signals) == (
        "ewma_drift",
        FindingKind.DRIFT,
        ("vibration",),
    )
    assert evidence.score == 0.7
    assert evidence.time_to_limit == 30 * HOUR
    assert evidence.points == {"vibration": ((T0 - 1.0, 4.0), (T0, 4.2))}
    assert store.orders.get(order.number) == order


def test_repeated_findings_update_one_order(store: WorkOrderStore, demo_plant: Plant) -> None:
    pump = demo_plant.equipment["P-103"]
    first = record(store, finding(ts=T0, severity=Severity.WARNING), pump)
    second = record(
        store,
        finding(ts=T0 + 60, severity=Severity.ALARM, time_to_limit=10 * HOUR, summary="worse"),
        pump,
    )
    third = record(
        store,
        finding(ts=T0 + 120, severity=Severity.WARNING, time_to_limit=40 * HOUR, summary="calm"),
        pump,
    )
    assert first.created
    assert not second.created
    assert not third.created
    order = third.order
    assert order.number == first.order.number
    assert order.finding_count == 3
    assert order.first_seen == at(T0)
    assert order.last_seen == at(T0 + 120)
    assert order.severity is Severity.ALARM  # the worst so far, not the latest
    assert second.order.priority is Priority.URGENT  # alarm limit predicted within 24 h
    assert order.priority is Priority.URGENT  # never falls
    assert order.due_at == at(T0 + 60 + 10 * HOUR)  # the earliest prediction stands
    assert order.evidence.summary == "calm"  # the latest evidence
    assert [o.number for o in store.orders.list()] == [order.number]


def test_an_older_finding_arriving_late_counts_but_keeps_the_latest_evidence(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    record(store, finding(ts=T0, summary="first"), pump)
    record(store, finding(ts=T0 + 60, summary="latest"), pump)
    late = record(store, finding(ts=T0 - 60, summary="late"), pump)
    assert late.order.finding_count == 3
    assert (late.order.first_seen, late.order.last_seen) == (at(T0 - 60), at(T0 + 60))
    assert late.order.evidence.summary == "latest"


def test_different_failure_modes_of_one_pump_open_separate_orders(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-204"]
    vibration = record(store, finding("P-204", "vibration"), pump)
    flow = record(store, finding("P-204", "flow", severity=Severity.ALARM), pump)
    again = record(store, finding("P-204", "bearing_temp", ts=T0 + 5), pump)
    assert vibration.created
    assert flow.created
    assert not again.created
    assert vibration.order.failure_mode_code == "VIB"
    assert flow.order.failure_mode_code == "PDE"
    assert flow.order.team == "rotating-equipment"
    assert again.order.number == vibration.order.number  # bearing temperature points to VIB too
    assert {o.failure_mode_code for o in store.orders.list(equipment_id="P-204")} == {"VIB", "PDE"}


def test_after_resolve_a_new_finding_opens_a_new_order(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    first = record(store, finding(ts=T0), pump)
    closed = store.orders.resolve(first.order.number, by="ann", note="replaced the bearing")
    assert closed.status is Status.CLOSED
    assert (closed.resolved_by, closed.resolution_note) == ("ann", "replaced the bearing")
    assert closed.resolved_at is not None
    again = record(store, finding(ts=T0 + 24 * HOUR), pump)
    assert again.created
    assert again.order.number != first.order.number
    assert again.order.finding_count == 1
    assert store.orders.get(first.order.number).status is Status.CLOSED
    assert [o.number for o in store.orders.list(status=Status.OPEN)] == [again.order.number]


def test_a_cleared_sensor_fault_closes_its_order_by_itself(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    opened = record(store, finding(kind=FindingKind.SENSOR, signal="flow"), pump)
    assert opened.order.failure_mode_code == "AIR"
    cleared = record(store, finding(kind=FindingKind.SENSOR, signal="flow", active=False), pump)
    assert not cleared.created
    order = cleared.order
    assert order.number == opened.order.number
    assert order.status is Status.CLOSED
    assert not order.condition_active
    assert (order.resolved_by, order.resolution_note) == ("forewarn", "condition cleared")
    assert order.finding_count == 1


def test_a_cleared_vibration_stays_open_until_someone_resolves_it(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    opened = record(store, finding(), pump)
    cleared = record(store, finding(ts=T0 + 60, active=False), pump)
    assert cleared.order.number == opened.order.number
    assert cleared.order.status is Status.OPEN
    assert not cleared.order.condition_active
    assert cleared.order.finding_count == 1
    back = record(store, finding(ts=T0 + 120), pump)
    assert back.order.number == opened.order.number
    assert back.order.condition_active
    assert back.order.finding_count == 2


def test_a_cleared_finding_without_an_order_does_nothing(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    assert store.orders.record(finding(active=False), demo_plant.equipment["P-103"]) is None
    assert store.orders.list() == []


def test_list_filters_pages_and_puts_the_newest_first(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    numbers = []
    for i, pump_id in enumerate(["P-101", "P-102", "P-103", "P-201"]):
        recorded = record(store, finding(pump_id, ts=T0 + i), demo_plant.equipment[pump_id])
        numbers.append(recorded.order.number)
    store.orders.acknowledge(numbers[1], by="ann")
    newest_first = numbers[::-1]
    assert [o.number for o in store.orders.list()] == newest_first
    assert [o.number for o in store.orders.list(limit=2)] == newest_first[:2]
    assert [o.number for o in store.orders.list(limit=2, offset=2)] == newest_first[2:]
    assert [o.number for o in store.orders.list(offset=10)] == []
    assert [o.number for o in store.orders.list(status=Status.ACKNOWLEDGED)] == [numbers[1]]
    assert [o.number for o in store.orders.list(status=Status.OPEN, equipment_id="P-101")] == [
        numbers[0]
    ]
    assert store.orders.list(equipment_id="P-999") == []
    with pytest.raises(ValueError, match="limit"):
        store.orders.list(limit=0)
    with pytest.raises(ValueError, match="offset"):
        store.orders.list(offset=-1)


def test_acknowledge_records_who_and_refuses_a_second_time(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    recorded = record(store, finding(), demo_plant.equipment["P-103"])
    number = recorded.order.number
    acknowledged = store.orders.acknowledge(number, by="  ann  ")
    assert acknowledged.status is Status.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == "ann"
    assert acknowledged.acknowledged_at is not None
    assert acknowledged.acknowledged_at - datetime.now(UTC) < timedelta(minutes=1)
    assert store.orders.get(number) == acknowledged
    with pytest.raises(InvalidTransition, match="in_progress, on_hold, closed, cancelled") as e:
        store.orders.acknowledge(number, by="bob")
    assert number in str(e.value)
    assert store.orders.get(number).acknowledged_by == "ann"
    with pytest.raises(ValueError, match="who"):
        store.orders.acknowledge(number, by=" ")


def test_resolving_a_closed_order_is_refused(store: WorkOrderStore, demo_plant: Plant) -> None:
    recorded = record(store, finding(), demo_plant.equipment["P-103"])
    store.orders.resolve(recorded.order.number, by="ann")
    with pytest.raises(InvalidTransition, match="closed is final"):
        store.orders.resolve(recorded.order.number, by="bob")
    assert store.orders.get(recorded.order.number).resolved_by == "ann"


@pytest.mark.parametrize("number", ["WO-999999", "wo-1", ""])
def test_unknown_numbers_are_not_found(store: WorkOrderStore, number: str) -> None:
    with pytest.raises(WorkOrderNotFound, match="no work order"):
        store.orders.get(number)
    with pytest.raises(WorkOrderNotFound):
        store.orders.acknowledge(number, by="ann")
    with pytest.raises(WorkOrderNotFound):
        store.orders.resolve(number, by="ann")


def test_a_finding_recorded_against_other_equipment_is_refused(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    with pytest.raises(TicketingError, match="pass the equipment the finding is about"):
        store.orders.record(finding("P-101"), demo_plant.equipment["P-103"])


def test_non_finite_numbers_in_evidence_are_stored_as_missing(
    store: WorkOrderStore, demo_plant: Plant
) -> None:
    nan, inf = float("nan"), float("inf")
    recorded = record(
        store,
        finding(score=nan, time_to_limit=inf, evidence={"vibration": ((T0, nan), (T0 + 1, 4.0))}),
        demo_plant.equipment["P-103"],
    )
    order = store.orders.get(recorded.order.number)
    # No usable prediction: due from the priority's service level (a week for medium).
    assert order.due_at == order.created_at + timedelta(days=7)
    assert order.evidence is not None
    assert order.evidence.time_to_limit is None
    [(ts0, v0), (ts1, v1)] = order.evidence.points["vibration"]
    assert (ts0, ts1, v1) == (T0, T0 + 1, 4.0)
    assert v0 != v0  # NaN comes back as NaN


def test_the_database_itself_refuses_a_second_active_order(
    store: WorkOrderStore, database_url: str, demo_plant: Plant
) -> None:
    record(store, finding(), demo_plant.equipment["P-103"])
    engine = create_engine_for(database_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                insert(WorkOrderRow).values(**order_row("P-103", "VIB", Status.OPEN))
            )
        with engine.begin() as connection:
            connection.execute(
                insert(WorkOrderRow).values(**order_row("P-103", "VIB", Status.CLOSED))
            )
            connection.execute(
                insert(WorkOrderRow).values(**order_row("P-103", "PDE", Status.DONE))
            )
            active = connection.scalar(
                select(func.count())
                .select_from(WorkOrderRow)
                .where(WorkOrderRow.equipment_id == "P-103", WorkOrderRow.status != Status.CLOSED)
            )
        assert active == 2
    finally:
        engine.dispose()


def test_opening_a_sqlite_file_in_a_missing_directory_says_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="directory exists and is writable"):
        WorkOrderStore.sqlite(tmp_path / "missing" / "orders.db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://db/orders", "unsupported database 'mysql'"),
        ("sqlite://", "in-memory SQLite"),
        ("sqlite:///:memory:", "in-memory SQLite"),
    ],
)
def test_unusable_urls_are_refused_with_what_to_write(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        WorkOrderStore(url)


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    url = "postgresql+psycopg://forewarn:s3cret@127.0.0.1:1/orders?connect_timeout=2"
    with pytest.raises(StorageError, match="check that the server runs") as raised:
        WorkOrderStore(url)
    assert "s3cret" not in str(raised.value)
    assert "127.0.0.1:1" in str(raised.value)
