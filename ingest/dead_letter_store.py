"""Dead letters on disk: the newest rejects of every source, kept in a SQLite file that an engineer
reads with `forewarn dead-letters` while the service runs.

The file holds a bounded sample (the newest `capacity` rejects) and, beside it, running totals per
source and reason that count every reject, sampled or not. It is in WAL mode, so a reader never
waits for the writer and the writer never waits for a reader.

`DeadLetterRecorder` is the writing side: sources hand it rejects through `sink(source)`, which only
appends to a bounded in-memory buffer (newest kept); its own thread writes the buffer to the file
in one transaction every `flush_interval`, off the sources' hot paths.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ingest.errors import IngestError
from ingest.rejects import Reject, RejectReason

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    topic TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason, id);
CREATE TABLE IF NOT EXISTS reject_totals (
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at REAL NOT NULL,
    PRIMARY KEY (source, reason)
);
"""


class DeadLetterStoreError(IngestError):
    """A dead-letter file that cannot be opened or read."""


@dataclass(frozen=True, slots=True)
class StoredReject:
    """One kept reject, as read back from the file."""

    id: int
    source: str
    reason: RejectReason
    topic: str
    detail: str
    payload: bytes
    received_at: float


@dataclass(frozen=True, slots=True)
class RejectTotal:
    """How many rejects of one reason a source has had since the file was created."""

    source: str
    reason: RejectReason
    count: int
    kept: int
    """How many of them are still in the file's sample."""
    last_at: float


Tally = dict[tuple[str, RejectReason], tuple[int, float]]
"""(source, reason) -> (how many, when the last of them arrived)."""


class DeadLetterStore:
    """The SQLite file. Open it for writing (the service) or `read_only` (the CLI)."""

    def __init__(self, path: Path, *, capacity: int = 10_000, read_only: bool = False) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.path = path
        self.capacity = capacity
        try:
            if read_only:
                if not path.is_file():
                    raise DeadLetterStoreError(
                        f"no dead-letter file at {path}: nothing was rejected there yet, or the "
                        "service keeps its state elsewhere (name its state directory)"
                    )
                self._db = sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, timeout=10, check_same_thread=False
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, timeout=10, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise DeadLetterStoreError(f"cannot open the dead-letter file {path}: {exc}") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def add(self, rejects: Iterable[tuple[str, Reject]], totals: Tally) -> None:
        """Keep `rejects` (source name, reject), add `totals` to the running totals, and drop the
        oldest rejects beyond `capacity`; all in one transaction."""
        with self._db:
            self._db.executemany(
                "INSERT INTO dead_letters (received_at, source, reason, topic, detail, payload) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.received_at, source, r.reason.value, r.topic, r.detail, r.payload)
                    for source, r in rejects
                ],
            )
            self._db.executemany(
                "INSERT INTO reject_totals (source, reason, count, last_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, reason) DO UPDATE SET count = count + excluded.count, "
                "last_at = max(last_at, excluded.last_at)",
                [(s, reason.value, n, last) for (s, reason), (n, last) in totals.items()],
            )
            self._db.execute(
                "DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?",
                (self.capacity,),
            )

    def samples(
        self, *, reason: RejectReason | None = None, source: str | None = None, limit: int = 20
    ) -> list[StoredReject]:
        """Kept rejects, newest first."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        where, params = _filters(reason, source)
        rows = self._query(
            "SELECT id, source, reason, topic, detail, payload, received_at FROM dead_letters"
            f"{where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [
            StoredReject(
                id=row[0],
                source=row[1],
                reason=RejectReason(row[2]),
                topic=row[3],
                detail=row[4],
                payload=bytes(row[5]),
                received_at=row[6],
            )
            for row in rows
        ]

    def totals(
        self, *, reason: RejectReason | None = None, source: str | None = None
    ) -> list[RejectTotal]:
        """Running totals per source and reason, most frequent first."""
        where, params = _filters(reason, source, table="t")
        kept = dict(
            ((row[0], row[1]), row[2])
            for row in self._query(
                "SELECT source, reason, count(*) FROM dead_letters GROUP BY source, reason", ()
            )
        )
        rows = self._query(
            f"SELECT source, reason, count, last_at FROM reject_totals AS t{where} "
            "ORDER BY count DESC, source, reason",
            params,
        )
        return [
            RejectTotal(row[0], RejectReason(row[1]), row[2], kept.get((row[0], row[1]), 0), row[3])
            for row in rows
        ]

    def _query(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise DeadLetterStoreError(
                f"cannot read the dead-letter file {self.path}: {exc}"
            ) from exc


def _filters(
    reason: RejectReason | None, source: str | None, table: str | None = None
) -> tuple[str, tuple[str, ...]]:
    prefix = f"{table}." if table else ""
    clauses, params = [], []
    if reason is not None:
        clauses.append(f"{prefix}reason = ?")
        params.append(reason.value)
    if source is not None:
        clauses.append(f"{prefix}source = ?")
        params.append(source)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


class DeadLetterRecorder:
    """Collects the rejects of every source and writes them to the dead-letter file at `path` in
    batches, from its own thread. Overflow policy: a full buffer drops its oldest rejects (they
    are still counted in the totals). The file is opened by `start` (or by `close`, to write what
    was collected before)."""

    def __init__(
        self,
        path: Path,
        *,
        capacity: int = 10_000,
        flush_interval: float = 0.5,
        max_pending: int = 10_000,
    ) -> None:
        self.path = path
        self.capacity = capacity
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._store: DeadLetterStore | None = None
        self._flush_interval = flush_interval
        self._pending: deque[tuple[str, Reject]] = deque(maxlen=max_pending)
        self._totals: Tally = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dead-letters", daemon=True)

    def sink(self, source: str) -> Callable[[Reject], None]:
        """What a source's `DeadLetters` forwards its rejects to."""

        def record(reject: Reject) -> None:
            key = (source, reject.reason)
            with self._lock:
                pending = self._pending
                if len(pending) == pending.maxlen:
                    self.dropped += 1
                pending.append((source, reject))
                count, last = self._totals.get(key, (0, reject.received_at))
                self._totals[key] = (count + 1, max(last, reject.received_at))

        return record

    def start(self) -> None:
        """Open the file (`DeadLetterStoreError` if it cannot be) and start writing."""
        self._store = DeadLetterStore(self.path, capacity=self.capacity)
        self._thread.start()

    def close(self) -> None:
        """Write what is pending, stop, and close the file."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._store is None:
            if not self._totals:
                return
            self._store = DeadLetterStore(self.path, capacity=self.capacity)
        self.flush()
        self._store.close()

    def flush(self) -> None:
        store = self._store
        if store is None:
            raise RuntimeError("the dead-letter recorder is not started")
        with self._lock:
            if not self._totals:
                return
            rejects = list(self._pending)
            self._pending.clear()
            totals, self._totals = self._totals, {}
        try:
            store.add(rejects, totals)
        except sqlite3.Error as exc:
            self.failures += 1
            self.dropped += len(rejects)
            with self._lock:
                for key, (count, last) in totals.items():
                    newer_count, newer_last = self._totals.get(key, (0, last))
                    self._totals[key] = (count + newer_count, max(last, newer_last))
            log.warning(
                "cannot write %d dead letters to %s (%s); the counts are kept for the next try",
                len(rejects),
                self.path,
                exc,
            )
            return
        self.written += len(rejects)

    def _run(self) -> None:
        while not self._stop.wait(self._flush_interval):
            self.flush()
