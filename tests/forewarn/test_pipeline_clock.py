"""The pipeline puts the readings the engine rejects because their clock went back into the dead
letters (and commits every batch it processed), and judges silence on a timer while nothing
arrives."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Self

from detectors import Engine
from devices import Plant, Reading, ReadingColumns, plant_from_dict
from forewarn import snapshots
from forewarn.pipeline import Pipeline
from ingest import Batch, RejectReason, SourceStats
from ticketing import WorkOrderStore, WorkOrderView


class Batches:
    def __init__(self, batches: list[list[Reading]]) -> None:
        self.stats = SourceStats()
        self._batches = [ReadingColumns.of(batch) for batch in batches]
        self.position = 0
        self.committed: list[int | None] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass

    async def close_intake(self) -> None:
        pass

    async def batches(self) -> AsyncIterator[Batch]:
        for batch in self._batches:
            self.position += 1
            yield batch

    def commit(self, through: int | None = None) -> None:
        self.committed.append(self.position if through is None else through)


async def test_clock_rejects_reach_the_dead_letters(demo_plant: Plant, tmp_path: Path) -> None:
    t0 = 1_764_000_000.0
    source = Batches(
        [
            [Reading("P-101", "flow", t0 + k, 90.0) for k in range(5)],
            [Reading("P-101", "flow", t0 - 3600 + k, 90.0) for k in range(3)],
        ]
    )
    store = WorkOrderStore(f"sqlite:///{tmp_path / 'orders.db'}", plant=demo_plant)
    try:
        pipeline = Pipeline(demo_plant, source, Engine(demo_plant, ["limits"]), store.orders)
        await pipeline.run()
    finally:
        store.close()
    letters = pipeline.dead_letters
    assert letters.counts == {RejectReason.CLOCK_WENT_BACK: 3}
    assert letters.samples()[0].topic == "P-101.flow"
    assert "3604.0 s before the last reading" in letters.samples()[0].detail
    assert source.committed == [1, 2]
    assert pipeline.status()["engine"]["clock_went_back"] == 3


class OneBatchThenSilence(Batches):
    async def batches(self) -> AsyncIterator[Batch]:
        async for batch in super().batches():
            yield batch
        await self.closed.wait()

    def __init__(self, batches: list[list[Reading]]) -> None:
        super().__init__(batches)
        self.closed = asyncio.Event()


async def test_a_silent_source_raises_a_stale_finding_during_the_outage(tmp_path: Path) -> None:
    plant = plant_from_dict(
        {
            "site": {"id": "s"},
            "areas": [
                {
                    "id": "a",
                    "lines": [
                        {
                            "id": "l",
                            "equipment": [
                                {
                                    "id": "P-1",
                                    "type": "centrifugal_pump",
                                    "team": "m",
                                    "detectors": [
                                        {"name": "stale", "params": {"floor": 0.5, "factor": 1}}
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    t0 = time.time() - 5
    source = OneBatchThenSilence([[Reading("P-1", "flow", t0 + 0.1 * k, 90.0) for k in range(50)]])
    store = WorkOrderStore(f"sqlite:///{tmp_path / 'orders.db'}", plant=plant)
    pipeline = Pipeline(plant, source, Engine(plant), store.orders)
    try:
        async with asyncio.TaskGroup() as tasks:
            run = tasks.create_task(pipeline.run())
            watch = tasks.create_task(pipeline.watch_silence(every=0.2))
            async with asyncio.timeout(20):
                while pipeline.stats.orders_opened == 0:
                    await asyncio.sleep(0.05)
            source.closed.set()
            await run
            watch.cancel()
    finally:
        store.close()
    assert pipeline.stats.silence_checks >= 1
    [order] = store_orders(tmp_path, plant)
    assert order.equipment_id == "P-1"


def store_orders(tmp_path: Path, plant: Plant) -> list[WorkOrderView]:
    store = WorkOrderStore(f"sqlite:///{tmp_path / 'orders.db'}", plant=plant)
    try:
        return store.orders.list()
    finally:
        store.close()


async def test_a_backlog_processed_faster_than_real_time_is_snapshotted_by_source_time(
    demo_plant: Plant, tmp_path: Path
) -> None:
    t0 = 1_764_000_000.0
    batches = [[Reading("P-101", "flow", t0 + 60 * k, 90.0)] for k in range(30)]  # 29 minutes
    source = OneBatchThenSilence(batches)
    store = WorkOrderStore(f"sqlite:///{tmp_path / 'orders.db'}", plant=demo_plant)
    snapshot = tmp_path / "detectors.json"
    pipeline = Pipeline(
        demo_plant,
        source,
        Engine(demo_plant, ["ewma_drift"]),
        store.orders,
        snapshot_file=snapshot,
        snapshot_interval=3600,  # the wall clock never asks for one here
        snapshot_source_interval=600,
    )
    try:
        run = asyncio.create_task(pipeline.run())
        async with asyncio.timeout(20):
            while pipeline.stats.batches < len(batches):
                await asyncio.sleep(0.01)
        run.cancel()  # killed: no snapshot at the end
        with contextlib.suppress(asyncio.CancelledError):
            await run
    finally:
        store.close()
    restored = Engine(demo_plant, ["ewma_drift"])
    assert snapshots.restore(restored, snapshot) > 0
    # Snapshots at 10 and 20 minutes of source time: the restart resumes at minute 20.
    state = restored.snapshot()
    assert state["last_ts"][state["streams"].index("P-101/flow")] == t0 + 20 * 60
