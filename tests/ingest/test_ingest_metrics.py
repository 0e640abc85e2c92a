from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from devices import Reading, ReadingColumns
from ingest import DeadLetters, Reject, RejectReason, SourceStats
from ingest.metrics import exposition, ingest_registry


def test_metrics_read_the_source_counters() -> None:
    stats = SourceStats(
        messages=5, readings=12, connected=True, connects=2, queue_depth=3, queue_full_seconds=7
    )
    stats.dead_letters = DeadLetters()
    stats.dead_letters.add(Reject(RejectReason.PARSE_ERROR, "t", "x", b"", 0.0))
    stats.observe_lag(ReadingColumns.of([Reading("P", "s", 90.0, 1.0)]), now=100.0)
    registry = ingest_registry({"mqtt": stats})
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition(registry).decode())
        for s in family.samples
    }
    assert samples[("forewarn_ingest_messages_total", (("source", "mqtt"),))] == 5
    assert samples[("forewarn_ingest_readings_total", (("source", "mqtt"),))] == 12
    key = ("forewarn_ingest_rejected_total", (("reason", "parse_error"), ("source", "mqtt")))
    assert samples[key] == 1
    assert samples[("forewarn_ingest_queue_depth", (("source", "mqtt"),))] == 3
    assert samples[("forewarn_ingest_queue_full_seconds_total", (("source", "mqtt"),))] == 7
    assert samples[("forewarn_ingest_lag_seconds", (("source", "mqtt"),))] == 10.0
    assert samples[("forewarn_ingest_connected", (("source", "mqtt"),))] == 1.0
    stats.connected = False
    assert b'forewarn_ingest_connected{source="mqtt"} 0.0' in exposition(registry)
