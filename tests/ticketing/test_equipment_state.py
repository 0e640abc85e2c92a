"""Each machine's state in the equipment tree (normal, finding without an order, open order, stale
or sensor fault, in a maintenance window), as the API gives it, on SQLite and PostgreSQL; and a
technician's tree, which holds their team's equipment and counts only the orders they see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from workorder_helpers import Clock, finding, record

from devices import FindingKind, Plant, Severity
from ticketing import Outcome, Recurrence, Role, WorkOrderStore
from ticketing.api import create_app
from ticketing.equipment_health import EquipmentHealth, MachineState


def test_the_first_state_that_holds_wins() -> None:
    assert EquipmentHealth().state is MachineState.NORMAL
    assert EquipmentHealth(active_alarms=1).state is MachineState.FINDING
    assert EquipmentHealth(active_alarms=1, active_orders=1).state is MachineState.ORDER
    faulty = EquipmentHealth(active_alarms=2, sensor_faults=1, active_orders=2)
    assert faulty.state is MachineState.SENSOR_FAULT
    assert EquipmentHealth(sensor_faults=1, window="overhaul").state is MachineState.WINDOW


def _states(client: TestClient) -> dict[str, dict[str, Any]]:
    tree = client.get("/api/v1/equipment")
    assert tree.status_code == 200, tree.text
    return {
        eq["id"]: eq["health"]
        for area in tree.json()["areas"]
        for line in area["lines"]
        for eq in line["equipment"]
    }


def test_each_machine_s_state_and_a_technician_s_tree(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    pumps = demo_plant.equipment
    now = clock.now.timestamp()
    order = record(plant_store, finding("P-101", severity=Severity.ALARM, ts=now), pumps["P-101"])
    record(plant_store, finding("P-102", kind=FindingKind.SENSOR, ts=now), pumps["P-102"])
    plant_store.planning.shelve(
        "P-103", reason="sensor swap", expires_at=clock.now + timedelta(days=1), by="pat"
    )
    assert plant_store.orders.record(finding("P-103", ts=now), pumps["P-103"]) is None
    # a daily window from 08:00 to 10:00 that began yesterday covers line 2 at 09:00 today
    plant_store.planning.add_window(
        "demo/treatment/line-2",
        starts_at=clock.now - timedelta(days=1, hours=1),
        ends_at=clock.now - timedelta(days=1) + timedelta(hours=1),
        recurrence=Recurrence.DAILY,
        reason="filter backwash",
        by="pat",
    )
    planner = plant_store.access.create_token("pat", Role.PLANNER).secret
    technician = plant_store.access.create_token("bruno", Role.TECHNICIAN).secret
    other_team = plant_store.access.create_token("erik", Role.TECHNICIAN).secret
    with TestClient(create_app(plant_store)) as client:
        client.headers["Authorization"] = f"Bearer {planner}"
        health = _states(client)
        assert len(health) == len(demo_plant)
        assert {eq: h["state"] for eq, h in health.items() if h["state"] != "normal"} == {
            "P-101": "order",
            "P-102": "sensor_fault",
            "P-103": "finding",
            **{f"P-20{k}": "window" for k in range(1, 6)},
        }
        assert health["P-101"] == {
            "state": "order",
            "status": "alarm",
            "active_alarms": 1,
            "sensor_faults": 0,
            "active_orders": 1,
            "top_priority": "urgent",
            "window": None,
        }
        assert (health["P-102"]["sensor_faults"], health["P-103"]["active_orders"]) == (1, 0)
        assert health["P-201"]["window"] == "filter backwash"
        one = client.get("/api/v1/equipment/P-103")
        assert one.json()["health"]["state"] == "finding"

        client.headers["Authorization"] = f"Bearer {technician}"
        mine = _states(client)
        assert sorted(mine) == ["P-101", "P-102", "P-103", "P-104", "P-105"]
        assert mine["P-101"]["state"] == "order"
        client.headers["Authorization"] = f"Bearer {other_team}"
        assert sorted(_states(client)) == [f"P-20{k}" for k in range(1, 6)]
        assert client.get("/api/v1/equipment/P-101").json()["health"]["state"] == "normal"

        # moved to the other team, P-101's order leaves bruno's tree: its finding stays
        plant_store.orders.assign(
            order.order.number, assignee=None, team="rotating-equipment", by="pat"
        )
        client.headers["Authorization"] = f"Bearer {technician}"
        assert _states(client)["P-101"]["state"] == "finding"
        client.headers["Authorization"] = f"Bearer {planner}"
        assert _states(client)["P-101"]["state"] == "order"

        # closed, then its condition cleared: P-101 is normal again
        plant_store.orders.close_order(order.order.number, by="pat", outcome=Outcome.CONFIRMED)
        assert _states(client)["P-101"]["state"] == "finding"
        cleared = finding("P-101", severity=Severity.ALARM, ts=now + 60, active=False)
        plant_store.orders.record(cleared, pumps["P-101"])
        assert _states(client)["P-101"] == {
            "state": "normal",
            "status": "ok",
            "active_alarms": 0,
            "sensor_faults": 0,
            "active_orders": 0,
            "top_priority": None,
            "window": None,
        }
