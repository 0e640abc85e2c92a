"""Publishers that need no server: collect samples in memory, or hand them to several
publishers at once."""

from __future__ import annotations

from collections.abc import Sequence

from simulators.base import Publisher, Sample


class MemoryPublisher:
    """Keeps every batch it is given (`batches`), for tests and for callers that score runs."""

    def __init__(self) -> None:
        self.batches: list[list[Sample]] = []
        self.flushes = 0

    @property
    def samples(self) -> list[Sample]:
        return [sample for batch in self.batches for sample in batch]

    async def publish(self, samples: Sequence[Sample]) -> None:
        self.batches.append(list(samples))

    async def flush(self) -> None:
        self.flushes += 1


class Tee:
    """Publishes every batch to each of `publishers`, in order."""

    def __init__(self, *publishers: Publisher) -> None:
        self.publishers = publishers

    async def publish(self, samples: Sequence[Sample]) -> None:
        for publisher in self.publishers:
            await publisher.publish(samples)

    async def flush(self) -> None:
        for publisher in self.publishers:
            await publisher.flush()
