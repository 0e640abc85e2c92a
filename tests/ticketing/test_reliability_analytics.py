"""Paretos, orders by line and week, repeat orders and the first-time-fix rate, computed in SQL
on SQLite and PostgreSQL over orders written straight into the table, and read through the API.

The orders, by day from Monday 5 January 2026 (the clock reads day 60); line-1 holds P-101 to
P-105, line-2 P-201 to P-205:

  #   equipment mode  created  closed (cause)            note
  1   P-101     VIB   0        1 "Bearing worn"           repeated by 2
  2   P-101     VIB   11       12 "bearing worn "         repeat: 10 days after 1 closed
  3   P-101     VIB   50       open                       38 days after 2 closed: no repeat
  4   P-102     VIB   2        3 "Misalignment"           only 5 (cancelled) within 30 days
  5   P-102     VIB   5        cancelled 6                cancelled: counts for nothing
  6   P-103     PDE   2        4 (no cause)
  7   P-201     VIB   9        10 "Bearing worn"
  8   P-201     PDE   20       21 ("" given)              another failure mode than 7
  9   P-202     VIB   40       45 "Loose coupling"        15 days ago: pending
  10  P-203     VIB   42       43 "Misalignment"          repeated by 11: judged already
  11  P-203     VIB   50       open                       repeat: 7 days after 10 closed
  12  P-104     VIB   0        1 "Misalignment"           repeated by 13
  13  P-104     VIB   30       31 "Misalignment"          repeat: 29 days after 12; pending
  14  P-105     VIB   10       cancelled 11
  15  P-102     VIB   40       41 "Misalignment"          pending
  16  P-105     VIB   15       16 "Bearing worn"          after a cancelled order: no repeat

So, of the 14 orders not cancelled, 3 repeat (2, 11, 13); of the 12 closed, 9 are judged (the
30 days of 1, 2, 4, 6, 7, 8, 12 and 16 have passed; 10 was repeated) and 6 of them were fixed
the first time (all but 1, 12 and 10); 9, 13 and 15 are pending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from workorder_helpers import Clock, order_row

from ticketing import Role, Status, WorkOrderStore
from ticketing.api import create_app
from ticketing.database import create_engine_for
from ticketing.models import WorkOrderRow

DAY0 = datetime(2026, 1, 5, tzinfo=UTC)
LINE_1 = "demo/treatment/line-1"
LINE_2 = "demo/treatment/line-2"


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


def _order(
    equipment_id: str,
    mode: str,
    created: float,
    *,
    closed: float | None = None,
    cancelled: float | None = None,
    cause: str | None = None,
) -> dict[str, Any]:
    row = order_row(equipment_id, mode)
    line = LINE_2 if equipment_id.startswith("P-2") else LINE_1
    row.update(
        equipment_path=f"{line}/{equipment_id}",
        created_at=day(created),
        updated_at=day(created),
        found_cause=cause,
    )
    if closed is not None:
        row.update(status=Status.CLOSED, resolved_at=day(closed))
    if cancelled is not None:
        row.update(status=Status.CANCELLED, resolved_at=day(cancelled))
    return row


ORDERS = [
    _order("P-101", "VIB", 0, closed=1, cause="Bearing worn"),
    _order("P-101", "VIB", 11, closed=12, cause="bearing worn "),
    _order("P-101", "VIB", 50),
    _order("P-102", "VIB", 2, closed=3, cause="Misalignment"),
    _order("P-102", "VIB", 5, cancelled=6, cause="Misalignment"),
    _order("P-103", "PDE", 2, closed=4),
    _order("P-201", "VIB", 9, closed=10, cause="Bearing worn"),
    _order("P-201", "PDE", 20, closed=21, cause=""),
    _order("P-202", "VIB", 40, closed=45, cause="Loose coupling"),
    _order("P-203", "VIB", 42, closed=43, cause="Misalignment"),
    _order("P-203", "VIB", 50),
    _order("P-104", "VIB", 0, closed=1, cause="Misalignment"),
    _order("P-104", "VIB", 30, closed=31, cause="Misalignment"),
    _order("P-105", "VIB", 10, cancelled=11),
    _order("P-102", "VIB", 40, closed=41, cause="Misalignment"),
    _order("P-105", "VIB", 15, closed=16, cause="Bearing worn"),
]


@pytest.fixture
def orders(plant_store: WorkOrderStore, reused_database_url: str, clock: Clock) -> WorkOrderStore:
    engine = create_engine_for(reused_database_url)
    try:
        with engine.begin() as connection:
            for row in ORDERS:
                connection.execute(insert(WorkOrderRow).values(**row))
    finally:
        engine.dispose()
    clock.now = day(60)
    return plant_store


def test_repeats_and_the_first_time_fix_rate(orders: WorkOrderStore) -> None:
    found = orders.analytics.repeat_orders()
    assert (found.orders, found.repeats, found.closed) == (14, 3, 12)
    assert (found.judged, found.fixed_first_time) == (9, 6)
    assert found.repeat_share == pytest.approx(3 / 14)
    assert found.first_time_fix_rate == pytest.approx(6 / 9)
    assert found.within_seconds == 30 * 86400


def test_repeats_of_a_period_still_see_the_closings_before_it(orders: WorkOrderStore) -> None:
    # created from day 30: 3, 9, 10, 11, 13, 15; 11 and 13 repeat closings of before; of the
    # closed 9, 10, 13, 15 only 10 is judged (repeated), so no first-time fix is known yet
    found = orders.analytics.repeat_orders(since=day(30))
    assert (found.orders, found.repeats, found.closed, found.judged) == (6, 2, 4, 1)
    assert found.fixed_first_time == 0
    assert found.first_time_fix_rate == 0.0
    early = orders.analytics.repeat_orders(until=day(11))
    # 1, 4, 6, 7, 12 (5 and 14 cancelled, 2 created on day 11): no repeat among them
    assert (early.orders, early.repeats, early.closed, early.judged) == (5, 0, 5, 5)
    assert early.fixed_first_time == 3  # 1 and 12 were repeated later
    nothing = orders.analytics.repeat_orders(since=day(61))
    assert (nothing.orders, nothing.repeat_share, nothing.first_time_fix_rate) == (0, None, None)


def test_a_shorter_repeat_window(orders: WorkOrderStore) -> None:
    # within 8 days only 11 (7 days after 10) repeats; with 8 days every closing but those
    # after day 52 is judged: all twelve, and 10 alone was not fixed
    found = orders.analytics.repeat_orders(within=timedelta(days=8))
    assert (found.repeats, found.closed, found.judged, found.fixed_first_time) == (1, 12, 12, 11)


def test_pareto_of_failure_modes(orders: WorkOrderStore) -> None:
    pareto = orders.analytics.failure_mode_pareto()
    assert (pareto.counted, pareto.rest, pareto.without_key) == (14, 0, 0)
    assert [(b.key, b.orders) for b in pareto.bars] == [("VIB", 12), ("PDE", 2)]
    assert [b.cumulative_share for b in pareto.bars] == pytest.approx([12 / 14, 1.0])
    top = orders.analytics.failure_mode_pareto(limit=1)
    assert ([b.key for b in top.bars], top.rest) == (["VIB"], 2)
    assert orders.analytics.failure_mode_pareto(since=day(20), until=day(21)).bars[0].key == "PDE"


def test_pareto_of_closing_causes(orders: WorkOrderStore) -> None:
    pareto = orders.analytics.closing_cause_pareto()
    # misalignment: 4, 10, 12, 13, 15 (5 was cancelled); bearing worn: 1, 2, 7, 16; loose
    # coupling: 9; closed without a cause: 6 and 8 (an empty one)
    assert [(b.key, b.orders) for b in pareto.bars] == [
        ("misalignment", 5),
        ("bearing worn", 4),
        ("loose coupling", 1),
    ]
    assert [b.cumulative_share for b in pareto.bars] == pytest.approx([0.5, 0.9, 1.0])
    assert pareto.bars[0].label == "Misalignment"
    assert pareto.bars[1].label.lower() == "bearing worn"
    assert (pareto.counted, pareto.rest, pareto.without_key) == (10, 0, 2)
    top = orders.analytics.closing_cause_pareto(limit=2)
    assert (len(top.bars), top.rest) == (2, 1)


def test_orders_by_line_and_week(orders: WorkOrderStore) -> None:
    edges = [day(7 * k) for k in range(10)]
    cells = {
        (c.line, (c.start - DAY0).days // 7): c.orders
        for c in orders.analytics.orders_by_line(edges)
    }
    assert cells == {
        (LINE_1, 0): 4,  # 1, 4, 6, 12
        (LINE_1, 1): 1,  # 2 (14, cancelled, is not counted)
        (LINE_1, 2): 1,  # 16
        (LINE_1, 4): 1,  # 13
        (LINE_1, 5): 1,  # 15
        (LINE_1, 7): 1,  # 3
        (LINE_2, 1): 1,  # 7
        (LINE_2, 2): 1,  # 8
        (LINE_2, 5): 1,  # 9
        (LINE_2, 6): 1,  # 10
        (LINE_2, 7): 1,  # 11
    }
    assert orders.analytics.orders_by_line([day(0)]) == []


def test_the_reliability_figures_through_the_api(orders: WorkOrderStore) -> None:
    planner = orders.access.create_token("pat", Role.PLANNER).secret
    technician = orders.access.create_token("bruno", Role.TECHNICIAN).secret
    with TestClient(create_app(orders)) as client:
        client.headers["Authorization"] = f"Bearer {planner}"
        repeats = client.get("/api/v1/analytics/repeats")
        assert repeats.status_code == 200, repeats.text
        assert repeats.json() == {
            "within_seconds": 30 * 86400,
            "orders": 14,
            "repeats": 3,
            "repeat_share": pytest.approx(3 / 14),
            "closed": 12,
            "judged": 9,
            "fixed_first_time": 6,
            "first_time_fix_rate": pytest.approx(6 / 9),
        }
        shorter = client.get("/api/v1/analytics/repeats", params={"within_days": 8})
        assert shorter.json()["repeats"] == 1
        causes = client.get("/api/v1/analytics/pareto/closing-causes", params={"limit": 1})
        assert causes.status_code == 200, causes.text
        assert causes.json() == {
            "counted": 10,
            "bars": [
                {
                    "key": "misalignment",
                    "label": "Misalignment",
                    "orders": 5,
                    "cumulative_share": 0.5,
                }
            ],
            "rest": 5,
            "without_key": 2,
        }
        modes = client.get(
            "/api/v1/analytics/pareto/failure-modes", params={"since": day(20).isoformat()}
        )
        # created from day 20: 3, 8, 9, 10, 11, 13, 15
        assert [(b["key"], b["orders"]) for b in modes.json()["bars"]] == [("VIB", 6), ("PDE", 1)]
        heat = client.get(
            "/api/v1/analytics/orders-by-line",
            params={"since": day(0).isoformat(), "until": day(6).isoformat()},
        )
        assert heat.status_code == 200, heat.text
        assert heat.json() == [
            {
                "line": LINE_1,
                "start": "2026-01-05T00:00:00Z",
                "end": "2026-01-12T00:00:00Z",
                "orders": 4,
            }
        ]

        for path, params, reason in [
            ("repeats", {"within_days": 0}, "greater than 0"),
            ("repeats", {"within_days": "soon"}, "valid number"),
            ("pareto/failure-modes", {"limit": 0}, "greater than or equal to 1"),
            ("pareto/closing-causes", {"since": "yesterday"}, "datetime"),
            ("pareto/closing-causes", {"since": "2026-01-05T00:00:00"}, "time zone"),
            (
                "repeats",
                {"since": day(2).isoformat(), "until": day(1).isoformat()},
                "`until` must not be before `since`",
            ),
            ("orders-by-line", {"since": day(0).isoformat()}, "until"),
            (
                "orders-by-line",
                {"since": day(0).isoformat(), "until": day(9000).isoformat()},
                "more than 500",
            ),
        ]:
            refused = client.get(f"/api/v1/analytics/{path}", params=params)
            assert refused.status_code == 422, (path, params, refused.text)
            assert reason in refused.text, (path, params, refused.text)

        client.headers["Authorization"] = f"Bearer {technician}"
        for path in ("repeats", "pareto/failure-modes", "pareto/closing-causes"):
            assert client.get(f"/api/v1/analytics/{path}").status_code == 403
