"""Maintenance windows (one-off and recurring, per equipment, line or area), shelving with an
expiry and a reason, and feedback: findings they cover are recorded as alarms but open no order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from workorder_helpers import T0, Clock, finding, record

from devices import FindingKind, Plant, Severity
from ticketing import InvalidRequest, Outcome, Recurrence, WorkOrderStore
from ticketing.suppression import FEEDBACK_MAX, covers, in_window

PARIS = ZoneInfo("Europe/Paris")


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_paths_cover_their_descendants_only() -> None:
    path = "demo/treatment/line-1/P-103"
    assert covers("demo", path)
    assert covers("demo/treatment/line-1", path)
    assert covers("demo/treatment/line-1/P-103/", path)
    assert not covers("demo/treatment/line-10", path)
    assert not covers("demo/treatment/line-1/P-10", path)
    assert not covers("", path)


def test_a_weekly_window_keeps_its_local_time_across_daylight_saving() -> None:
    # Sundays 06:00-08:00 Paris time, first on 2026-03-22 (CET, UTC+1); DST starts 2026-03-29
    start = datetime(2026, 3, 22, 6, 0, tzinfo=PARIS)
    window = {
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "recurrence": Recurrence.WEEKLY,
        "timezone": "Europe/Paris",
    }
    assert in_window(datetime(2026, 3, 22, 5, 30, tzinfo=UTC), **window)  # 06:30 CET
    after_dst = datetime(2026, 3, 29, 6, 30, tzinfo=PARIS)  # 04:30 UTC
    assert in_window(after_dst, **window)
    assert not in_window(datetime(2026, 3, 29, 6, 30, tzinfo=UTC), **window)  # 08:30 CEST
    assert not in_window(datetime(2026, 3, 30, 6, 30, tzinfo=PARIS), **window)  # a Monday
    assert not in_window(datetime(2026, 3, 15, 6, 30, tzinfo=PARIS), **window)  # before the first
    until = {**window, "until": datetime(2026, 4, 1, tzinfo=UTC)}
    assert not in_window(datetime(2026, 4, 5, 6, 30, tzinfo=PARIS), **until)


def test_a_daily_window_across_midnight() -> None:
    start = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
    window = {
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "recurrence": Recurrence.DAILY,
        "timezone": "UTC",
    }
    assert in_window(datetime(2026, 1, 5, 0, 30, tzinfo=UTC), **window)
    assert in_window(datetime(2026, 1, 5, 23, 30, tzinfo=UTC), **window)
    assert not in_window(datetime(2026, 1, 5, 1, 30, tzinfo=UTC), **window)


def test_findings_inside_a_window_open_no_order_but_are_recorded(
    plant_store: WorkOrderStore, demo_plant: Plant
) -> None:
    window = plant_store.planning.add_window(
        "demo/treatment/line-1",
        starts_at=at(T0 - 3600),
        ends_at=at(T0 + 3600),
        reason="line 1 shutdown",
        by="ann",
    )
    inside = plant_store.orders.record(finding("P-103"), demo_plant.equipment["P-103"])
    assert inside is None
    [alarm] = plant_store.alarms.list(equipment_id="P-103")
    assert alarm.active
    assert alarm.work_order is None
    assert alarm.suppressed is not None
    assert f"maintenance window {window.id}" in alarm.suppressed
    assert "line 1 shutdown" in alarm.suppressed
    other_line = plant_store.orders.record(finding("P-203"), demo_plant.equipment["P-203"])
    assert other_line is not None
    assert other_line.created
    after = record(plant_store, finding("P-104", ts=T0 + 7200), demo_plant.equipment["P-104"])
    assert after.created
    plant_store.planning.cancel_window(window.id, by="ann")
    assert plant_store.orders.record(finding("P-105"), demo_plant.equipment["P-105"]) is not None
    suppressed = plant_store.access.audit_log(action="suppressed")
    assert [e.entity for e in suppressed] == ["alarm"]


def test_a_window_refuses_what_it_cannot_mean(plant_store: WorkOrderStore) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidRequest, match="covers no equipment"):
        plant_store.planning.add_window(
            "demo/nowhere", starts_at=start, ends_at=start + timedelta(hours=1), reason="x", by="a"
        )
    with pytest.raises(InvalidRequest, match="end after it starts"):
        plant_store.planning.add_window("demo", starts_at=start, ends_at=start, reason="x", by="a")
    with pytest.raises(InvalidRequest, match="daily window lasts at most a day"):
        plant_store.planning.add_window(
            "demo",
            starts_at=start,
            ends_at=start + timedelta(days=2),
            reason="x",
            by="a",
            recurrence=Recurrence.DAILY,
        )
    with pytest.raises(InvalidRequest, match="time zone"):
        plant_store.planning.add_window(
            "demo",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            reason="x",
            by="a",
            timezone="Mars/Olympus",
        )


def test_shelving_expires(plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock) -> None:
    pump = demo_plant.equipment["P-103"]
    shelf = plant_store.planning.shelve(
        "P-103",
        failure_mode="VIB",
        reason="sensor being replaced",
        expires_at=clock.now + timedelta(hours=2),
        by="ann",
    )
    assert plant_store.orders.record(finding(), pump) is None
    flow = plant_store.orders.record(finding(signal="flow", ts=T0 + 1), pump)  # PDE is not shelved
    assert flow is not None
    assert flow.created
    assert "shelved by ann" in (plant_store.alarms.list(equipment_id="P-103")[-1].suppressed or "")
    clock.advance(2 * 3600 + 1)
    assert plant_store.planning.shelves() == []
    assert [s.id for s in plant_store.planning.shelves(include_expired=True)] == [shelf.id]
    # the episode continues; the next finding after expiry opens the order
    later = plant_store.orders.record(finding(ts=T0 + 7300), pump)
    assert later is not None
    assert later.created
    with pytest.raises(InvalidRequest, match="at most 30 days"):
        plant_store.planning.shelve(
            "P-103", reason="x", expires_at=clock.now + timedelta(days=31), by="a"
        )


def test_false_alarms_make_the_signal_less_sensitive_within_a_bound(
    plant_store: WorkOrderStore, demo_plant: Plant
) -> None:
    pump = demo_plant.equipment["P-103"]
    ts = T0
    for expected_min in (0.6, 0.7, 0.8, 0.8):
        ts += 3600
        order = record(plant_store, finding(score=0.95, ts=ts), pump).order
        plant_store.orders.close_order(order.number, by="ann", outcome=Outcome.FALSE_ALARM)
        assert plant_store.analytics.sensitivity()[("P-103", "vibration")] == pytest.approx(
            expected_min
        )
    assert pytest.approx(FEEDBACK_MAX) == 0.8
    assert plant_store.orders.record(finding(score=0.79, ts=ts + 60), pump) is None
    assert "below 0.80" in (plant_store.alarms.list(equipment_id="P-103")[0].suppressed or "")
    # a limit crossing, an alarm, or a strong enough score still opens an order
    alarm = plant_store.orders.record(
        finding(severity=Severity.ALARM, score=0.6, ts=ts + 120), pump
    )
    assert alarm is not None
    assert alarm.created
    plant_store.orders.close_order(alarm.order.number, by="ann", outcome=Outcome.CONFIRMED)
    assert plant_store.analytics.sensitivity()[("P-103", "vibration")] == pytest.approx(0.7)
    limit = plant_store.orders.record(
        finding(kind=FindingKind.LIMIT, score=0.55, ts=ts + 180), pump
    )
    assert limit is not None
    # other pumps and signals keep their sensitivity
    other = plant_store.orders.record(finding("P-104", score=0.55), demo_plant.equipment["P-104"])
    assert other is not None
    labels = {f.label for f in plant_store.orders.findings(alarm.order.number)}
    assert labels == {Outcome.CONFIRMED}
