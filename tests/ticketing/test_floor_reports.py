"""From the floor, through the API: labels with QR codes, a report with a photo, a progress code
that resolves without a token and shows nothing else of the plant."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from devices import Plant
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app
from ticketing.store_floor import CODE_ALPHABET, CODE_LENGTH

API = "/api/v1"
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360f8cf000000030101005d1a8b7e0000000049454e44ae426082"
    )
).decode()


@pytest.fixture
def served(tmp_path: Path, demo_plant: Plant) -> Iterator[tuple[WorkOrderStore, TestClient]]:
    with (
        WorkOrderStore.sqlite(tmp_path / "orders.db", plant=demo_plant) as store,
        TestClient(create_app(store)) as client,
    ):
        yield store, client


def _as(store: WorkOrderStore, name: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {store.access.create_token(name, role).secret}"}


def test_a_report_with_a_photo_gets_a_code_its_public_page_resolves(
    served: tuple[WorkOrderStore, TestClient],
) -> None:
    store, client = served
    bruno = _as(store, "bruno", Role.TECHNICIAN)
    response = client.post(
        f"{API}/equipment/P-103/reports",
        json={"note": "Grinding noise at the drive end", "photo": f"data:image/png;base64,{PNG}"},
        headers=bruno,
    )
    assert response.status_code == 201, response.text
    made = response.json()
    code = made["progress_code"]
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert made["progress_url"].endswith(f"/p/{code}")
    order = store.orders.get(made["number"])
    assert (order.type.value, order.description, order.reported_by) == (
        "corrective",
        "Grinding noise at the drive end",
        "bruno",
    )
    assert store.floor.photos(made["number"]) == [(1, "image/png")]

    public = client.get(f"{API}/progress/{code.lower()}")  # no token; case does not matter
    assert public.status_code == 200
    assert set(public.json()) == {"code", "number", "status", "expected_at", "updated_at", "done"}
    assert public.json()["status"] == "open"
    page = client.get(f"/p/{code}")
    assert page.status_code == 200
    assert made["number"] in page.text
    assert "P-103" not in page.text  # nothing else of the plant
    assert "Grinding" not in page.text
    store.orders.close_order(made["number"], by="pat")
    assert client.get(f"{API}/progress/{code}").json()["done"] is True
    assert client.get("/p/ZZZZZZZZ").status_code == 404
    assert client.get(f"{API}/progress/ZZZZZZZZ").status_code == 404


def test_bad_reports_are_refused_saying_what_to_fix(
    served: tuple[WorkOrderStore, TestClient],
) -> None:
    store, client = served
    bruno = _as(store, "bruno", Role.TECHNICIAN)
    url = f"{API}/equipment/P-103/reports"
    assert client.post(url, json={"note": "x"}).status_code == 401
    bad = client.post(url, json={"note": "x", "photo": "not a data url"}, headers=bruno)
    assert bad.status_code == 422
    assert "data URL" in bad.json()["detail"]
    gif = client.post(
        url, json={"note": "x", "photo": f"data:image/gif;base64,{PNG}"}, headers=bruno
    )
    assert gif.status_code == 422
    assert "image/jpeg" in gif.json()["detail"]
    missing = client.post(f"{API}/equipment/P-999/reports", json={"note": "x"}, headers=bruno)
    assert missing.status_code == 404
    assert store.orders.count() == 0


def test_labels_carry_a_qr_code_of_each_machine_s_page(
    served: tuple[WorkOrderStore, TestClient], demo_plant: Plant
) -> None:
    store, client = served
    labels = client.get(f"{API}/labels", headers=_as(store, "pat", Role.PLANNER)).json()
    assert [label["equipment_id"] for label in labels] == [eq.id for eq in demo_plant]
    first = labels[0]
    assert first["url"] == f"http://testserver/#/machine/{first['equipment_id']}"
    assert first["svg"].startswith("<svg")
    line = client.get(
        f"{API}/labels",
        params={"under": "demo/treatment/line-2"},
        headers=_as(store, "erik", Role.PLANNER),
    ).json()
    assert {label["equipment_id"] for label in line} == {f"P-20{i}" for i in range(1, 6)}
