"""The pipeline puts the readings the engine rejects because their clock went back into the dead
letters (and commits every batch it processed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Self

from detectors import Engine
from devices import Plant, Reading
from forewarn.pipeline import Pipeline
from ingest import Batch, RejectReason, SourceStats
from ticketing import WorkOrderStore


class Batches:
    def __init__(self, batches: list[Batch]) -> None:
        self.stats = SourceStats()
        self._batches = batches
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
        pipeline = Pipeline(demo_plant, source, Engine(demo_plant, ["limits"]), store)
        await pipeline.run()
    finally:
        store.close()
    letters = pipeline.dead_letters
    assert letters.counts == {RejectReason.CLOCK_WENT_BACK: 3}
    assert letters.samples()[0].topic == "P-101.flow"
    assert "3604.0 s before the last reading" in letters.samples()[0].detail
    assert source.committed == [1, 2]
    assert pipeline.status()["engine"]["clock_went_back"] == 3
