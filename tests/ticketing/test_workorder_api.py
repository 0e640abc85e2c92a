"""The REST API through FastAPI's TestClient over a real SQLite store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workorder_helpers import T0, finding, record

from devices import Plant, Severity
from ticketing import WorkOrderStore
from ticketing.api import create_app

API = "/api/v1"


@pytest.fixture
def sqlite_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "db"
    directory.mkdir()
    return directory


@pytest.fixture
def api_store(sqlite_dir: Path) -> Iterator[WorkOrderStore]:
    with WorkOrderStore.sqlite(sqlite_dir / "orders.db") as store:
        yield store


@pytest.fixture
def client(api_store: WorkOrderStore) -> Iterator[TestClient]:
    counters = {"pipeline": {"findings": 3}, "status": "overridden?"}
    with TestClient(create_app(api_store, extra_status=lambda: counters)) as test_client:
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
    client.post(f"{API}/work-orders/{numbers['P-101/VIB']}/acknowledge", json={"by": "ann"})
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
    assert order["due_at"] is None
    assert order["condition_active"] is True


def test_acknowledge_then_resolve(client: TestClient, numbers: dict[str, str]) -> None:
    number = numbers["P-103/VIB"]
    acknowledged = client.post(f"{API}/work-orders/{number}/acknowledge", json={"by": "ann"})
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == "ann"
    resolved = client.post(
        f"{API}/work-orders/{number}/resolve", json={"by": "bob", "note": "regreased"}
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["resolved_by"], body["resolution_note"]) == (
        "closed",
        "bob",
        "regreased",
    )
    assert client.get(f"{API}/work-orders/{number}").json() == body


def test_unknown_numbers_are_404_with_a_reason(client: TestClient) -> None:
    for response in [
        client.get(f"{API}/work-orders/WO-999999"),
        client.post(f"{API}/work-orders/WO-999999/acknowledge", json={"by": "ann"}),
        client.post(f"{API}/work-orders/WO-999999/resolve", json={"by": "ann"}),
    ]:
        assert response.status_code == 404
        assert response.json() == {"detail": "no work order 'WO-999999'"}
    assert "look like WO-000123" in client.get(f"{API}/work-orders/42").json()["detail"]


def test_refused_transitions_are_409_naming_the_allowed_ones(
    client: TestClient, numbers: dict[str, str]
) -> None:
    number = numbers["P-101/VIB"]
    client.post(f"{API}/work-orders/{number}/acknowledge", json={"by": "ann"})
    again = client.post(f"{API}/work-orders/{number}/acknowledge", json={"by": "bob"})
    assert again.status_code == 409
    body = again.json()
    assert body["status"] == "acknowledged"
    assert body["requested"] == "acknowledged"
    assert body["allowed"] == ["in_progress", "on_hold", "closed", "cancelled"]
    assert "in_progress, on_hold, closed, cancelled" in body["detail"]
    client.post(f"{API}/work-orders/{number}/resolve", json={"by": "ann"})
    closed = client.post(f"{API}/work-orders/{number}/resolve", json={"by": "ann"})
    assert closed.status_code == 409
    assert closed.json()["allowed"] == []
    assert "closed is final" in closed.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        ("get", "/work-orders?status=bogus", None, ["query", "status"]),
        ("get", "/work-orders?limit=0", None, ["query", "limit"]),
        ("get", "/work-orders?limit=1001", None, ["query", "limit"]),
        ("get", "/work-orders?limit=ten", None, ["query", "limit"]),
        ("get", "/work-orders?offset=-1", None, ["query", "offset"]),
        ("get", f"/work-orders?offset={10**30}", None, ["query", "offset"]),
        ("get", f"/work-orders/{'W' * 41}", None, ["path", "number"]),
        ("post", "/work-orders/WO-000001/acknowledge", {}, ["body", "by"]),
        ("post", "/work-orders/WO-000001/acknowledge", {"by": "   "}, ["body", "by"]),
        ("post", "/work-orders/WO-000001/acknowledge", {"by": "x" * 201}, ["body", "by"]),
        ("post", "/work-orders/WO-000001/acknowledge", {"by": 7}, ["body", "by"]),
        ("post", "/work-orders/WO-000001/resolve", {"by": "ann", "urgent": 1}, ["body", "urgent"]),
        ("post", "/work-orders/WO-000001/resolve", {"note": "done"}, ["body", "by"]),
        ("post", "/work-orders/WO-000001/resolve", None, ["body"]),
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
    assert [error["loc"] for error in response.json()["detail"]] == [where]
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
    assert response.json() == {"status": "ok", "pipeline": {"findings": 3}}


def test_a_lost_database_is_503_not_500(
    client: TestClient, api_store: WorkOrderStore, sqlite_dir: Path
) -> None:
    api_store.close()
    shutil.rmtree(sqlite_dir)
    for path in ["/health", "/work-orders", "/work-orders/WO-000001"]:
        response = client.get(f"{API}{path}")
        assert response.status_code == 503, path
        assert "work-order database" in response.json()["detail"]


def test_openapi_and_docs_are_served_with_descriptions(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "forewarn work orders"
    assert "one active order per equipment and failure mode" in spec["info"]["description"]
    assert set(spec["paths"]) == {
        "/api/v1/work-orders",
        "/api/v1/work-orders/{number}",
        "/api/v1/work-orders/{number}/acknowledge",
        "/api/v1/work-orders/{number}/resolve",
        "/api/v1/health",
    }
    acknowledge = spec["paths"]["/api/v1/work-orders/{number}/acknowledge"]["post"]
    assert acknowledge["summary"]
    assert {"200", "404", "409", "422"} <= set(acknowledge["responses"])
    assert {tag["name"] for tag in spec["tags"]} == {"work orders", "health"}
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
