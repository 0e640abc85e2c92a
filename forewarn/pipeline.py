"""Source -> detection engine -> work-order store, with counters and periodic state snapshots."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from detectors import Engine
from devices import Finding, Plant
from forewarn import snapshots
from ingest import Batch, Source
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


class Pipeline:
    """Consumes a source until it ends; every finding becomes a work order or updates one."""

    def __init__(
        self,
        plant: Plant,
        source: Source,
        engine: Engine,
        store: FindingRecorder,
        *,
        snapshot_file: Path | None = None,
        snapshot_interval: float = 60.0,
        on_recorded: OnRecorded | None = None,
        on_processed: OnProcessed | None = None,
    ) -> None:
        self.plant = plant
        self.source = source
        self.engine = engine
        self.store = store
        self.stats = PipelineStats()
        self._snapshot_file = snapshot_file
        self._snapshot_interval = snapshot_interval
        self._on_recorded = on_recorded
        self._on_processed = on_processed
        if snapshot_file is not None:
            snapshots.restore(engine, snapshot_file)

    async def run(self) -> None:
        last_snapshot = time.monotonic()
        async for batch in self.source.batches():
            findings = await asyncio.to_thread(self.engine.process, batch)
            if self._on_processed is not None:
                self._on_processed(batch, findings)
            self.stats.batches += 1
            self.stats.readings += len(batch)
            for finding in findings:
                await self._record(finding)
            if time.monotonic() - last_snapshot >= self._snapshot_interval:
                await self._snapshot()
                last_snapshot = time.monotonic()
        await self._snapshot()
        log.info("pipeline finished: %s", self.stats)

    async def _record(self, finding: Finding) -> None:
        self.stats.findings += 1
        equipment = self.plant.equipment[finding.equipment_id]
        recorded = await asyncio.to_thread(self.store.record, finding, equipment)
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

    async def _snapshot(self) -> None:
        if self._snapshot_file is not None:
            await asyncio.to_thread(snapshots.save, self.engine, self._snapshot_file)

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
