"""Run a simulation: tick the fleet every period of simulated time, publish, pace with the clock."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from simulators.base import Publisher
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


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"
