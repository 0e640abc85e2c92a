"""The source contract: an async context manager that yields batches of readings (as columns)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

from devices import ReadingColumns
from ingest.rejects import DeadLetters

Batch = ReadingColumns
"""The unit that crosses queues: per-message overhead dominates in Python, so readings travel
together, as columns (no object per reading); iterate one for its `Reading`s."""


@dataclass
class SourceStats:
    """Counters a source keeps; read them anytime (the API and the logs do)."""

    messages: int = 0
    readings: int = 0
    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    loop_restarts: int = 0
    """Times the network loop died of an error and was started again."""
    last_reading_at: float | None = None
    """Wall-clock time the last reading came in; None: none yet."""
    queue_depth: int = 0
    queue_bytes: int = 0
    """Estimated memory of what waits in the source's queue."""
    dead_letters: DeadLetters = field(default_factory=DeadLetters)
    lag_seconds: float = 0.0
    """End-to-end lag of the last batch handed out: now minus its newest source timestamp."""
    lag_sum: float = 0.0
    lag_count: int = 0
    gaps: int = 0
    """Connection losses after which data had to be recovered (OPC UA) or went missing."""
    gap_seconds: float = 0.0
    queue_full_seconds: float = 0.0
    """Time the network thread waited for room in a full queue (the pipeline behind; the broker
    keeps the rest meanwhile)."""
    """Total time without a connection."""

    def observe_lag(self, batch: Batch, now: float) -> None:
        lag = now - batch.newest()
        self.lag_seconds = lag
        self.lag_sum += lag
        self.lag_count += 1


class Source(Protocol):
    @property
    def stats(self) -> SourceStats: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def batches(self) -> AsyncIterator[Batch]:
        """Batches in arrival order until the source is closed."""
        ...

    @property
    def position(self) -> int:
        """How many batches `batches()` has handed out so far."""
        ...

    def commit(self, through: int | None = None) -> None:
        """Everything the batches handed out up to position `through` (default: all so far)
        produced is stored: the source may acknowledge them (and the broker forget them)."""
        ...

    async def close_intake(self) -> None:
        """Stop taking new data in; `batches()` then hands out what is queued and ends."""
        ...
