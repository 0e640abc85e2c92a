"""The dead-letter file: bounded (newest kept), totals that count every reject, readable by another
connection while the recorder writes, and fed by the sources' `DeadLetters` through a sink."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ingest import (
    DeadLetterRecorder,
    DeadLetters,
    DeadLetterStore,
    DeadLetterStoreError,
    Reject,
    RejectReason,
)


def reject(i: int, reason: RejectReason = RejectReason.PARSE_ERROR) -> Reject:
    return Reject(reason, f"t/{i}", f"detail {i}", f"payload {i}".encode(), 1_000.0 + i)


def wait_for(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_keeps_the_newest_and_counts_all(tmp_path: Path) -> None:
    path = tmp_path / "dl.sqlite3"
    with DeadLetterStore(path, capacity=5) as store:
        store.add(
            [("mqtt", reject(i)) for i in range(8)],
            {("mqtt", RejectReason.PARSE_ERROR): (8, 1007.0)},
        )
        store.add(
            [("opcua:plc", reject(8, RejectReason.UNKNOWN_SIGNAL))],
            {
                ("opcua:plc", RejectReason.UNKNOWN_SIGNAL): (1, 1008.0),
                ("mqtt", RejectReason.PARSE_ERROR): (3, 1005.0),  # counted, not sampled
            },
        )
        kept = store.samples(limit=100)
        assert [r.topic for r in kept] == ["t/8", "t/7", "t/6", "t/5", "t/4"]
        assert kept[0].source == "opcua:plc"
        assert kept[0].reason is RejectReason.UNKNOWN_SIGNAL
        assert kept[1].payload == b"payload 7"
        assert kept[1].received_at == 1_007.0
        assert [r.topic for r in store.samples(reason=RejectReason.PARSE_ERROR, limit=2)] == [
            "t/7",
            "t/6",
        ]
        assert store.samples(source="nope") == []
        totals = {(t.source, t.reason): (t.count, t.kept, t.last_at) for t in store.totals()}
        assert totals == {
            ("mqtt", RejectReason.PARSE_ERROR): (11, 4, 1007.0),
            ("opcua:plc", RejectReason.UNKNOWN_SIGNAL): (1, 1, 1008.0),
        }
        assert [t.source for t in store.totals(source="opcua:plc")] == ["opcua:plc"]
    with DeadLetterStore(path, read_only=True) as again:
        assert len(again.samples(limit=100)) == 5  # survives a restart


def test_read_only_needs_the_file_and_never_writes(tmp_path: Path) -> None:
    with pytest.raises(DeadLetterStoreError, match="no dead-letter file"):
        DeadLetterStore(tmp_path / "missing.sqlite3", read_only=True)
    path = tmp_path / "dl.sqlite3"
    DeadLetterStore(path).close()
    with DeadLetterStore(path, read_only=True) as reader, pytest.raises(sqlite3.Error):
        reader.add([("mqtt", reject(1))], {("mqtt", RejectReason.PARSE_ERROR): (1, 1001.0)})


def test_a_reader_sees_batches_while_the_recorder_writes(tmp_path: Path) -> None:
    path = tmp_path / "dl.sqlite3"
    recorder = DeadLetterRecorder(path, capacity=1000, flush_interval=0.05)
    letters = DeadLetters(capacity=10, sink=recorder.sink("mqtt"))
    recorder.start()
    assert path.is_file()  # a reader may open it at once
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        with DeadLetterStore(path, read_only=True) as reader:
            while not stop.is_set():
                seen.append(sum(t.count for t in reader.totals()))
                time.sleep(0.01)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(3000):
            letters.add(reject(i))
        wait_for(lambda: recorder.written == 3000)
    finally:
        stop.set()
        reader.join()
        recorder.close()
    assert seen == sorted(seen)  # every read is a committed batch: totals only grow
    with DeadLetterStore(path, read_only=True) as store:
        assert [t.count for t in store.totals()] == [3000]
        assert len(store.samples(limit=5000)) == 1000
        assert store.samples(limit=1)[0].topic == "t/2999"
    assert len(letters.samples()) == 10  # the source's own in-memory sample stays small
    assert letters.counts[RejectReason.PARSE_ERROR] == 3000


def test_a_full_buffer_drops_the_oldest_but_the_totals_count_everything(tmp_path: Path) -> None:
    path = tmp_path / "dl.sqlite3"
    recorder = DeadLetterRecorder(path, max_pending=4)  # not started
    sink = recorder.sink("mqtt")
    for i in range(10):
        sink(reject(i))
    assert recorder.dropped == 6
    recorder.close()  # writes what is pending
    with DeadLetterStore(path, read_only=True) as store:
        assert [r.topic for r in store.samples()] == ["t/9", "t/8", "t/7", "t/6"]
        [total] = store.totals()
        assert total.count == 10
        assert total.kept == 4
        assert total.last_at == 1_009.0


def test_payloads_are_cut_to_an_excerpt_before_they_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "dl.sqlite3"
    recorder = DeadLetterRecorder(path)
    letters = DeadLetters(sink=recorder.sink("mqtt"))
    letters.add(Reject(RejectReason.PAYLOAD_TOO_LARGE, "t", "big", b"x" * 100_000, 1.0))
    recorder.close()
    with DeadLetterStore(path, read_only=True) as store:
        [kept] = store.samples()
    assert kept.payload == b"x" * DeadLetters.PAYLOAD_EXCERPT


def test_a_recorder_with_nothing_to_write_leaves_no_file(tmp_path: Path) -> None:
    DeadLetterRecorder(tmp_path / "dl.sqlite3").close()
    assert not (tmp_path / "dl.sqlite3").exists()
