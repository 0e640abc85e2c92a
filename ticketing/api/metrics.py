"""Prometheus metrics of the ticketing API: work orders by status and priority, active alarms,
escalations, the outbox (by state, age of the oldest pending delivery), and request counts and
latencies per route. One registry per app, so several apps in a process do not collide."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketing.change_feed import ChangeFeed
from ticketing.errors import StorageError
from ticketing.store import WorkOrderStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _StoreCollector(Collector):
    def __init__(self, store: WorkOrderStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self.store.analytics.counts()
        except StorageError:
            up = GaugeMetricFamily("forewarn_ticketing_database_up", "Database answers.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("forewarn_ticketing_database_up", "Database answers.")
        up.add_metric([], 1)
        yield up
        orders = GaugeMetricFamily(
            "forewarn_work_orders",
            "Work orders by status and priority.",
            labels=["status", "priority"],
        )
        for (status, priority), n in sorted(counts["orders"].items()):
            orders.add_metric([status, priority], n)
        yield orders
        deliveries = GaugeMetricFamily(
            "forewarn_outbox_deliveries", "Outgoing deliveries by state.", labels=["state"]
        )
        for state, n in sorted(counts["deliveries"].items()):
            deliveries.add_metric([state], n)
        yield deliveries
        oldest = GaugeMetricFamily(
            "forewarn_outbox_oldest_pending_seconds", "Age of the oldest pending delivery."
        )
        oldest.add_metric([], counts["oldest_pending_delivery_seconds"])
        yield oldest
        escalations = CounterMetricFamily(
            "forewarn_escalations", "Escalations of unacknowledged orders."
        )
        escalations.add_metric([], counts["escalations"])
        yield escalations
        alarms = GaugeMetricFamily("forewarn_active_alarms", "Active alarms.")
        alarms.add_metric([], counts["active_alarms"])
        yield alarms


class _FeedCollector(Collector):
    def __init__(self, feed: ChangeFeed) -> None:
        self.feed = feed

    def collect(self) -> Iterator[Metric]:
        stats = self.feed.stats
        yield _gauge(
            "forewarn_event_streams", "Open event streams of this process.", self.feed.subscribers
        )
        yield _gauge(
            "forewarn_event_listener_connected",
            "The database listener that wakes the event streams is connected (PostgreSQL).",
            int(stats.connected),
        )
        for name, help_text, value in (
            ("forewarn_event_listener_connects", "Connections the listener made.", stats.connects),
            ("forewarn_event_listener_drops", "Listener connections lost.", stats.drops),
            (
                "forewarn_event_notifications",
                "Database notifications that woke the event streams.",
                stats.notifications,
            ),
        ):
            counter = CounterMetricFamily(name, help_text)
            counter.add_metric([], value)
            yield counter


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, help_text)
    gauge.add_metric([], value)
    return gauge


class Metrics:
    def __init__(self, store: WorkOrderStore, feed: ChangeFeed) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_StoreCollector(store))
        self.registry.register(_FeedCollector(feed))
        self.requests = Histogram(
            "forewarn_api_request_seconds",
            "API request latency by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class RequestTimer:
    """ASGI middleware that times each request under its route template (never the raw path,
    so unknown URLs cannot grow the label set)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(template, scope.get("method", ""), str(status)).observe(
                time.perf_counter() - started
            )
