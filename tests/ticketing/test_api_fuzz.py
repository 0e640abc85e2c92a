"""Schemathesis generates requests from the OpenAPI document, valid and invalid, against every
operation as an admin on a store with orders: the API never answers 500."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from workorder_helpers import T0, finding

from devices import load_plant
from tests.conftest import DEMO_PLANT
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

schemathesis = pytest.importorskip("schemathesis")

_dir = Path(tempfile.mkdtemp(prefix="ticketing-fuzz-"))
_plant = load_plant(DEMO_PLANT)
_store = WorkOrderStore.sqlite(_dir / "orders.db", plant=_plant)
for _k, _pump in enumerate(("P-101", "P-103", "P-204")):
    _store.orders.record(finding(_pump, ts=T0 + _k), _plant.equipment[_pump])
_store.access.add_webhook("fuzz", "http://127.0.0.1:9/hook", by="setup")
_token = _store.access.create_token("fuzzer", Role.ADMIN).secret
_app = create_app(_store)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.exclude(path="/api/v1/events").parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error(case: object) -> None:
    response = case.call(headers={"Authorization": f"Bearer {_token}"})  # type: ignore[attr-defined]
    assert response.status_code < 500, (case, response.text)
