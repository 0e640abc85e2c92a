"""Webhooks, notifications and automatic actions through the transactional outbox, delivered by
the real worker to a real local HTTP receiver: signed, idempotent, in order per order, retried
with backoff, and nothing lost while the receiver is down."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import pytest
from receiver import Receiver
from workorder_helpers import T0, finding, plant_notifying, record

from devices import Plant, Severity
from tests.conftest import free_port
from ticketing import DeliveryState, Event, Outcome, Workers, WorkOrderStore
from ticketing.outbox import SIGNATURE_HEADER, verify

SECRET = "s3cret-for-the-webhook-test"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(free_port())
    server.start()
    yield server
    server.stop()


@asynccontextmanager
async def running(store: WorkOrderStore, **options: object) -> AsyncIterator[Workers]:
    settings: dict[str, object] = {"poll_interval": 0.2, "timer_interval": 0.2, **options}
    workers = Workers(store, **settings)  # type: ignore[arg-type]
    task = asyncio.create_task(workers.run())
    try:
        yield workers
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], bool], within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.02)


async def test_webhooks_get_signed_ordered_events_and_the_external_id_is_kept(
    reused_database_url: str, demo_plant: Plant, receiver: Receiver
) -> None:
    receiver.answer = {"/hook": {"external_id": "CMMS-77"}}
    with WorkOrderStore(reused_database_url, plant=demo_plant) as store:
        store.access.add_webhook("cmms", receiver.url("/hook"), by="admin", secret=SECRET)
        async with running(store):
            pump = demo_plant.equipment["P-103"]
            number = (await asyncio.to_thread(record, store, finding(), pump)).order.number
            await asyncio.to_thread(store.orders.acknowledge, number, by="ann")
            await asyncio.to_thread(
                store.orders.close_order, number, by="ann", outcome=Outcome.CONFIRMED, cause="wear"
            )
            await until(lambda: len(receiver.on("/hook")) == 3)
            await until(lambda: not store.outbox.list(state="pending"))
        events = [r.json for r in receiver.on("/hook")]
        assert [e["event"] for e in events] == [
            Event.CREATED.value,
            Event.UPDATED.value,
            Event.CLOSED.value,
        ]
        assert [e["work_order"]["status"] for e in events] == ["open", "acknowledged", "closed"]
        assert events[0]["external_id"] is None
        assert events[1]["external_id"] == events[2]["external_id"] == "CMMS-77"
        assert events[2]["work_order"]["found_cause"] == "wear"
        for delivery in receiver.on("/hook"):
            assert verify(SECRET, delivery.headers[SIGNATURE_HEADER], delivery.body)
            assert not verify("wrong", delivery.headers[SIGNATURE_HEADER], delivery.body)
            assert delivery.headers["Idempotency-Key"]
        keys = {d.headers["Idempotency-Key"] for d in receiver.on("/hook")}
        assert len(keys) == 3
        assert store.outbox.external_ids(number) == {"cmms": "CMMS-77"}
        trail = store.orders.history(number)
        assert any(e.action == "external_id" and "CMMS-77" in e.note for e in trail)
        assert {d.state for d in store.outbox.list()} == {DeliveryState.DELIVERED}


async def test_a_receiver_that_is_down_loses_nothing(
    reused_database_url: str, demo_plant: Plant
) -> None:
    receiver = Receiver(free_port())  # not started: connection refused
    with WorkOrderStore(reused_database_url, plant=demo_plant) as store:
        store.access.add_webhook("cmms", receiver.url("/hook"), by="admin", secret=SECRET)
        try:
            async with running(store) as workers:
                pump = demo_plant.equipment["P-103"]
                number = (await asyncio.to_thread(record, store, finding(), pump)).order.number
                await asyncio.to_thread(store.orders.acknowledge, number, by="ann")
                await asyncio.to_thread(store.orders.comment, number, by="ann", body="on my way")
                await until(
                    lambda: max(d.attempts for d in store.outbox.list(state="pending")) >= 2
                )
                assert workers.stats.failed_attempts >= 2
                pending = store.outbox.list(state="pending")
                assert len(pending) == 3
                assert max(d.attempts for d in pending) >= 2
                assert all("ConnectError" in (d.last_error or "") for d in pending if d.attempts)
                receiver.start()
                await until(lambda: len(receiver.on("/hook")) >= 3, within=30)
                await until(lambda: not store.outbox.list(state="pending"))
        finally:
            receiver.stop()
        got = receiver.on("/hook")
        assert [r.json["event"] for r in got] == [
            Event.CREATED.value,
            Event.UPDATED.value,
            Event.UPDATED.value,
        ]
        assert [r.json["note"] for r in got][1:] == ["acknowledged", "comment by ann"]
        attempts = {d.key: d.attempts for d in store.outbox.list()}
        assert {r.headers["Idempotency-Key"] for r in got} == set(attempts)
        assert attempts[got[0].headers["Idempotency-Key"]] >= 2  # retried, same key


async def test_an_urgent_order_reaches_its_first_target_within_three_seconds(
    reused_database_url: str, receiver: Receiver
) -> None:
    plant = plant_notifying(receiver.url(""))
    with WorkOrderStore(reused_database_url, plant=plant) as store:
        async with running(store, poll_interval=2.0):
            recorded_at = time.monotonic()
            recorded = await asyncio.to_thread(
                record,
                store,
                finding("P-101", "vibration", severity=Severity.ALARM),
                plant.equipment["P-101"],
            )
            assert recorded.order.priority.value == "urgent"
            assignee = recorded.order.assignee
            assert assignee == "alice"
            await until(lambda: bool(receiver.on(f"/people/{assignee}")), within=3.0)
        [note] = receiver.on("/people/alice")
        latency = note.at - recorded_at
        print(f"urgent order -> first notification: {latency * 1000:.0f} ms")
        assert latency < 3.0
        body = note.json
        assert body["reason"] == "opened"
        assert body["work_order"]["number"] == recorded.order.number
        assert "urgent" in body["message"]
        assert note.headers["Idempotency-Key"]


async def test_escalations_notify_each_level_s_contact(
    reused_database_url: str, receiver: Receiver
) -> None:
    from datetime import UTC, datetime, timedelta

    from workorder_helpers import Clock

    clock = Clock(datetime.now(UTC))
    plant = plant_notifying(receiver.url(""))
    with WorkOrderStore(reused_database_url, plant=plant, clock=clock) as store:
        async with running(store):
            number = (
                await asyncio.to_thread(
                    record,
                    store,
                    finding("P-101", "vibration", severity=Severity.ALARM),
                    plant.equipment["P-101"],
                )
            ).order.number
            clock.now += timedelta(minutes=31)
            await until(lambda: bool(receiver.on("/people/mona")))
            await until(lambda: len(receiver.on("/people/alice")) == 2)
        escalated = receiver.on("/people/alice")[-1].json
        assert escalated["reason"] == "escalated"
        assert "level 1" in escalated["message"]
        assert receiver.on("/people/mona")[0].json["work_order"]["number"] == number
        assert receiver.on("/people/paul") == []


async def test_automatic_actions_publish_and_call_and_are_audited(
    reused_database_url: str, receiver: Receiver
) -> None:
    plant = plant_notifying(
        receiver.url(""),
        actions=[
            {
                "failure_mode": "VIB",
                "when": ["opened", "escalated"],
                "mqtt": {
                    "topic": "{site}/{area}/{line}/{equipment}/cmd",
                    "payload": {"command": "reduce_load", "order": "{order}"},
                },
            },
            {"failure_mode": "PDE", "webhook": {"url": receiver.url("/line-controller")}},
        ],
    )
    published: list[tuple[str, bytes, int, bool]] = []
    broker_up = False

    async def publish(topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if not broker_up:
            raise ConnectionError("broker down")
        published.append((topic, payload, qos, retain))

    with WorkOrderStore(reused_database_url, plant=plant) as store:
        async with running(store, publish=publish) as workers:
            vib = (
                await asyncio.to_thread(
                    record, store, finding("P-103", "vibration"), plant.equipment["P-103"]
                )
            ).order.number
            pde = (
                await asyncio.to_thread(
                    record, store, finding("P-103", "flow", ts=T0 + 1), plant.equipment["P-103"]
                )
            ).order.number
            await until(lambda: bool(receiver.on("/line-controller")))
            await until(lambda: workers.stats.failed_attempts >= 1)
            broker_up = True
            await until(lambda: bool(published))
            await until(
                lambda: any(e.action == "action_delivered" for e in store.orders.history(vib))
            )
        [(topic, payload, qos, retain)] = published
        assert topic == "demo/treatment/line-1/P-103/cmd"
        assert json.loads(payload) == {"command": "reduce_load", "order": vib}
        assert (qos, retain) == (1, False)
        called = receiver.on("/line-controller")[0].json
        assert (called["action"], called["work_order"]["number"]) == ("opened", pde)
        for number in (vib, pde):
            actions = [e.action for e in store.orders.history(number)]
            assert "action_queued" in actions
            assert "action_delivered" in actions
