"""Prometheus metrics of the pipeline and the engine: readings and findings, every reading the
engine could not use by reason, and the health verdict, read from their counters at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from forewarn.health import Status, Verdict
from forewarn.pipeline import Pipeline

ENGINE_DROP_REASONS = (
    "unknown_stream",
    "out_of_order",
    "clock_went_back",
    "not_finite",
    "bad_quality",
)


class PipelineCollector(Collector):
    def __init__(self, pipeline: Pipeline, health: Callable[[], Verdict]) -> None:
        self._pipeline = pipeline
        self._health = health

    def collect(self) -> Iterator[Metric]:
        stats = self._pipeline.stats
        engine = asdict(self._pipeline.engine.stats)
        yield CounterMetricFamily(
            "forewarn_pipeline_readings", "Readings the pipeline processed", value=stats.readings
        )
        yield CounterMetricFamily(
            "forewarn_pipeline_findings", "Findings of the engine", value=stats.findings
        )
        yield CounterMetricFamily(
            "forewarn_pipeline_orders_opened", "Work orders opened", value=stats.orders_opened
        )
        busy = CounterMetricFamily(
            "forewarn_pipeline_busy_seconds",
            "Wall time the pipeline spent in each stage (its rate is the stage's share of a core)",
            labels=["stage"],
        )
        busy.add_metric(["engine"], stats.engine_seconds)
        busy.add_metric(["record"], stats.record_seconds)
        busy.add_metric(["snapshot"], stats.snapshot_seconds)
        yield busy
        dropped = CounterMetricFamily(
            "forewarn_engine_dropped",
            "Readings the engine did not score, by reason",
            labels=["reason"],
        )
        for reason in ENGINE_DROP_REASONS:
            dropped.add_metric([reason], engine.get(reason, 0))
        yield dropped
        yield CounterMetricFamily(
            "forewarn_engine_clock_reanchored",
            "Streams re-anchored on a device's earlier clock after a sustained jump back",
            value=engine.get("clock_reanchored", 0),
        )
        verdict = self._health()
        status = GaugeMetricFamily(
            "forewarn_health_status", "1 for the current health status", labels=["status"]
        )
        for value in Status:
            status.add_metric([value.value], 1.0 if verdict.status is value else 0.0)
        yield status
