"""Findings that wait for the work-order database: while it is unreachable, findings go to a
spool on local disk (SQLite, bounded by bytes) and are recorded in order when it answers again.
Recording is idempotent per order (one active order per equipment + failure mode), so a finding
replayed after an outage that hid a successful commit updates its order instead of opening
another.

`SpoolingRecorder.record` has the store's signature; `run()` retries the spool on a timer and
`status()` says how many findings wait, since when, and why."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from devices import Equipment, Finding, FindingKind, Plant, Severity
from ticketing.base import Recorded
from ticketing.errors import StorageError
from ticketing.store import WorkOrderStore

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024 * 1024
OnReplayed = Callable[[Finding, Recorded | None], None]


def unavailable(exc: StorageError) -> bool:
    """Whether the database could not be reached (worth waiting for), rather than refusing the
    finding itself."""
    cause = exc.__cause__
    if isinstance(cause, OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(cause, DBAPIError) and cause.connection_invalidated


def finding_to_json(finding: Finding) -> str:
    return json.dumps(asdict(finding))


def finding_from_json(text: str) -> Finding:
    data: dict[str, Any] = json.loads(text)
    ttl_range = data.get("time_to_limit_range")
    return Finding(
        equipment_id=data["equipment_id"],
        signals=tuple(data["signals"]),
        kind=FindingKind(data["kind"]),
        severity=Severity(data["severity"]),
        score=data["score"],
        ts=data["ts"],
        detector=data["detector"],
        summary=data["summary"],
        active=data["active"],
        time_to_limit=data.get("time_to_limit"),
        time_to_limit_range=tuple(ttl_range) if ttl_range is not None else None,
        evidence={s: tuple((p[0], p[1]) for p in pts) for s, pts in data["evidence"].items()},
    )


class FindingSpool:
    """An ordered queue of findings in an SQLite file, at most `max_bytes` of them."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS spool ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, spooled_at REAL NOT NULL, body TEXT NOT NULL)"
        )
        self.pending, self.bytes = self._db.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0) FROM spool"
        ).fetchone()

    def put(self, finding: Finding) -> bool:
        """Append `finding`; False (and nothing written) when the spool is full."""
        body = finding_to_json(finding)
        if self.bytes + len(body) > self.max_bytes:
            return False
        self._db.execute("INSERT INTO spool (spooled_at, body) VALUES (?, ?)", (time.time(), body))
        self.pending += 1
        self.bytes += len(body)
        return True

    def head(self) -> tuple[int, Finding] | None:
        row = self._db.execute("SELECT id, body FROM spool ORDER BY id LIMIT 1").fetchone()
        return None if row is None else (row[0], finding_from_json(row[1]))

    def remove(self, spool_id: int) -> None:
        row = self._db.execute(
            "DELETE FROM spool WHERE id = ? RETURNING length(body)", (spool_id,)
        ).fetchone()
        if row is not None:
            self.pending -= 1
            self.bytes -= row[0]

    def oldest(self) -> float | None:
        """When the oldest waiting finding was spooled (epoch seconds)."""
        row = self._db.execute("SELECT min(spooled_at) FROM spool").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class StoreStatus:
    """What the health endpoint and metrics report about recording findings."""

    state: Literal["ok", "degraded"]
    """`degraded` while findings wait in the spool (the database does not answer)."""
    pending: int
    pending_bytes: int
    max_bytes: int
    oldest_age: float | None
    """Seconds the oldest waiting finding has waited."""
    spooled: int
    replayed: int
    dropped: int
    """Findings lost because the spool was full."""
    refused: int
    """Spooled findings the database refused on replay (not an outage); logged with the reason."""
    last_error: str | None
    last_error_age: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class SpoolingRecorder:
    """Records findings in `store`; while it is unreachable, in `spool`, replayed in order."""

    def __init__(
        self,
        store: WorkOrderStore,
        plant: Plant,
        spool: FindingSpool,
        *,
        retry_every: float = 2.0,
        on_replayed: OnReplayed | None = None,
    ) -> None:
        self.store = store
        self.plant = plant
        self.spool = spool
        self.retry_every = retry_every
        self.on_replayed = on_replayed
        self.spooled = self.replayed = self.dropped = self.refused = 0
        self.last_error: str | None = None
        self._last_error_at: float | None = None
        self._lock = threading.Lock()

    def record(self, finding: Finding, equipment: Equipment) -> Recorded | None:
        """Record `finding` (after what waits before it), or spool it if the database is down;
        None when spooled. Errors other than an unreachable database propagate."""
        with self._lock:
            if self.spool.pending and (self._failed_recently() or not self._replay()):
                self._put(finding)
                return None
            try:
                return self.store.orders.record(finding, equipment)
            except StorageError as exc:
                if not unavailable(exc):
                    raise
                self._failed(exc)
                self._put(finding)
                return None

    def replay(self) -> bool:
        """Record what waits, oldest first, until the spool is empty (True) or the database
        fails again (False)."""
        with self._lock:
            return self._replay()

    async def run(self) -> None:
        """Replay the spool every `retry_every` seconds while findings wait; until cancelled."""
        while True:
            await asyncio.sleep(self.retry_every)
            if self.spool.pending:
                await asyncio.to_thread(self.replay)

    def status(self) -> StoreStatus:
        now = time.time()
        oldest = self.spool.oldest() if self.spool.pending else None
        return StoreStatus(
            state="degraded" if self.spool.pending else "ok",
            pending=self.spool.pending,
            pending_bytes=self.spool.bytes,
            max_bytes=self.spool.max_bytes,
            oldest_age=None if oldest is None else max(0.0, now - oldest),
            spooled=self.spooled,
            replayed=self.replayed,
            dropped=self.dropped,
            refused=self.refused,
            last_error=self.last_error,
            last_error_age=None if self._last_error_at is None else now - self._last_error_at,
        )

    def _replay(self) -> bool:
        first = self.spool.pending
        while (head := self.spool.head()) is not None:
            spool_id, finding = head
            equipment = self.plant.equipment.get(finding.equipment_id)
            if equipment is None:
                self._refuse(spool_id, finding, "its equipment is no longer in the plant file")
                continue
            try:
                recorded = self.store.orders.record(finding, equipment)
            except StorageError as exc:
                if unavailable(exc):
                    self._failed(exc)
                    return False
                self._refuse(spool_id, finding, str(exc))
                continue
            self.spool.remove(spool_id)
            self.replayed += 1
            if self.on_replayed is not None:
                self.on_replayed(finding, recorded)
        if first:
            log.info("the work-order database answers again: %d waiting findings recorded", first)
        return True

    def _failed_recently(self) -> bool:
        at = self._last_error_at
        return at is not None and time.time() - at < self.retry_every

    def _put(self, finding: Finding) -> None:
        if self.spool.put(finding):
            self.spooled += 1
            return
        self.dropped += 1
        log.error(
            "finding spool %s is full (%d bytes); a finding about %s is lost: bring the "
            "work-order database back or raise the spool size",
            self.spool.path,
            self.spool.max_bytes,
            finding.equipment_id,
        )

    def _failed(self, exc: StorageError) -> None:
        if self.last_error is None or self.spool.pending == 0:
            log.warning("%s; findings wait in %s until it answers", exc, self.spool.path)
        self.last_error = str(exc)
        self._last_error_at = time.time()

    def _refuse(self, spool_id: int, finding: Finding, reason: str) -> None:
        self.spool.remove(spool_id)
        self.refused += 1
        log.error(
            "a spooled finding about %s (%s at %s) was refused and dropped: %s",
            finding.equipment_id,
            finding.detector,
            finding.ts if math.isfinite(finding.ts) else "?",
            reason,
        )


class SpoolCollector(Collector):
    """Prometheus metrics of a `SpoolingRecorder` (register it in the API's registry)."""

    def __init__(self, recorder: SpoolingRecorder) -> None:
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        status = self.recorder.status()
        gauges = {
            "pending": ("Findings waiting for the work-order database.", status.pending),
            "pending_bytes": ("Bytes of the waiting findings.", status.pending_bytes),
            "oldest_age_seconds": ("Wait of the oldest finding.", status.oldest_age or 0.0),
        }
        for name, (help_text, value) in gauges.items():
            yield GaugeMetricFamily(f"forewarn_finding_spool_{name}", help_text, value=value)
        counters = {
            "spooled": ("Findings that waited in the spool.", status.spooled),
            "replayed": ("Spooled findings recorded later.", status.replayed),
            "dropped": ("Findings lost because the spool was full.", status.dropped),
            "refused": ("Spooled findings the database refused.", status.refused),
        }
        for name, (help_text, value) in counters.items():
            yield CounterMetricFamily(f"forewarn_finding_spool_{name}", help_text, value=value)
