"""The runner: ticks at the period from the clock's start, stops at `until` or on `stop`, and
leaves room for the other tasks of the event loop."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

import pytest

from devices import Plant
from simulators import Fleet, SimClock, SimulatorError, run
from simulators.publishers import MemoryPublisher

START = 1_767_225_600.0


async def test_runs_from_the_clock_start_until_the_end_exclusive(
    make_plant: Callable[..., Plant],
) -> None:
    plant = make_plant("P-1", "P-2")
    collector = MemoryPublisher()
    clock = SimClock(START, math.inf)
    stats = await run(Fleet(plant, seed=1), clock, collector, period=2.0, until=START + 30)
    assert [b[0].ts for b in collector.batches] == [START + 2 * k for k in range(15)]
    assert all(len(b) == 2 for b in collector.batches)
    assert (stats.ticks, stats.samples) == (15, 30)
    assert (stats.sim_start, stats.sim_end) == (START, START + 28)
    assert clock.now == START + 28


async def test_publishes_exactly_what_the_fleet_produces(make_plant: Callable[..., Plant]) -> None:
    plant = make_plant("P-1")
    collector = MemoryPublisher()
    await run(Fleet(plant, seed=4), SimClock(START, math.inf), collector, until=START + 100)
    twin = Fleet(plant, seed=4)
    assert collector.batches == [twin.tick(START + k, 1.0) for k in range(100)]


async def test_stop_ends_the_run(make_plant: Callable[..., Plant]) -> None:
    collector = MemoryPublisher()
    stop = asyncio.Event()
    fleet = Fleet(make_plant("P-1"), seed=1)

    async def stop_after_some_ticks() -> None:
        while len(collector.batches) < 50:
            await asyncio.sleep(0)
        stop.set()

    async with asyncio.timeout(20), asyncio.TaskGroup() as tasks:
        tasks.create_task(stop_after_some_ticks())
        result = tasks.create_task(run(fleet, SimClock(START, math.inf), collector, stop=stop))
    assert 50 <= result.result().ticks <= 52


async def test_stop_interrupts_a_long_wait_between_ticks(make_plant: Callable[..., Plant]) -> None:
    collector = MemoryPublisher()
    stop = asyncio.Event()
    fleet = Fleet(make_plant("P-1"), seed=1)
    asyncio.get_running_loop().call_later(0.2, stop.set)
    async with asyncio.timeout(10):
        stats = await run(fleet, SimClock(START, 1.0), collector, period=3600.0, stop=stop)
    assert stats.ticks == 1


async def test_other_tasks_keep_running_at_full_speed(make_plant: Callable[..., Plant]) -> None:
    turns = 0
    done = asyncio.Event()

    async def neighbour() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(neighbour())
    stats = await run(
        Fleet(make_plant("P-1"), seed=1),
        SimClock(START, math.inf),
        MemoryPublisher(),
        until=START + 2000,
    )
    done.set()
    await task
    assert turns >= stats.ticks // 2


async def test_logs_the_start_and_progress(
    make_plant: Callable[..., Plant], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="simulators.runner"):
        await run(
            Fleet(make_plant("P-1", "P-2"), seed=1),
            SimClock(START, math.inf),
            MemoryPublisher(),
            until=START + 3600,
            log_every=600,
        )
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("simulating 2 machines with 0 faults from 2026-01-01T00:00:00")
    assert "full speed" in messages[0]
    progress = [m for m in messages if m.startswith("simulated ")]
    assert len(progress) == 5
    assert progress[0].startswith("simulated 2026-01-01T00:10:00+00:00 (0:10:00 in)")
    assert messages[-1].startswith("simulation stopped at 2026-01-01T00:59:59")


async def test_period_must_be_positive(make_plant: Callable[..., Plant]) -> None:
    with pytest.raises(SimulatorError, match="period must be a positive"):
        await run(Fleet(make_plant("P-1"), seed=1), SimClock(START), MemoryPublisher(), period=0)
