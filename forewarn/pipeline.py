"""Source -> detection engine -> work-order store, with counters and periodic state snapshots."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from detectors import Engine
from devices import Finding, Plant
from forewarn import snapshots
from forewarn.links import LinkWatch
from ingest import Batch, DeadLetters, Reject, RejectReason, Source
from ticketing import FindingRecorder, Recorded

log = logging.getLogger(__name__)

OnRecorded = Callable[[Finding, Recorded], None]
OnProcessed = Callable[[Batch, list[Finding]], None]
"""Called with every batch and its findings (e.g. the historian); must not block."""


@dataclass
class PipelineStats:
    batches: int = 0
    readings: int = 0
    findings: int = 0
    orders_opened: int = 0
    orders_updated: int = 0
    silence_checks: int = 0
    """Times the engine judged silence on the timer, nothing having arrived."""
    masked: int = 0
    """Stale-sensor findings not recorded: they started while the equipment's link was down,
    which its communication finding tells."""
    engine_seconds: float = 0.0
    """Wall time spent in the detection engine (batches and silence checks)."""
    record_seconds: float = 0.0
    """Wall time spent recording findings in the work-order store."""
    snapshot_seconds: float = 0.0
    """Wall time spent saving detector state snapshots."""


class Pipeline:
    """Consumes a source until it ends; every finding becomes a work order or updates one. Once a
    batch's findings are stored, the source is told to commit it (acknowledge its messages):
    a crash before then and the broker hands them out again, and the store's one open order per
    equipment and failure mode makes the repeat an update."""

    def __init__(
        self,
        plant: Plant,
        source: Source,
        engine: Engine,
        store: FindingRecorder,
        *,
        snapshot_file: Path | None = None,
        snapshot_store: snapshots.SnapshotStore | None = None,
        snapshot_interval: float = 60.0,
        snapshot_source_interval: float = 600.0,
        on_recorded: OnRecorded | None = None,
        on_processed: OnProcessed | None = None,
        dead_letters: DeadLetters | None = None,
        links: Callable[[], Mapping[str, str]] | None = None,
        link_grace: float = 60.0,
    ) -> None:
        self.plant = plant
        self.source = source
        self.engine = engine
        self.store = store
        self.stats = PipelineStats()
        self._snapshots = (
            snapshot_store
            if snapshot_store is not None
            else None
            if snapshot_file is None
            else snapshots.FileSnapshots(snapshot_file)
        )
        """Where the detector state is restored from and saved to (`snapshot_file` or
        `snapshot_store`, which wins)."""
        self._snapshot_interval = snapshot_interval
        self._snapshot_source_interval = snapshot_source_interval
        """Source seconds between snapshots too: a backlog or a replay processed faster than
        real time is not hours of learning lost to one crash."""
        self._on_recorded = on_recorded
        self._on_processed = on_processed
        self.dead_letters = dead_letters if dead_letters is not None else DeadLetters()
        """Readings the engine rejected (their clock went back)."""
        self._links = links
        """Equipment id -> why its link is down, now (see `forewarn.links.unreachable`)."""
        self.link_watch = LinkWatch(plant, link_grace)
        self._engine_lock = asyncio.Lock()
        self._last_batch = time.monotonic()
        if self._snapshots is not None:
            snapshots.restore_from(engine, self._snapshots)

    async def run(self) -> None:
        last_snapshot = time.monotonic()
        snapshot_ts = -math.inf
        async for batch in self.source.batches():
            async with self._engine_lock:
                began = time.monotonic()
                findings = await asyncio.to_thread(self.engine.process_columns, batch)
                self._last_batch = time.monotonic()
                self.stats.engine_seconds += self._last_batch - began
            self._dead_letter_clock_rejects()
            if self._on_processed is not None:
                self._on_processed(batch, findings)
            self.stats.batches += 1
            self.stats.readings += len(batch)
            for finding in findings:
                await self._record(finding)
            self.source.commit()
            source_ts = batch.last_ts if len(batch) else snapshot_ts
            if not math.isfinite(snapshot_ts):
                snapshot_ts = source_ts
            if (
                time.monotonic() - last_snapshot >= self._snapshot_interval
                or source_ts - snapshot_ts >= self._snapshot_source_interval
            ):
                await self._snapshot()
                last_snapshot = time.monotonic()
                snapshot_ts = source_ts
        await self._snapshot()
        log.info("pipeline finished: %s", self.stats)

    def _dead_letter_clock_rejects(self) -> None:
        now = time.time()
        for reading, last in self.engine.take_clock_rejects():
            self.dead_letters.add(
                Reject(
                    RejectReason.CLOCK_WENT_BACK,
                    f"{reading.equipment_id}.{reading.signal}",
                    f"ts {reading.ts:.3f} is {last - reading.ts:.1f} s before the last reading "
                    f"the detectors saw ({last:.3f}); the device's clock went back",
                    b"",
                    now,
                )
            )

    async def _record(self, finding: Finding) -> None:
        self.stats.findings += 1
        if self.link_watch.masks(finding):
            self.stats.masked += 1
            return
        equipment = self.plant.equipment[finding.equipment_id]
        began = time.monotonic()
        recorded = await asyncio.to_thread(self.store.record, finding, equipment)
        self.stats.record_seconds += time.monotonic() - began
        self.recorded(finding, recorded)

    def recorded(self, finding: Finding, recorded: Recorded | None) -> None:
        """Count what recording `finding` did (also when a spooled finding is replayed)."""
        if recorded is None:
            return
        equipment = self.plant.equipment[finding.equipment_id]
        if recorded.created:
            self.stats.orders_opened += 1
            log.info("opened %s for %s: %s", recorded.order.number, equipment.path, finding.summary)
        else:
            self.stats.orders_updated += 1
        if self._on_recorded is not None:
            self._on_recorded(finding, recorded)

    async def watch_silence(self, every: float = 5.0) -> None:
        """Until cancelled: every `every` seconds without a batch, let the engine judge the
        silence (`Engine.check_silence`) and record what it finds."""
        while True:
            await asyncio.sleep(every)
            async with self._engine_lock:
                quiet = time.monotonic() - self._last_batch
                if quiet < every:
                    continue
                began = time.monotonic()
                findings = await asyncio.to_thread(self.engine.check_silence, quiet)
                self.stats.engine_seconds += time.monotonic() - began
            self.stats.silence_checks += 1
            for finding in findings:
                await self._record(finding)

    async def watch_links(self, every: float = 5.0) -> None:
        """Until cancelled: every `every` seconds, ask the sources which equipment they cannot
        reach and record the communication findings that gives (`forewarn.links.LinkWatch`)."""
        if self._links is None:
            return
        while True:
            await asyncio.sleep(every)
            findings = self.link_watch.update(self._links(), time.time())
            for finding in findings:
                log.warning("%s: %s", finding.equipment_id, finding.summary)
                await self._record(finding)

    async def _snapshot(self) -> None:
        """Take the engine's snapshot while nothing else runs in it (a silence check would),
        then store it: the snapshot's arrays are copies, so the engine may go on meanwhile."""
        if self._snapshots is not None:
            began = time.monotonic()
            async with self._engine_lock:
                state = await asyncio.to_thread(self.engine.snapshot)
            await asyncio.to_thread(self._snapshots.save, state)
            self.stats.snapshot_seconds += time.monotonic() - began

    def status(self) -> dict[str, Any]:
        """Counters for the health endpoint and the logs."""
        source = self.source.stats
        return {
            "pipeline": asdict(self.stats),
            "source": {
                "connected": source.connected,
                "messages": source.messages,
                "readings": source.readings,
                "queue_depth": source.queue_depth,
                "connects": source.connects,
                "disconnects": source.disconnects,
                "rejected": {r.value: n for r, n in source.dead_letters.counts.items()},
            },
            "engine": asdict(self.engine.stats),
            "links_down": {e: o.reason for e, o in self.link_watch.outages.items()},
        }

    async def report_every(self, seconds: float) -> None:
        """Log the counters at INFO every `seconds` until cancelled."""
        previous = 0
        while True:
            await asyncio.sleep(seconds)
            source = self.source.stats
            rate = (self.stats.readings - previous) / seconds
            previous = self.stats.readings
            log.info(
                "%d readings (%.0f/s), %d findings, %d orders opened, %d rejected, queue %d, %s",
                self.stats.readings,
                rate,
                self.stats.findings,
                self.stats.orders_opened,
                source.dead_letters.total,
                source.queue_depth,
                "connected" if source.connected else "DISCONNECTED",
            )
