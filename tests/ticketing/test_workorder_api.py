"""The REST API through FastAPI's TestClient over a real SQLite store, as a planner."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workorder_helpers import T0, finding, record

from devices import Plant, Severity
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

API = "/api/v1"


@pytest.fixture
def sqlite_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "db"
    directory.mkdir()
    return directory


@pytest.fixture
def api_store(sqlite_dir: Path, demo_plant: Plant) -> Iterator[WorkOrderStore]:
    with WorkOrderStore.sqlite(sqlite_dir / "orders.db", plant=demo_plant) as store:
        yield store


@pytest.fixture
def client(api_store: WorkOrderStore) -> Iterator[TestClient]:
    counters = {"pipeline": {"findings": 3}}
    secret = api_store.access.create_token("ann", Role.PLANNER).secret
    with TestClient(create_app(api_store, extra_status=lambda: counters)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


@pytest.fixture
def numbers(api_store: WorkOrderStore, demo_plant: Plant) -> dict[str, str]:
    """Orders for P-101 (VIB, then PDE) and P-103 (VIB), oldest first."""
    opened = {}
    for key, pump, signal in [
        ("P-101/VIB", "P-101", "vibration"),
        ("P-101/PDE", "P-101", "flow"),
        ("P-103/VIB", "P-103", "vibration"),
    ]:
        recorded = record(
            api_store,
            finding(pump, signal, severity=Severity.ALARM, ts=T0 + len(opened)),
            demo_plant.equipment[pump],
        )
        opened[key] = recorded.order.number
    return opened


def _numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [order["number"] for order in response.json()]


def test_list_puts_the_newest_first_and_filters(
    client: TestClient, numbers: dict[str, str]
) -> None:
    everything = _numbers(client.get(f"{API}/work-orders"))
    assert everything == [numbers["P-103/VIB"], numbers["P-101/PDE"], numbers["P-101/VIB"]]
    assert _numbers(client.get(f"{API}/work-orders", params={"equipment": "P-101"})) == [
        numbers["P-101/PDE"],
        numbers["P-101/VIB"],
    ]
    assert _numbers(client.get(f"{API}/work-orders", params={"limit": 1, "offset": 1})) == [
        numbers["P-101/PDE"]
    ]
    client.post(f"{API}/work-orders/{numbers['P-101/VIB']}/acknowledge")
    assert _numbers(client.get(f"{API}/work-orders", params={"status": "acknowledged"})) == [
        numbers["P-101/VIB"]
    ]
    assert _numbers(
        client.get(f"{API}/work-orders", params={"status": "open", "equipment": "P-101"})
    ) == [numbers["P-101/PDE"]]
    assert _numbers(client.get(f"{API}/work-orders", params={"equipment": "P-999"})) == []


def test_get_returns_the_whole_order(client: TestClient, numbers: dict[str, str]) -> None:
    response = client.get(f"{API}/work-orders/{numbers['P-101/PDE']}")
    assert response.status_code == 200
    order = response.json()
    assert order["number"] == numbers["P-101/PDE"]
    assert order["equipment_path"] == "demo/treatment/line-1/P-101"
    assert order["failure_mode_code"] == "PDE"
    assert order["severity"] == "alarm"
    assert order["priority"] == "urgent"  # alarm on a high-criticality pump
    assert order["status"] == "open"
    assert order["type"] == "predictive"
    assert (
        order["instructions"][0]
        == "Compare the operating point with the pump curve (head, flow, power)"
    )
    assert order["evidence"]["signals"] == ["flow"]
    assert order["evidence"]["severity"] == "alarm"
    assert order["evidence"]["points"]["flow"] == [[T0 + 1 - 1.0, 4.0], [T0 + 1, 4.2]]
    assert order["first_seen"] == "2025-11-24T16:00:01Z"
    created, due = (datetime.fromisoformat(order[k]) for k in ("created_at", "due_at"))
    assert due - created == timedelta(days=1)  # no prediction: the urgent service level
    assert order["team"] == "mechanical"
    # alice and chen have the hydraulics skill; alice already has P-101's VIB order
    assert order["assignee"] == "chen"
    assert order["ack_due_at"] is not None
    assert order["condition_active"] is True


def test_acknowledge_then_resolve(client: TestClient, numbers: dict[str, str]) -> None:
    number = numbers["P-103/VIB"]
    acknowledged = client.post(f"{API}/work-orders/{number}/acknowledge", json={"note": "seen"})
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == "ann"
    resolved = client.post(f"{API}/work-orders/{number}/resolve", json={"note": "regreased"})
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["resolved_by"], body["resolution_note"]) == (
        "closed",
        "ann",
        "regreased",
    )
    assert client.get(f"{API}/work-orders/{number}").json() == body


def test_unknown_numbers_are_404_with_a_reason(client: TestClient) -> None:
    for response in [
        client.get(f"{API}/work-orders/WO-999999"),
        client.post(f"{API}/work-orders/WO-999999/acknowledge"),
        client.post(f"{API}/work-orders/WO-999999/resolve", json={}),
    ]:
        assert response.status_code == 404
        assert response.json() == {"detail": "no work order 'WO-999999'"}
    assert "look like WO-000123" in client.get(f"{API}/work-orders/42").json()["detail"]


def test_refused_transitions_are_409_naming_the_allowed_ones(
    client: TestClient, numbers: dict[str, str]
) -> None:
    number = numbers["P-101/VIB"]
    client.post(f"{API}/work-orders/{number}/acknowledge")
    again = client.post(f"{API}/work-orders/{number}/acknowledge")
    assert again.status_code == 409
    body = again.json()
    assert body["status"] == "acknowledged"
    assert body["requested"] == "acknowledged"
    assert body["allowed"] == ["in_progress", "on_hold", "closed", "cancelled"]
    assert "in_progress, on_hold, closed, cancelled" in body["detail"]
    client.post(f"{API}/work-orders/{number}/resolve")
    closed = client.post(f"{API}/work-orders/{number}/resolve")
    assert closed.status_code == 409
    assert closed.json()["allowed"] == []
    assert "closed is final" in closed.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        ("get", "/work-orders?status=bogus", None, ["query", "status", 0]),
        ("get", "/work-orders?limit=0", None, ["query", "limit"]),
        ("get", "/work-orders?limit=1001", None, ["query", "limit"]),
        ("get", "/work-orders?limit=ten", None, ["query", "limit"]),
        ("get", "/work-orders?offset=-1", None, ["query", "offset"]),
        ("get", f"/work-orders?offset={10**30}", None, ["query", "offset"]),
        ("get", f"/work-orders/{'W' * 41}", None, ["path", "number"]),
        ("get", "/work-orders?sort=colour", None, ["query", "sort"]),
        ("get", "/work-orders?priority=soon", None, ["query", "priority", 0]),
        ("post", "/work-orders/WO-000001/acknowledge", {"note": 7}, ["body", "note"]),
        ("post", "/work-orders/WO-000001/acknowledge", {"note": "x" * 4001}, ["body", "note"]),
        ("post", "/work-orders/WO-000001/resolve", {"urgent": 1}, ["body", "urgent"]),
        ("post", "/work-orders/WO-000001/hold", {}, ["body", "reason"]),
        ("post", "/work-orders/WO-000001/hold", {"reason": "   "}, ["body", "reason"]),
        ("post", "/work-orders/WO-000001/cancel", None, ["body"]),
        ("post", "/work-orders/WO-000001/close", {"outcome": "maybe"}, ["body", "outcome"]),
        ("post", "/work-orders/WO-000001/assign", {"assignee": 3}, ["body", "assignee"]),
        ("post", "/work-orders", {"equipment_id": "P-101"}, ["body", "description"]),
        (
            "post",
            "/maintenance-windows",
            {
                "target": "demo",
                "reason": "x",
                "starts_at": "2026-01-01T06:00:00",
                "ends_at": "2026-01-01T08:00:00Z",
            },
            ["body", "starts_at"],
        ),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient,
    numbers: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    where: list[str],
) -> None:
    response = client.request(method, f"{API}{path}", json=body)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["errors"]] == [where]
    assert client.get(f"{API}/work-orders/WO-000001").json()["status"] == "open"


def test_malformed_json_is_422(client: TestClient, numbers: dict[str, str]) -> None:
    response = client.post(
        f"{API}/work-orders/{numbers['P-103/VIB']}/acknowledge",
        content=b"{by: ann",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422


def test_health_reports_ok_with_the_service_s_counters(client: TestClient) -> None:
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "reasons": [], "pipeline": {"findings": 3}}


def test_a_lost_database_is_503_not_500(
    client: TestClient, api_store: WorkOrderStore, sqlite_dir: Path
) -> None:
    api_store.close()
    shutil.rmtree(sqlite_dir)
    for path in ["/health", "/work-orders", "/work-orders/WO-000001"]:
        response = client.get(f"{API}{path}")
        assert response.status_code == 503, path
        assert "work-order database" in response.json()["detail"]
    metrics = client.get(f"{API}/metrics")
    assert metrics.status_code == 200
    assert "forewarn_ticketing_database_up 0.0" in metrics.text


def test_openapi_and_docs_are_served_with_descriptions(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "forewarn work orders"
    assert "one active order per equipment and failure mode" in spec["info"]["description"]
    assert {
        "/api/v1/work-orders",
        "/api/v1/work-orders/{number}",
        "/api/v1/work-orders/{number}/acknowledge",
        "/api/v1/work-orders/{number}/close",
        "/api/v1/alarms",
        "/api/v1/equipment",
        "/api/v1/maintenance-windows",
        "/api/v1/analytics/mtta",
        "/api/v1/events",
        "/api/v1/tokens",
        "/api/v1/webhooks",
        "/api/v1/audit",
        "/api/v1/health",
        "/api/v1/metrics",
    } <= set(spec["paths"])
    acknowledge = spec["paths"]["/api/v1/work-orders/{number}/acknowledge"]["post"]
    assert acknowledge["summary"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(acknowledge["responses"])
    assert acknowledge["security"] == [{"HTTPBearer": []}]
    assert {"work orders", "health", "webhooks", "analytics"} <= {t["name"] for t in spec["tags"]}
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_oversized_requests_are_refused_before_they_are_read(
    client: TestClient, numbers: dict[str, str]
) -> None:
    number = numbers["P-103/VIB"]
    body = {"body": "x" * 70_000}
    too_big = client.post(f"{API}/work-orders/{number}/comments", json=body)
    assert too_big.status_code == 413
    assert "larger than 65536 bytes" in too_big.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"body": "'
        for _ in range(20):
            yield b"y" * 4096
        yield b'"}'

    streamed = client.post(
        f"{API}/work-orders/{number}/comments",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413
    long_url = client.get(f"{API}/work-orders", params={"q": "z" * 9000})
    assert long_url.status_code == 414
    assert client.get(f"{API}/work-orders/{number}/comments").json() == []
