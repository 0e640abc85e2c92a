"""How many SQL statements recording one finding costs: pinned, so that a change which adds a
round trip to the pipeline's hot path fails here and says which statements it sends."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from statements import statements
from workorder_helpers import T0, finding

from devices import Plant
from ticketing import WorkOrderStore
from ticketing.recording import order_number

EXPECTED = {
    # a drift warning on P-103 (mechanical, three technicians): one SELECT of the active order
    # and alarm; windows, shelves, feedback and the technicians' loads; the order, its two audit
    # events, the webhooks, the alarm and the finding. SQLite adds BEGIN IMMEDIATE and sends
    # the audit events one by one; PostgreSQL adds the NOTIFY of the change feed.
    "new order": {"sqlite": 12, "postgresql": 11},
    # the SELECT, the order's audit event and UPDATE, the webhooks, the alarm, the finding
    "update": {"sqlite": 7, "postgresql": 7},
    "cleared": {"sqlite": 7, "postgresql": 7},
}


def test_recording_sends_the_pinned_statements(reused_database_url: str, demo_plant: Plant) -> None:
    pump = demo_plant.equipment["P-103"]
    with WorkOrderStore(reused_database_url, plant=demo_plant) as store:
        dialect = store.dialect
        sent = {}
        for case, found in [
            ("new order", finding(ts=T0)),
            ("update", finding(ts=T0 + 60)),
            ("cleared", finding(ts=T0 + 120, active=False)),
        ]:
            with statements(store) as sent[case]:
                store.orders.record(found, pump)
        order = store.orders.get(order_number(1))
        history = store.orders.findings(order.number)
        alarms = store.alarms.list()
    counts = {case: len(sent[case]) for case in EXPECTED}
    assert counts == {case: EXPECTED[case][dialect] for case in EXPECTED}, sent
    opened = sent["new order"]
    assert not [s for s in opened if s.startswith(("UPDATE", "SAVEPOINT"))], opened
    assert not [s for s in opened if s.startswith("SELECT work_orders.id")], "a second lookup"
    assert (order.finding_count, order.condition_active) == (2, False)
    assert [f.active for f in history] == [True, True, False]
    assert [(a.work_order, a.finding_count, a.active) for a in alarms] == [(order.number, 3, False)]


@pytest.mark.parametrize("first_id", [999_999, 1_000_000])
def test_the_number_assigned_in_the_insert_reads_as_its_id(
    reused_database_url: str, demo_plant: Plant, first_id: int
) -> None:
    with WorkOrderStore(reused_database_url, plant=demo_plant) as store:
        with store.write("move the order ids on") as tx:
            if store.dialect == "postgresql":
                tx.session.execute(
                    text("SELECT setval(pg_get_serial_sequence('work_orders', 'id'), :last)"),
                    {"last": first_id - 1},
                )
            else:
                tx.session.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES ('work_orders', :last)"),
                    {"last": first_id - 1},
                )
        recorded = store.orders.record(finding(ts=T0), demo_plant.equipment["P-103"])
        assert recorded is not None
        assert recorded.order.id == first_id
        assert recorded.order.number == order_number(first_id)
        assert store.orders.get(order_number(first_id)).id == first_id
