"""The server-sent event stream through a real server: changes arrive as they happen, a client
that reconnects with Last-Event-ID gets what it missed, a technician only their team's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from live_server import serving
from workorder_helpers import T0, finding, record

from devices import Plant
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app


@pytest.fixture
def served(reused_database_url: str, demo_plant: Plant) -> Iterator[tuple[WorkOrderStore, str]]:
    with (
        WorkOrderStore(reused_database_url, plant=demo_plant) as store,
        serving(create_app(store)) as url,
    ):
        yield store, url


def read_events(
    url: str, token: str, count: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with (
        httpx.Client(timeout=20) as client,
        client.stream(
            "GET",
            f"{url}/api/v1/events",
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        block: dict[str, Any] = {}
        for line in response.iter_lines():
            if line.startswith("id: "):
                block["id"] = int(line[4:])
            elif line.startswith("event: "):
                block["event"] = line[7:]
            elif line.startswith("data: "):
                block["data"] = json.loads(line[6:])
            elif line == "" and "data" in block:
                events.append(block)
                block = {}
                if len(events) == count:
                    break
    return events


def test_changes_stream_live_and_resume_after_a_reconnect(
    served: tuple[WorkOrderStore, str], demo_plant: Plant
) -> None:
    store, url = served
    token = store.access.create_token("pat", Role.PLANNER).secret
    got: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: got.extend(read_events(url, token, 3)))
    reader.start()
    time.sleep(0.5)  # the stream starts after the newest event
    order = record(store, finding(), demo_plant.equipment["P-103"]).order
    store.orders.acknowledge(order.number, by="ann")
    reader.join(timeout=30)
    assert [e["data"]["change"]["action"] for e in got] == ["created", "assigned", "acknowledged"]
    assert got[-1]["data"]["work_order"]["status"] == "acknowledged"
    assert all(e["event"] == "work_order" for e in got)
    # missed while disconnected: delivered on reconnect with Last-Event-ID
    store.orders.comment(order.number, by="ann", body="parts ordered")
    store.orders.start(order.number, by="ann")
    missed = read_events(url, token, 2, {"Last-Event-ID": str(got[-1]["id"])})
    assert [e["data"]["change"]["action"] for e in missed] == ["commented", "started"]
    assert missed[0]["data"]["change"]["note"] == "parts ordered"


def test_a_technician_s_stream_has_only_their_team_s_orders(
    served: tuple[WorkOrderStore, str], demo_plant: Plant
) -> None:
    store, url = served
    token = store.access.create_token("erik", Role.TECHNICIAN).secret  # rotating-equipment
    record(store, finding("P-103"), demo_plant.equipment["P-103"])  # mechanical
    record(store, finding("P-204", "flow", ts=T0 + 1), demo_plant.equipment["P-204"])
    events = read_events(url, token, 2, {"Last-Event-ID": "0"})
    assert {e["data"]["work_order"]["equipment_id"] for e in events} == {"P-204"}
    refused = httpx.get(f"{url}/api/v1/events")
    assert refused.status_code == 401
