"""Service levels and escalation on stored deadlines: levels fire at k x the time to acknowledge,
acknowledging stops them, a missed start tells the team lead, a worsening brings deadlines forward,
and the deadlines survive closing and reopening the store (a restart)."""

from __future__ import annotations

import threading
from datetime import timedelta

from workorder_helpers import T0, Clock, finding, record

from devices import Plant, Severity
from ticketing import Event, Priority, Status, WorkOrderStore

MINUTE = 60.0


def _escalations(store: WorkOrderStore, number: str) -> list[tuple[str, str]]:
    return [
        (e.action, e.note)
        for e in store.orders.history(number)
        if e.action in {"escalated", "start_overdue"}
    ]


def test_levels_fire_at_multiples_of_the_time_to_acknowledge_until_acknowledged(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    # alarm on high-criticality P-101: urgent; acknowledge within 15 min, start within 1 h
    order = record(
        plant_store,
        finding("P-101", "vibration", severity=Severity.ALARM),
        demo_plant.equipment["P-101"],
    ).order
    assert order.priority is Priority.URGENT
    assert order.ack_due_at == order.created_at + timedelta(minutes=15)
    assert order.start_due_at == order.created_at + timedelta(hours=1)
    clock.advance(14 * MINUTE)
    assert plant_store.orders.fire_due_timers() == 0
    clock.advance(2 * MINUTE)
    assert plant_store.orders.fire_due_timers() == 1
    first = plant_store.orders.get(order.number)
    assert first.escalation_level == 1
    assert "level 1: team lead (Alice Martin)" in _escalations(plant_store, order.number)[0][1]
    clock.advance(15 * MINUTE)  # 31 min: level 2, the maintenance manager
    assert plant_store.orders.fire_due_timers() == 1
    assert plant_store.orders.get(order.number).escalation_level == 2
    plant_store.orders.acknowledge(order.number, by="ann")
    clock.advance(20 * MINUTE)  # 51 min: level 3 would be due at 45 min, but it was acknowledged
    assert plant_store.orders.fire_due_timers() == 0
    clock.advance(10 * MINUTE)  # 61 min: the start is overdue, the team lead is told once
    assert plant_store.orders.fire_due_timers() == 1
    clock.advance(60 * MINUTE)
    assert plant_store.orders.fire_due_timers() == 0
    actions = [a for a, _ in _escalations(plant_store, order.number)]
    assert actions == ["escalated", "escalated", "start_overdue"]
    notes = [n for _, n in _escalations(plant_store, order.number)]
    assert "maintenance manager (Mona Schmidt)" in notes[1]
    final = plant_store.orders.get(order.number)
    assert final.escalation_level == 2
    assert final.start_overdue_at is not None
    assert final.status is Status.ACKNOWLEDGED


def test_a_long_outage_fires_every_level_that_fell_due_once(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    order = record(
        plant_store,
        finding("P-101", "vibration", severity=Severity.ALARM),
        demo_plant.equipment["P-101"],
    ).order
    clock.advance(5 * 3600)
    assert plant_store.orders.fire_due_timers() == 4  # three levels and the missed start
    assert plant_store.orders.fire_due_timers() == 0
    assert plant_store.orders.get(order.number).escalation_level == 3
    assert plant_store.orders.next_timer() is None


def test_deadlines_survive_a_restart(
    reused_database_url: str, demo_plant: Plant, clock: Clock
) -> None:
    with WorkOrderStore(reused_database_url, plant=demo_plant, clock=clock) as before:
        number = record(
            before,
            finding("P-101", "vibration", severity=Severity.ALARM),
            demo_plant.equipment["P-101"],
        ).order.number
    clock.advance(16 * MINUTE)  # the service was down when the deadline passed
    with WorkOrderStore(reused_database_url, plant=demo_plant, clock=clock) as after:
        assert after.orders.fire_due_timers() == 1
        assert after.orders.get(number).escalation_level == 1
        escalated = [d for d in after.outbox.list() if d.event == Event.ESCALATED.value]
        assert escalated == []  # no webhooks configured; the trail has it
        assert [a for a, _ in _escalations(after, number)] == ["escalated"]


def test_a_worsening_condition_raises_priority_and_brings_deadlines_forward(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    pump = demo_plant.equipment["P-103"]  # medium criticality
    first = record(plant_store, finding(severity=Severity.WARNING), pump).order
    assert first.priority is Priority.MEDIUM
    assert first.ack_due_at == first.created_at + timedelta(hours=4)
    clock.advance(10 * MINUTE)
    worse = record(plant_store, finding(severity=Severity.CRITICAL, ts=T0 + 600), pump).order
    assert worse.number == first.number
    assert worse.severity is Severity.CRITICAL
    assert worse.priority is Priority.URGENT
    assert worse.ack_due_at == first.created_at + timedelta(minutes=15)
    trail = plant_store.orders.history(first.number)
    worsened = next(e for e in trail if e.action == "worsened")
    assert worsened.before is not None
    assert worsened.after is not None
    assert (worsened.before["priority"], worsened.after["priority"]) == ("medium", "urgent")
    assert (worsened.before["severity"], worsened.after["severity"]) == ("warning", "critical")
    clock.advance(6 * MINUTE)  # 16 min after creation: past the urgent time to acknowledge
    assert plant_store.orders.fire_due_timers() == 1
    # a later, milder finding never lowers anything
    calmer = record(plant_store, finding(severity=Severity.WARNING, ts=T0 + 900), pump).order
    assert (calmer.priority, calmer.severity) == (Priority.URGENT, Severity.CRITICAL)


def test_timers_of_closed_orders_never_fire(
    plant_store: WorkOrderStore, demo_plant: Plant, clock: Clock
) -> None:
    order = record(
        plant_store,
        finding("P-101", "vibration", severity=Severity.ALARM),
        demo_plant.equipment["P-101"],
    ).order
    plant_store.orders.close_order(order.number, by="ann")
    clock.advance(10 * 3600)
    assert plant_store.orders.fire_due_timers() == 0
    assert _escalations(plant_store, order.number) == []


def test_two_schedulers_do_not_fire_the_same_deadline_twice(
    reused_database_url: str, demo_plant: Plant, clock: Clock
) -> None:
    with (
        WorkOrderStore(reused_database_url, plant=demo_plant, clock=clock) as one,
        WorkOrderStore(reused_database_url, plant=demo_plant, clock=clock) as two,
    ):
        for pump in ("P-101", "P-102", "P-201", "P-202"):
            record(
                one,
                finding(pump, "vibration", severity=Severity.ALARM),
                demo_plant.equipment[pump],
            )
        clock.advance(16 * MINUTE)
        fired: list[int] = []
        threads = [
            threading.Thread(target=lambda s=s: fired.append(s.orders.fire_due_timers()))
            for s in (one, two, one, two)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(fired) == 4
        assert all(o.escalation_level == 1 for o in one.orders.list())
