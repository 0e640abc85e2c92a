"""Run a simulation: tick the fleet every period of simulated time, publish, pace with the clock."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from simulators.base import Publisher, Sample
from simulators.clock import SimClock
from simulators.errors import SimulatorError
from simulators.fleet import Fleet

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunStats:
    ticks: int
    samples: int
    sim_start: float
    sim_end: float
    """Simulated time of the last tick (`sim_start` if there was none)."""
    wall_seconds: float
    max_lag: float
    """Largest wall time (s) the simulation ran behind the clock's pace."""


async def run(
    fleet: Fleet,
    clock: SimClock,
    publisher: Publisher,
    *,
    period: float = 1.0,
    until: float | None = None,
    stop: asyncio.Event | None = None,
    log_every: float = 600.0,
) -> RunStats:
    """Tick `fleet` at `clock.start`, `clock.start + period`, ... and publish each tick's samples.

    Runs until simulated time reaches `until` (exclusive) or `stop` is set, then flushes the
    publisher (what it held back goes out, and is delivered). Yields to the event loop after every
    tick, so other tasks in the same loop keep running even at `math.inf` speed. Logs progress
    every `log_every` simulated seconds.
    """
    if not (period > 0 and math.isfinite(period)):
        raise SimulatorError(f"period must be a positive number of seconds, got {period}")
    log.info(
        "simulating %d machines with %d faults from %s at %s, one sample every %g s%s",
        len(fleet),
        len(fleet.faults),
        _iso(clock.start),
        "full speed" if clock.as_fast_as_possible else f"x{clock.speed:g}",
        period,
        "" if until is None else f", until {_iso(until)}",
    )
    wall_start = time.monotonic()
    ticks = samples = 0
    next_report = clock.start + log_every
    ts = clock.start
    while until is None or ts < until:
        await clock.sleep_until(ts, interrupt=stop)
        if stop is not None and stop.is_set():
            break
        batch = fleet.tick(ts, period)
        await publisher.publish(batch)
        ticks += 1
        samples += len(batch)
        if ts >= next_report:
            log.info(
                "simulated %s (%s in), %d samples, %.1f s behind pace at worst",
                _iso(ts),
                _elapsed(ts - clock.start),
                samples,
                clock.max_lag,
            )
            next_report += log_every * math.floor((ts - next_report) / log_every + 1)
        await asyncio.sleep(0)
        ts = clock.start + ticks * period
    await publisher.flush()
    stats = RunStats(
        ticks=ticks,
        samples=samples,
        sim_start=clock.start,
        sim_end=clock.start + (ticks - 1) * period if ticks else clock.start,
        wall_seconds=time.monotonic() - wall_start,
        max_lag=clock.max_lag,
    )
    log.info(
        "simulation stopped at %s after %d ticks (%d samples, %.1f s wall)",
        _iso(stats.sim_end),
        ticks,
        samples,
        stats.wall_seconds,
    )
    return stats


async def play(
    samples: Iterable[Sample],
    clock: SimClock,
    publisher: Publisher,
    *,
    stop: asyncio.Event | None = None,
) -> RunStats:
    """Publish recorded samples (in time order) at their own times, paced by `clock` (start it at
    the first sample's time), samples of the same time together; then flush the publisher."""
    log.info(
        "replaying recorded samples from %s at %s",
        _iso(clock.start),
        "full speed" if clock.as_fast_as_possible else f"x{clock.speed:g}",
    )
    wall_start = time.monotonic()
    ticks = count = 0
    last = clock.start
    batch: list[Sample] = []
    for sample in samples:
        if batch and sample.ts != batch[0].ts:
            if not await _play_batch(batch, clock, publisher, stop):
                batch = []
                break
            ticks += 1
            count += len(batch)
            last = batch[0].ts
            batch = []
        batch.append(sample)
    if batch and await _play_batch(batch, clock, publisher, stop):
        ticks += 1
        count += len(batch)
        last = batch[0].ts
    await publisher.flush()
    return RunStats(
        ticks=ticks,
        samples=count,
        sim_start=clock.start,
        sim_end=last,
        wall_seconds=time.monotonic() - wall_start,
        max_lag=clock.max_lag,
    )


async def _play_batch(
    batch: list[Sample], clock: SimClock, publisher: Publisher, stop: asyncio.Event | None
) -> bool:
    await clock.sleep_until(batch[0].ts, interrupt=stop)
    if stop is not None and stop.is_set():
        return False
    await publisher.publish(batch)
    await asyncio.sleep(0)
    return True


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"
