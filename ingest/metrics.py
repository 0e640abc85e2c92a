"""Prometheus metrics of the sources, read from their `SourceStats` at scrape time (nothing is
counted twice on the hot path). Use a registry per process; mount `exposition()` at /metrics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.base import SourceStats


class SourceCollector(Collector):
    """Messages and readings in, rejects by reason, queue depth, end-to-end lag, connection state
    and gaps, per source (labelled by the name it is registered under)."""

    def __init__(self, sources: Mapping[str, SourceStats]) -> None:
        self._sources = sources

    def collect(self) -> Iterator[Metric]:
        messages = CounterMetricFamily(
            "forewarn_ingest_messages", "Messages received", labels=["source"]
        )
        readings = CounterMetricFamily(
            "forewarn_ingest_readings", "Readings handed to the pipeline", labels=["source"]
        )
        rejected = CounterMetricFamily(
            "forewarn_ingest_rejected", "Messages or values rejected", labels=["source", "reason"]
        )
        depth = GaugeMetricFamily(
            "forewarn_ingest_queue_depth", "Items waiting in the source queue", labels=["source"]
        )
        lag = GaugeMetricFamily(
            "forewarn_ingest_lag_seconds",
            "End-to-end lag of the last batch (now minus its newest source timestamp)",
            labels=["source"],
        )
        lag_total = CounterMetricFamily(
            "forewarn_ingest_lag_seconds_sum", "Sum of batch lags", labels=["source"]
        )
        lag_count = CounterMetricFamily(
            "forewarn_ingest_lag_batches", "Batches whose lag was measured", labels=["source"]
        )
        connected = GaugeMetricFamily(
            "forewarn_ingest_connected", "1 while the source is connected", labels=["source"]
        )
        connects = CounterMetricFamily(
            "forewarn_ingest_connects", "Successful connections", labels=["source"]
        )
        gaps = CounterMetricFamily(
            "forewarn_ingest_gaps", "Connection losses recovered from", labels=["source"]
        )
        gap_seconds = CounterMetricFamily(
            "forewarn_ingest_gap_seconds", "Time without a connection", labels=["source"]
        )
        for name, stats in self._sources.items():
            messages.add_metric([name], stats.messages)
            readings.add_metric([name], stats.readings)
            for reason, count in sorted(stats.dead_letters.counts.items()):
                rejected.add_metric([name, reason.value], count)
            depth.add_metric([name], stats.queue_depth)
            lag.add_metric([name], stats.lag_seconds)
            lag_total.add_metric([name], stats.lag_sum)
            lag_count.add_metric([name], stats.lag_count)
            connected.add_metric([name], 1.0 if stats.connected else 0.0)
            connects.add_metric([name], stats.connects)
            gaps.add_metric([name], stats.gaps)
            gap_seconds.add_metric([name], stats.gap_seconds)
        yield from (
            messages,
            readings,
            rejected,
            depth,
            lag,
            lag_total,
            lag_count,
            connected,
            connects,
            gaps,
            gap_seconds,
        )


def ingest_registry(sources: Mapping[str, SourceStats]) -> CollectorRegistry:
    """A registry of its own (never the global default) with the sources' metrics."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(SourceCollector(sources))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of a registry (content type `text/plain; version=0.0.4`)."""
    return generate_latest(registry)
