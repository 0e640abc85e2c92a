"""Schemathesis generates requests from the OpenAPI document, valid and invalid, against every
operation as an admin on a store with orders, and runs all its checks on each answer: no 500,
every status and body as documented, invalid requests refused, valid ones accepted. Then the
hostile numbers JSON cannot carry (NaN, Infinity, 1e400) on every endpoint that takes a body."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from workorder_helpers import T0, finding

from devices import load_plant
from tests.conftest import DEMO_PLANT
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

schemathesis = pytest.importorskip("schemathesis")

# Rules a JSON schema cannot state, so a schema-valid request may still be refused with 422:
# a window must end after it starts, an analytics period's `until` must not be before its
# `since` (nor hold more than 500 steps), a token must expire in the future, an assignee must be
# one of the plant's people.
REFUSABLE = (
    "GET /api/v1/analytics/backlog",
    "GET /api/v1/analytics/throughput",
    "GET /api/v1/analytics/orders-by-line",
    "GET /api/v1/analytics/repeats",
    "GET /api/v1/analytics/pareto/failure-modes",
    "GET /api/v1/analytics/pareto/closing-causes",
    "POST /api/v1/maintenance-windows",
    "POST /api/v1/tokens",
    "POST /api/v1/work-orders/{number}/assign",
)
CROSS_FIELD_RULES = "".join(
    f"""
[[operations]]
include-name = "{operation}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""
    for operation in REFUSABLE
)

_dir = Path(tempfile.mkdtemp(prefix="ticketing-fuzz-"))
_plant = load_plant(DEMO_PLANT)
_store = WorkOrderStore.sqlite(_dir / "orders.db", plant=_plant)
for _k, _pump in enumerate(("P-101", "P-103", "P-204")):
    _store.orders.record(finding(_pump, ts=T0 + _k), _plant.equipment[_pump])
_store.access.add_webhook("fuzz", "http://127.0.0.1:9/hook", by="setup")
_token = _store.access.create_token("fuzzer", Role.ADMIN).secret
_app = create_app(_store)
_headers = {"Authorization": f"Bearer {_token}"}
_config = f"headers = {{ Authorization = {json.dumps(_headers['Authorization'])} }}\n"
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    _app,
    config=schemathesis.config.SchemathesisConfig.from_str(_config + CROSS_FIELD_RULES),
)


# Revoking its own token would leave the rest of the run with 401s only.
_fuzzed = schema.exclude(path="/api/v1/events").exclude(
    method="DELETE", path="/api/v1/tokens/{token_id}"
)


@_fuzzed.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_answer_passes_every_check(case: Any) -> None:
    case.call_and_validate()


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]


def _body_operations() -> list[tuple[str, str]]:
    document = _app.openapi()
    return [
        (method.upper(), path.replace("{number}", "WO-000001").replace("{", "1").replace("}", ""))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app, raise_server_exceptions=False)


def _problem_schema() -> dict[str, Any]:
    document = _app.openapi()
    return {"$ref": "#/components/schemas/Problem", "components": document["components"]}


@pytest.mark.parametrize(("method", "path"), _body_operations())
@pytest.mark.parametrize("number", NON_FINITE)
def test_a_non_finite_number_anywhere_in_a_body_is_a_422_with_a_reason(
    client: TestClient, method: str, path: str, number: str
) -> None:
    body = f'{{"description": "x", "nested": {{"values": [1.5, {number}]}}}}'
    response = client.request(
        method, path, content=body, headers={**_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    jsonschema_rs.validate(_problem_schema(), problem)
    assert problem["errors"] == [
        {
            "loc": ["body", "nested", "values", 1],
            "msg": f"{number} is not a finite number; give one within ±1.8e308 "
            "(NaN and Infinity are not JSON)",
            "type": "non_finite_number",
        }
    ]
    assert problem["detail"].startswith("body.nested.values.1: ")


def test_finite_numbers_and_valid_bodies_still_pass(client: TestClient) -> None:
    response = client.post(
        "/api/v1/work-orders/WO-000001/comments",
        json={"body": "bearing 1e3 h, 12.5 mm/s"},
        headers=_headers,
    )
    assert response.status_code == 201, response.text
    response = client.post(
        "/api/v1/work-orders/WO-000001/comments", json={"body": 1.5}, headers=_headers
    )
    assert response.status_code == 422
    problem = response.json()
    jsonschema_rs.validate(_problem_schema(), problem)
    assert problem["errors"][0]["loc"] == ["body", "body"]
    assert "input" not in problem["errors"][0]


def test_every_error_answer_is_documented_as_a_problem() -> None:
    document = _app.openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status, answer in responses.items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    refs = [s["$ref"] for s in schema.get("anyOf", [schema])]
                    # health's 503 is a Problem (no database) or the Health that says failing
                    assert any(r.endswith(("/Problem", "/TransitionProblem")) for r in refs), (
                        path,
                        status,
                    )
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), (method, path)


def test_a_wrong_method_names_every_allowed_one(client: TestClient) -> None:
    response = client.request("PUT", "/api/v1/work-orders", headers=_headers)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.json() == {"detail": "Method Not Allowed"}


def test_an_undecodable_body_is_a_400_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/work-orders",
        content=b"\xff\xfe\x00",
        headers={**_headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    jsonschema_rs.validate(_problem_schema(), response.json())
