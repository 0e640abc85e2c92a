"""The background work of the ticketing service: the escalation scheduler, which acts on stored
deadlines, and the delivery worker, which empties the outbox (webhooks, notifications, automatic
actions) with retries and backoff. Both read their work from the database, so a restart loses
nothing, and several processes may run them against one PostgreSQL database.

The delivery worker wakes as soon as this process's store commits something to deliver (an urgent
order's first notification leaves within milliseconds) and polls for the rest (retries, rows
written by other processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ticketing.base import DeliveryKind
from ticketing.errors import StorageError
from ticketing.outbox import SIGNATURE_HEADER, Job, Outcome, signature
from ticketing.store import WorkOrderStore

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int, bool], Awaitable[None]]
"""Publishes an MQTT message: (topic, payload, qos, retain); raises if the broker did not take
it. forewarn hands one in; ticketing never talks MQTT itself."""
USER_AGENT = "forewarn-webhooks/1"
T = TypeVar("T")


@dataclass
class WorkerStats:
    timers_fired: int = 0
    delivered: int = 0
    failed_attempts: int = 0


class Workers:
    """Run with `await workers.run()` (cancel to stop)."""

    def __init__(
        self,
        store: WorkOrderStore,
        *,
        publish: Publish | None = None,
        timer_interval: float = 1.0,
        poll_interval: float = 2.0,
        http_timeout: float = 10.0,
        batch: int = 50,
    ) -> None:
        self.store = store
        self.stats = WorkerStats()
        self._publish = publish
        self._timer_interval = timer_interval
        self._poll_interval = poll_interval
        self._http_timeout = http_timeout
        self._batch = batch
        self._wake = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

        self.store.add_listener(wake)
        try:
            async with (
                httpx.AsyncClient(
                    timeout=self._http_timeout, headers={"User-Agent": USER_AGENT}
                ) as http,
                asyncio.TaskGroup() as tasks,
            ):
                tasks.create_task(self._timers())
                tasks.create_task(self._deliveries(http))
        finally:
            self.store.remove_listener(wake)

    async def _timers(self) -> None:
        while True:
            try:
                fired = await _in_thread(self.store.orders.fire_due_timers)
                self.stats.timers_fired += fired
            except StorageError as exc:
                log.warning("escalation timers: %s; retrying", exc)
            await asyncio.sleep(self._timer_interval)

    async def _deliveries(self, http: httpx.AsyncClient) -> None:
        while True:
            self._wake.clear()
            try:
                jobs = await _in_thread(self.store.outbox.claim, limit=self._batch)
            except StorageError as exc:
                log.warning("outbox: %s; retrying", exc)
                jobs = []
            if jobs:
                outcomes = await asyncio.gather(*(self._deliver(http, job) for job in jobs))
                for job, outcome in zip(jobs, outcomes, strict=True):
                    await self._finish(job, outcome)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(await self._idle_time()):
                    await self._wake.wait()

    async def _idle_time(self) -> float:
        try:
            due = await _in_thread(self.store.outbox.next_due)
        except StorageError:
            return self._poll_interval
        if due is None:
            return self._poll_interval
        wait = (due - self.store.now()).total_seconds()
        return min(max(wait, 0.01), self._poll_interval)

    async def _finish(self, job: Job, outcome: Outcome) -> None:
        if outcome.ok:
            self.stats.delivered += 1
        else:
            self.stats.failed_attempts += 1
            log.info(
                "delivery %s (%s to %s) attempt %d failed: %s",
                job.id,
                job.event,
                job.destination,
                job.attempt,
                outcome.error,
            )
        try:
            await _in_thread(self.store.outbox.finish, job, outcome)
        except StorageError as exc:
            log.warning("could not record delivery %s (its lease will expire): %s", job.id, exc)

    async def _deliver(self, http: httpx.AsyncClient, job: Job) -> Outcome:
        if job.kind is DeliveryKind.ACTION_MQTT:
            return await self._publish_action(job)
        if job.url is None:
            return Outcome(False, error="no URL")
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": job.key,
            "X-Forewarn-Event": job.event,
            "X-Forewarn-Delivery": job.key,
            "X-Forewarn-Attempt": str(job.attempt),
        }
        if job.secret is not None:
            headers[SIGNATURE_HEADER] = signature(job.secret, int(time.time()), job.body)
        try:
            response = await http.post(job.url, content=job.body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            return Outcome(
                False, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            )
        if not response.is_success:
            return Outcome(False, status=response.status_code, error=f"HTTP {response.status_code}")
        external = _external_id(response) if job.kind is DeliveryKind.WEBHOOK else None
        return Outcome(True, status=response.status_code, external_id=external)

    async def _publish_action(self, job: Job) -> Outcome:
        if self._publish is None or job.topic is None:
            return Outcome(False, error="no MQTT publisher is configured for automatic actions")
        try:
            async with asyncio.timeout(self._http_timeout):
                await self._publish(job.topic, job.body, job.qos, job.retain)
        except Exception as exc:  # the publisher's errors are its own; any means "not delivered"
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        return Outcome(True)


async def _in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`asyncio.to_thread`, except that a cancelled caller still waits for the thread's call to
    finish (a store call in flight completes its transaction before the store may be closed)."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


def _external_id(response: httpx.Response) -> str | None:
    """The receiver's id for its ticket: the `X-External-Id` header, or `external_id` (else
    `id`) in a JSON object body."""
    header: str | None = response.headers.get("X-External-Id")
    if header:
        return header.strip()[:200]
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    value: object = body.get("external_id", body.get("id"))
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)[:200]
