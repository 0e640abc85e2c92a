"""Prometheus metrics of the sources, the fan-in, the historian and the dead-letter recorder, read
from their counters at scrape time (nothing is counted twice on the hot path). Use a registry per
process; serve `exposition()` at /metrics with `CONTENT_TYPE`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.base import SourceStats
from ingest.dead_letter_store import DeadLetterRecorder
from ingest.fanin import FanIn
from ingest.historian import Historian

CONTENT_TYPE = CONTENT_TYPE_LATEST


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
        depth_bytes = GaugeMetricFamily(
            "forewarn_ingest_queue_bytes",
            "Estimated memory of the readings waiting in the source queue",
            labels=["source"],
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
        restarts = CounterMetricFamily(
            "forewarn_ingest_loop_restarts",
            "Times the network loop died of an error and was started again",
            labels=["source"],
        )
        gaps = CounterMetricFamily(
            "forewarn_ingest_gaps", "Connection losses recovered from", labels=["source"]
        )
        gap_seconds = CounterMetricFamily(
            "forewarn_ingest_gap_seconds", "Time without a connection", labels=["source"]
        )
        queue_full = CounterMetricFamily(
            "forewarn_ingest_queue_full_seconds",
            "Time the source waited for room in its full queue (the pipeline behind)",
            labels=["source"],
        )
        for name, stats in self._sources.items():
            messages.add_metric([name], stats.messages)
            readings.add_metric([name], stats.readings)
            for reason, count in sorted(stats.dead_letters.counts.items()):
                rejected.add_metric([name, reason.value], count)
            depth.add_metric([name], stats.queue_depth)
            depth_bytes.add_metric([name], stats.queue_bytes)
            lag.add_metric([name], stats.lag_seconds)
            lag_total.add_metric([name], stats.lag_sum)
            lag_count.add_metric([name], stats.lag_count)
            connected.add_metric([name], 1.0 if stats.connected else 0.0)
            connects.add_metric([name], stats.connects)
            restarts.add_metric([name], stats.loop_restarts)
            gaps.add_metric([name], stats.gaps)
            gap_seconds.add_metric([name], stats.gap_seconds)
            queue_full.add_metric([name], stats.queue_full_seconds)
        yield from (
            messages,
            readings,
            rejected,
            depth,
            depth_bytes,
            lag,
            lag_total,
            lag_count,
            connected,
            connects,
            restarts,
            gaps,
            gap_seconds,
            queue_full,
        )


class SinkCollector(Collector):
    """The fan-in's queue, the historian's writes and spool, the dead letters written to disk."""

    def __init__(
        self,
        fanin: FanIn | None = None,
        historian: Historian | None = None,
        recorder: DeadLetterRecorder | None = None,
    ) -> None:
        self._fanin = fanin
        self._historian = historian
        self._recorder = recorder

    def collect(self) -> Iterator[Metric]:
        if self._fanin is not None:
            yield GaugeMetricFamily(
                "forewarn_ingest_merged_queue_batches",
                "Batches of all sources waiting for the pipeline",
                value=self._fanin.queue_depth,
            )
        historian = self._historian
        if historian is not None:
            yield CounterMetricFamily(
                "forewarn_historian_points_written",
                "Points the history server accepted",
                value=historian.written,
            )
            yield CounterMetricFamily(
                "forewarn_historian_points_spooled",
                "Points set aside on local disk (server unreachable or buffer full)",
                value=historian.spooled,
            )
            yield CounterMetricFamily(
                "forewarn_historian_write_failures",
                "Writes the history server did not take",
                value=historian.failures,
            )
            yield GaugeMetricFamily(
                "forewarn_historian_buffered_points",
                "Points in memory waiting to be written",
                value=historian.buffered,
            )
            yield GaugeMetricFamily(
                "forewarn_historian_spool_files",
                "Spool files waiting to be drained",
                value=len(historian.spool_files()),
            )
        recorder = self._recorder
        if recorder is not None:
            yield CounterMetricFamily(
                "forewarn_dead_letters_written",
                "Rejects written to the dead-letter file",
                value=recorder.written,
            )
            yield CounterMetricFamily(
                "forewarn_dead_letters_dropped",
                "Rejects counted but not kept (buffer overflow or a failed write)",
                value=recorder.dropped,
            )


def ingest_registry(
    sources: Mapping[str, SourceStats],
    *,
    fanin: FanIn | None = None,
    historian: Historian | None = None,
    recorder: DeadLetterRecorder | None = None,
) -> CollectorRegistry:
    """A registry of its own (never the global default) with the sources' metrics, and those of
    the fan-in, historian and dead-letter recorder when given."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(SourceCollector(sources))
    if fanin is not None or historian is not None or recorder is not None:
        registry.register(SinkCollector(fanin, historian, recorder))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of a registry (content type `text/plain; version=0.0.4`)."""
    return generate_latest(registry)
