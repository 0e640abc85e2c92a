"""Alarm episodes, corrective orders reported by people, assignment by skills, load and shift,
and the analytics computed in SQL over known data."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from workorder_helpers import T0, Clock, finding, record, seed_two_weeks

from devices import FindingKind, Person, Plant, Severity, Shift
from ticketing import (
    InvalidRequest,
    NotFound,
    Outcome,
    Principal,
    Role,
    Status,
    WorkOrderStore,
    WorkOrderType,
)
from ticketing.api import create_app
from ticketing.assignment import choose_assignee

HOUR = 3600.0


def test_one_episode_is_one_alarm_raised_updated_cleared_then_acknowledged(
    plant_store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    record(plant_store, finding(ts=T0), pump)
    record(plant_store, finding(signal="bearing_temp", severity=Severity.ALARM, ts=T0 + 60), pump)
    record(plant_store, finding(ts=T0 + 120, active=False), pump)
    [alarm] = plant_store.alarms.list()
    assert (alarm.active, alarm.acknowledged) == (False, False)
    assert alarm.signals == ("bearing_temp", "vibration")
    assert alarm.severity is Severity.ALARM
    assert alarm.finding_count == 3
    assert alarm.cleared_at == datetime.fromtimestamp(T0 + 120, UTC)
    acked = plant_store.alarms.acknowledge(alarm.id, by="ann")
    assert (acked.acknowledged, acked.acknowledged_by) == (True, "ann")
    record(plant_store, finding(ts=T0 + 600), pump)  # a new episode is a new alarm
    assert [a.active for a in plant_store.alarms.list()] == [True, False]
    assert len(plant_store.orders.findings(alarm.work_order or "")) == 4
    with pytest.raises(NotFound):
        plant_store.alarms.acknowledge(999, by="ann")


def test_acknowledging_an_order_acknowledges_its_alarm(
    plant_store: WorkOrderStore, demo_plant: Plant
) -> None:
    order = record(plant_store, finding(), demo_plant.equipment["P-103"]).order
    plant_store.orders.acknowledge(order.number, by="ann")
    [alarm] = plant_store.alarms.list()
    assert (alarm.acknowledged, alarm.acknowledged_by, alarm.work_order) == (
        True,
        "ann",
        order.number,
    )


def test_a_person_reports_a_corrective_order_with_the_same_dedup(
    plant_store: WorkOrderStore, demo_plant: Plant
) -> None:
    bruno = Principal("bruno", Role.TECHNICIAN, "mechanical")
    reported = plant_store.orders.report(
        "P-102", description="Seal weeping at the gland", by=bruno, failure_mode="PDE"
    )
    assert reported.created
    order = reported.order
    assert order.type is WorkOrderType.CORRECTIVE
    assert (order.reported_by, order.description) == ("bruno", "Seal weeping at the gland")
    assert order.evidence is None
    assert order.priority.value == "high"  # warning on a high-criticality pump
    assert order.assignee in {"alice", "chen"}  # the hydraulics skill
    again = plant_store.orders.report(
        "P-102", description="Now dripping", by="carl", failure_mode="PDE", severity=Severity.ALARM
    )
    assert not again.created
    assert again.order.number == order.number
    assert again.order.finding_count == 2
    assert again.order.priority.value == "urgent"
    # a detector's finding on the same failure mode joins the person's order
    joined = record(plant_store, finding("P-102", "flow"), demo_plant.equipment["P-102"])
    assert joined.order.number == order.number
    assert joined.order.evidence is not None
    assert [e.actor for e in plant_store.orders.history(order.number)][:1] == ["bruno"]
    other = plant_store.orders.report("P-102", description="Strange smell", by=bruno)
    assert other.created
    assert other.order.failure_mode_code == "OTH"
    with pytest.raises(InvalidRequest, match="its failure modes: VIB, PDE, AIR"):
        plant_store.orders.report("P-102", description="x", by=bruno, failure_mode="XYZ")
    with pytest.raises(NotFound):
        plant_store.orders.report("P-999", description="x", by=bruno)
    with pytest.raises(InvalidRequest, match="describe the problem"):
        plant_store.orders.report("P-102", description="  ", by=bruno)


def test_assignment_prefers_shift_then_skills_then_load() -> None:
    zone = ZoneInfo("Europe/Paris")
    day = Shift(frozenset(range(5)), time(6), time(14))
    night = Shift(frozenset(range(7)), time(22), time(6))
    ann = Person("ann", "Ann", "m", frozenset({"vibration", "bearings"}), (day,))
    bob = Person("bob", "Bob", "m", frozenset({"vibration"}), (day,))
    cid = Person("cid", "Cid", "m", frozenset({"vibration", "bearings"}), (night,))
    monday_10 = datetime(2026, 3, 2, 10, 0, tzinfo=zone)
    tuesday_02 = datetime(2026, 3, 3, 2, 0, tzinfo=zone)  # the night shift that began Monday
    people = [ann, bob, cid]
    skills = ("vibration", "bearings")
    assert choose_assignee(people, skills, {}, at=monday_10, zone=zone) == ann
    assert choose_assignee(people, skills, {"ann": 3}, at=monday_10, zone=zone) == ann
    assert choose_assignee(people, ("vibration",), {"ann": 3}, at=monday_10, zone=zone) == bob
    assert choose_assignee(people, skills, {}, at=tuesday_02, zone=zone) == cid
    saturday_10 = datetime(2026, 3, 7, 10, 0, tzinfo=zone)
    assert choose_assignee([ann, bob], skills, {}, at=saturday_10, zone=zone) == ann
    assert choose_assignee([], skills, {}, at=saturday_10, zone=zone) is None


def test_assignment_spreads_the_load_and_a_planner_reassigns(
    plant_store: WorkOrderStore, demo_plant: Plant
) -> None:
    assignees = [
        record(plant_store, finding(pump), demo_plant.equipment[pump]).order.assignee
        for pump in ("P-101", "P-102", "P-103", "P-104")
    ]
    # VIB needs vibration + bearings: alice and bruno have both; chen has neither
    assert sorted(assignees) == ["alice", "alice", "bruno", "bruno"]
    order = plant_store.orders.list(equipment_id="P-101")[0]
    moved = plant_store.orders.assign(order.number, assignee="erik", by="ann")
    assert (moved.assignee, moved.team) == ("erik", "rotating-equipment")
    with pytest.raises(InvalidRequest, match="unknown person 'zed'"):
        plant_store.orders.assign(order.number, assignee="zed", by="ann")
    plant_store.orders.close_order(order.number, by="ann")
    with pytest.raises(InvalidRequest, match="only active orders"):
        plant_store.orders.assign(order.number, assignee="alice", by="ann")


def test_analytics_over_known_data(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    day0 = clock.now
    pumps = demo_plant.equipment
    # order A: urgent (alarm on high P-101), acknowledged after 10 min, started at 20, done at
    # 80, closed at 120 min, confirmed
    a = record(plant_store, finding("P-101", severity=Severity.ALARM), pumps["P-101"]).order
    clock.advance(10 * 60)
    plant_store.orders.acknowledge(a.number, by="ann")
    clock.advance(10 * 60)
    plant_store.orders.start(a.number, by="ann")
    clock.advance(60 * 60)
    plant_store.orders.done(a.number, by="ann")
    clock.advance(40 * 60)
    plant_store.orders.close_order(a.number, by="ann", outcome=Outcome.CONFIRMED)
    # order B: medium (warning on medium P-103), acknowledged after 30 min, a false alarm closed
    # 60 min after it opened; its finding came from the anomaly detector
    b = record(
        plant_store,
        finding("P-103", kind=FindingKind.ANOMALY, ts=T0 + 1),
        pumps["P-103"],
    ).order
    clock.advance(30 * 60)
    plant_store.orders.acknowledge(b.number, by="ann")
    clock.advance(30 * 60)
    plant_store.orders.close_order(b.number, by="ann", outcome=Outcome.FALSE_ALARM)
    # order C: still open, never acknowledged; D: cancelled
    c = record(plant_store, finding("P-104", "flow", ts=T0 + 2), pumps["P-104"]).order
    d = record(plant_store, finding("P-105", ts=T0 + 3), pumps["P-105"]).order
    plant_store.orders.cancel(d.number, by="ann", reason="duplicate of a paper ticket")
    end = clock.advance(60)

    overall, *per_priority = plant_store.analytics.mtta()
    assert (overall.priority, overall.orders) == (None, 2)
    assert overall.mean_seconds == pytest.approx((600 + 1800) / 2, abs=1)
    assert {(m.priority, m.orders, round(m.mean_seconds or 0)) for m in per_priority} == {
        ("urgent", 1, 600),
        ("medium", 1, 1800),
    }
    resolved, *_ = plant_store.analytics.mttr()
    assert resolved.orders == 2  # closed ones; the cancelled one is not a repair
    assert resolved.mean_seconds == pytest.approx((120 * 60 + 60 * 60) / 2, abs=1)
    assert resolved.mean_repair_seconds == pytest.approx(60 * 60, abs=1)

    points = plant_store.analytics.backlog(
        [day0 - timedelta(minutes=1), a.created_at, b.created_at, end]
    )
    assert [p.active for p in points] == [0, 1, 1, 1]
    assert points[-1].at == end
    top = plant_store.analytics.top_failure_modes()
    assert [(t.failure_mode_code, t.orders) for t in top] == [("VIB", 3), ("PDE", 1)]
    precision = {p.detector: p for p in plant_store.analytics.detector_precision()}
    assert (precision["ewma_drift"].confirmed, precision["ewma_drift"].false_alarms) == (1, 0)
    assert precision["anomaly"].precision == 0.0
    assert precision["ewma_drift"].precision == 1.0
    assert set(precision) == {"ewma_drift", "anomaly"}
    assert plant_store.orders.get(c.number).status is Status.OPEN
    assert plant_store.analytics.mtta(since=end) == [type(overall)(None, 0, None)]


def test_throughput_backlog_by_team_outcomes_and_lead_time_through_the_api(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    day0 = clock.now
    seed_two_weeks(plant_store, demo_plant, clock)
    secret = plant_store.access.create_token("pat", Role.PLANNER).secret
    with TestClient(create_app(plant_store)) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        since = day0.isoformat()
        weeks = client.get(
            "/api/v1/analytics/throughput",
            params={"since": since, "until": (day0 + timedelta(days=8)).isoformat()},
        )
        assert weeks.status_code == 200, weeks.text
        assert [(w["opened"], w["closed"]) for w in weeks.json()] == [(2, 2), (3, 0)]
        assert [datetime.fromisoformat(w["start"]) for w in weeks.json()] == [
            day0,
            day0 + timedelta(days=7),
        ]
        assert datetime.fromisoformat(weeks.json()[-1]["end"]) == day0 + timedelta(days=14)
        daily = client.get(
            "/api/v1/analytics/throughput",
            params={"since": since, "until": since, "step": 3 * 3600},
        )
        # A opened at 0 and closed at 2 h, B opened at 2 h and closed at 3 h: the next period
        assert [(w["opened"], w["closed"]) for w in daily.json()] == [(2, 1)]
        backlog = client.get("/api/v1/analytics/backlog-by-team")
        assert backlog.status_code == 200, backlog.text
        assert backlog.json() == [
            {"team": "mechanical", "priority": "medium", "active": 1},
            {"team": "rotating-equipment", "priority": "urgent", "active": 1},
        ]
        judged = client.get("/api/v1/analytics/outcomes", params={"since": since})
        assert judged.status_code == 200, judged.text
        assert judged.json() == [
            {"outcome": "confirmed", "orders": 1},
            {"outcome": "false_alarm", "orders": 1},
            {"outcome": None, "orders": 0},
        ]
        later = client.get(
            "/api/v1/analytics/outcomes",
            params={"since": (day0 + timedelta(days=7)).isoformat()},
        )
        assert [o["orders"] for o in later.json()] == [0, 0, 0]
        lead = client.get("/api/v1/analytics/lead-time", params={"since": since})
        assert lead.status_code == 200, lead.text
        assert lead.json() == {
            "orders": 5,
            "forecast": 2,
            "mean_seconds": 4 * 3600,
            "min_seconds": 2 * 3600,
        }
        none_yet = client.get("/api/v1/analytics/lead-time", params={"until": since})
        assert none_yet.json() == {
            "orders": 0,
            "forecast": 0,
            "mean_seconds": None,
            "min_seconds": None,
        }
        backwards = client.get(
            "/api/v1/analytics/throughput",
            params={"since": since, "until": (day0 - timedelta(days=1)).isoformat()},
        )
        assert backwards.status_code == 422
        late = client.get(
            "/api/v1/analytics/throughput",
            params={"since": "9999-12-30T00:00:00Z", "until": "9999-12-30T00:00:00Z"},
        )
        assert late.status_code == 422
        assert "year 9999" in late.text
        technician = plant_store.access.create_token("bruno", Role.TECHNICIAN).secret
        refused = client.get(
            "/api/v1/analytics/backlog-by-team",
            headers={"Authorization": f"Bearer {technician}"},
        )
        assert refused.status_code == 403
