"""What the order detail is made of, through the API: the evidence of every signal the order's
findings were about, the history in sentences, the signals' units and limits, the people with
their load for assignment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from workorder_helpers import T0, finding, record

from devices import Plant, Severity
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

API = "/api/v1"


@pytest.fixture
def served(tmp_path: Path, demo_plant: Plant) -> Iterator[tuple[WorkOrderStore, TestClient]]:
    with WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store:
        secret = store.access.create_token("pat", Role.PLANNER).secret
        with TestClient(create_app(store)) as client:
            client.headers["Authorization"] = f"Bearer {secret}"
            yield store, client


def test_the_signal_that_opened_the_order_keeps_its_evidence(
    served: tuple[WorkOrderStore, TestClient], demo_plant: Plant
) -> None:
    store, client = served
    pump = demo_plant.equipment["P-204"]
    pressure = tuple((T0 - 60 + i, 8.0 + i / 50) for i in range(60))
    flow = tuple((T0 + 60 + i, 60.0 - i / 10) for i in range(60))
    order = record(
        store,
        finding("P-204", "discharge_pressure", evidence={"discharge_pressure": pressure}),
        pump,
    ).order
    later = finding("P-204", "flow", ts=T0 + 120, evidence={"flow": flow})
    assert record(store, later, pump).order.number == order.number
    evidence = client.get(f"{API}/work-orders/{order.number}").json()["evidence"]
    assert set(evidence["points"]) == {"discharge_pressure", "flow"}
    assert evidence["signals"] == ["flow"]  # the latest finding's, with its summary
    assert evidence["points"]["discharge_pressure"][0] == [T0 - 60, 8.0]


def test_history_reads_in_sentences_with_people_s_names(
    served: tuple[WorkOrderStore, TestClient], demo_plant: Plant
) -> None:
    store, client = served
    order = record(store, finding("P-103"), demo_plant.equipment["P-103"]).order
    store.orders.acknowledge(order.number, by="alice")
    history = client.get(f"{API}/work-orders/{order.number}/history").json()
    sentences = [event["sentence"] for event in history]
    assert sentences[0].startswith("Forewarn opened the order: vibration drift on P-103")
    assert sentences[-1] == "Alice Martin acknowledged"
    assert not any("_at" in s or "resolution_note" in s for s in sentences)


def test_signals_come_with_unit_and_limits_and_people_with_their_load(
    served: tuple[WorkOrderStore, TestClient], demo_plant: Plant
) -> None:
    store, client = served
    pump = client.get(f"{API}/equipment/P-204").json()
    signals = {s["name"]: s for s in pump["signals"]}
    assert signals["discharge_pressure"] == {
        "name": "discharge_pressure",
        "unit": "bar",
        "warn_high": 9.0,
        "alarm_high": 10.0,
        "warn_low": 3.0,
        "alarm_low": 2.0,
    }
    order = record(store, finding("P-103", severity=Severity.ALARM), demo_plant.equipment["P-103"])
    assignee = order.order.assignee
    assert assignee is not None
    people = {p["id"]: p for p in client.get(f"{API}/people").json()["people"]}
    assert people[assignee]["open_orders"] == 1
    assert all(p["open_orders"] == 0 for name, p in people.items() if name != assignee)
