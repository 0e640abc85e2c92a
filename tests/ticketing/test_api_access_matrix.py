"""Every endpoint for every role, including the denials: no token and a bad token (401), a
technician of another team (403 on team-scoped orders), a technician where a planner is needed
(403), a planner where an admin is needed (403), and the roles that may (2xx). Each case runs on
SQLite and PostgreSQL; a denied request changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workorder_helpers import T0, finding, record

from devices import Plant, Severity
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

API = "/api/v1"
PRINCIPALS = ("anonymous", "bad token", "other technician", "technician", "planner", "admin")
TECHNICIANS = ("technician", "planner", "admin")
"""Any role; a technician only on their own team's orders."""
PLANNERS = ("planner", "admin")
ADMINS = ("admin",)
EVERYONE = PRINCIPALS
ROLE = {
    "anonymous": None,
    "bad token": None,
    "other technician": "technician",
    "technician": "technician",
    "planner": "planner",
    "admin": "admin",
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    allowed: tuple[str, ...]
    body: dict[str, Any] | None = None
    ok: int | tuple[int, ...] = 200

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


CASES = [
    Case("get", "/work-orders", TECHNICIANS),
    # the first report opens an order (201), the next ones update it (200)
    Case(
        "post",
        "/work-orders",
        TECHNICIANS,
        {"equipment_id": "P-102", "description": "noise"},
        (201, 200),
    ),
    Case("get", "/work-orders/{order}", TECHNICIANS),
    Case("get", "/work-orders/{order}/history", TECHNICIANS),
    Case("get", "/work-orders/{order}/findings", TECHNICIANS),
    Case("get", "/work-orders/{order}/comments", TECHNICIANS),
    Case("post", "/work-orders/{order}/comments", TECHNICIANS, {"body": "checked oil"}, 201),
    Case("post", "/work-orders/{order}/acknowledge", TECHNICIANS, {}),
    Case("post", "/work-orders/{order}/start", TECHNICIANS, {}),
    Case("post", "/work-orders/{order}/hold", TECHNICIANS, {"reason": "parts"}, 409),
    Case("post", "/work-orders/{started}/hold", TECHNICIANS, {"reason": "parts"}),
    Case("post", "/work-orders/{started}/done", TECHNICIANS, {"note": "replaced"}),
    Case("post", "/work-orders/{order}/assign", PLANNERS, {"assignee": "bruno"}),
    Case("post", "/work-orders/{order}/close", PLANNERS, {"outcome": "confirmed"}),
    Case("post", "/work-orders/{order}/resolve", PLANNERS, {"note": "fixed"}),
    Case("post", "/work-orders/{order}/cancel", PLANNERS, {"reason": "duplicate"}),
    Case("get", "/alarms", TECHNICIANS),
    Case("post", "/alarms/{alarm}/acknowledge", TECHNICIANS),
    Case("get", "/equipment", TECHNICIANS),
    Case("get", "/equipment/P-103", TECHNICIANS),
    Case("get", "/people", TECHNICIANS),
    Case("get", "/me", TECHNICIANS),
    Case("get", "/maintenance-windows", TECHNICIANS),
    Case(
        "post",
        "/maintenance-windows",
        PLANNERS,
        {
            "target": "demo/treatment/line-1",
            "starts_at": _later(1),
            "ends_at": _later(1.1),
            "reason": "shutdown",
        },
        201,
    ),
    Case("delete", "/maintenance-windows/{window}", PLANNERS),
    Case("get", "/shelves", TECHNICIANS),
    Case(
        "post",
        "/shelves",
        PLANNERS,
        {"equipment_id": "P-103", "reason": "sensor swap", "expires_at": _later(1)},
        201,
    ),
    Case("delete", "/shelves/{shelf}", PLANNERS),
    Case("get", "/analytics/mtta", PLANNERS),
    Case("get", "/analytics/mttr", PLANNERS),
    Case(
        "get",
        "/analytics/backlog?since=2026-01-01T00:00:00Z&until=2026-01-10T00:00:00Z",
        PLANNERS,
    ),
    Case(
        "get",
        "/analytics/throughput?since=2026-01-01T00:00:00Z&until=2026-01-10T00:00:00Z",
        PLANNERS,
    ),
    Case("get", "/analytics/backlog-by-team", PLANNERS),
    Case("get", "/analytics/outcomes", PLANNERS),
    Case("get", "/analytics/lead-time", PLANNERS),
    Case("get", "/analytics/top-failure-modes", PLANNERS),
    Case("get", "/analytics/detector-precision", PLANNERS),
    Case("get", "/audit", PLANNERS),
    Case("get", "/tokens", ADMINS),
    Case("post", "/tokens", ADMINS, {"name": "erp", "role": "planner"}, 201),
    Case("delete", "/tokens/{token}", ADMINS),
    Case("get", "/webhooks", ADMINS),
    Case("post", "/webhooks", ADMINS, {"name": "erp", "url": "http://127.0.0.1:9/hook"}, 201),
    Case("delete", "/webhooks/{webhook}", ADMINS),
    Case("get", "/deliveries", ADMINS),
    Case("post", "/deliveries/{delivery}/retry", ADMINS, None, 204),
    Case("get", "/health", EVERYONE),
    Case("get", "/metrics", EVERYONE),
]
TEAM_SCOPED = {"{order}", "{started}", "{alarm}"}
"""Placeholders naming things of the mechanical team, which the other technician may not touch."""


class World:
    """A store with the demo plant, a token per role and a fresh order for each use."""

    def __init__(self, store: WorkOrderStore, plant: Plant) -> None:
        self.store = store
        self.plant = plant
        self.secrets = {
            "technician": store.access.create_token("alice", Role.TECHNICIAN).secret,
            "other technician": store.access.create_token("erik", Role.TECHNICIAN).secret,
            "planner": store.access.create_token("pat", Role.PLANNER).secret,
            "admin": store.access.create_token("root", Role.ADMIN).secret,
            "bad token": "fwt_" + "x" * 43,
        }
        self._equipment = itertools.cycle(["P-103", "P-104", "P-105", "P-101", "P-102"])
        self._ts = itertools.count()

    def order(self) -> str:
        """A fresh open order of the mechanical team."""
        while True:
            pump = next(self._equipment)
            recorded = record(
                self.store,
                finding(pump, "vibration", severity=Severity.WARNING, ts=T0 + next(self._ts)),
                self.plant.equipment[pump],
            )
            if recorded.created:
                return recorded.order.number
            self.store.orders.resolve(recorded.order.number, by="setup")

    def fill(self, path: str) -> str:
        makers: dict[str, Callable[[], str]] = {
            "{order}": self.order,
            "{started}": lambda: self.store.orders.start(self.order(), by="setup").number,
            "{alarm}": self._alarm,
            "{window}": lambda: str(
                self.store.planning.add_window(
                    "demo",
                    starts_at=datetime.now(UTC),
                    ends_at=datetime.now(UTC) + timedelta(hours=1),
                    reason="test",
                    by="setup",
                ).id
            ),
            "{shelf}": lambda: str(
                self.store.planning.shelve(
                    "P-103",
                    reason="test",
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                    by="setup",
                ).id
            ),
            "{token}": lambda: str(self.store.access.create_token("temp", Role.PLANNER).token.id),
            "{webhook}": lambda: str(
                self.store.access.add_webhook(
                    f"hook-{next(self._ts)}", "http://127.0.0.1:9/x", by="setup"
                )[0].id
            ),
            "{delivery}": self._delivery,
        }
        for placeholder, make in makers.items():
            if placeholder in path:
                path = path.replace(placeholder, make())
        return path

    def _alarm(self) -> str:
        number = self.order()
        return str(next(a.id for a in self.store.alarms.list() if a.work_order == number))

    def _delivery(self) -> str:
        self.store.access.add_webhook(f"hook-{next(self._ts)}", "http://127.0.0.1:9/x", by="setup")
        self.order()
        return str(self.store.outbox.list(limit=1)[0].id)


@pytest.fixture
def world(reused_database_url: str, demo_plant: Plant) -> Iterator[tuple[World, TestClient]]:
    with (
        WorkOrderStore(reused_database_url, plant=demo_plant) as store,
        TestClient(create_app(store)) as client,
    ):
        yield World(store, demo_plant), client


def _call(client: TestClient, world: World, who: str, case: Case, path: str) -> Any:
    headers = {"Authorization": f"Bearer {world.secrets[who]}"} if who in world.secrets else {}
    return client.request(case.method, f"{API}{path}", json=case.body, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_role_on_every_endpoint(world: tuple[World, TestClient], case: Case) -> None:
    w, client = world
    team_scoped = any(p in case.path for p in TEAM_SCOPED)
    for who in PRINCIPALS:
        path = w.fill(case.path)
        before = w.store.access.last_event_id()
        response = _call(client, w, who, case, path)
        allowed = case.allowed == EVERYONE or (
            ROLE[who] in case.allowed and not (team_scoped and who == "other technician")
        )
        if allowed:
            ok = case.ok if isinstance(case.ok, tuple) else (case.ok,)
            assert response.status_code in ok, (who, response.text)
            continue
        expected = 401 if ROLE[who] is None else 403
        assert response.status_code == expected, (who, response.text)
        assert response.json()["detail"], who
        assert w.store.access.last_event_id() == before, f"{who}'s denied request changed something"
        if expected == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_technician_lists_only_their_own_and_their_team_s_orders(
    world: tuple[World, TestClient],
) -> None:
    w, client = world
    mechanical = w.order()
    recorded = record(w.store, finding("P-204", "flow", ts=T0 + 500), w.plant.equipment["P-204"])
    rotating = recorded.order.number
    assigned_across = w.order()
    w.store.orders.assign(assigned_across, assignee="erik", team="mechanical", by="setup")

    def listed(who: str) -> set[str]:
        response = client.get(
            f"{API}/work-orders", headers={"Authorization": f"Bearer {w.secrets[who]}"}
        )
        assert response.status_code == 200
        assert int(response.headers["X-Total-Count"]) == len(response.json())
        return {o["number"] for o in response.json()}

    assert mechanical in listed("technician")
    assert rotating not in listed("technician")
    assert rotating in listed("other technician")
    assert mechanical not in listed("other technician")
    assert assigned_across in listed("other technician")  # assigned to erik himself
    assert {mechanical, rotating, assigned_across} <= listed("planner")


def test_revoked_and_expired_tokens_are_refused(world: tuple[World, TestClient]) -> None:
    w, client = world
    issued = w.store.access.create_token("temp", Role.PLANNER)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert client.get(f"{API}/me", headers=headers).json() == {
        "name": "temp",
        "role": "planner",
        "team": None,
    }
    w.store.access.revoke_token(issued.token.id)
    refused = client.get(f"{API}/me", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert w.store.access.tokens()[-1].revoked_at is not None
    assert issued.secret not in str(w.store.access.tokens()), "secrets are never listed"
    listed = client.get(f"{API}/tokens", headers={"Authorization": f"Bearer {w.secrets['admin']}"})
    assert issued.secret not in listed.text
    expired = w.store.access.create_token(
        "brief", Role.PLANNER, expires_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    w.store.access.revoke_token(expired.token.id)
    assert (
        client.get(f"{API}/me", headers={"Authorization": f"Bearer {expired.secret}"}).status_code
        == 401
    )


@pytest.mark.parametrize("step", ["5e-324", "0.01"])
def test_a_backlog_of_too_many_instants_is_refused_with_a_reason(
    world: tuple[World, TestClient], step: str
) -> None:
    w, client = world
    response = client.get(
        f"{API}/analytics/backlog?since=2026-01-01T00:00:00Z&until=2026-01-10T00:00:00Z"
        f"&step={step}",
        headers={"Authorization": f"Bearer {w.secrets['planner']}"},
    )
    assert response.status_code in (400, 422), response.text
    assert "widen the step or shorten the period" in response.text
