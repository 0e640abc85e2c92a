"""The simulation clock: as fast as possible never sleeps; a finite speed is never outrun."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from simulators import SimClock, SimulatorError

START = 1_767_225_600.0


def blocking_step(seconds: float) -> None:
    """A simulation step that holds the event loop, as a slow tick would."""
    time.sleep(seconds)


async def test_infinite_speed_never_sleeps() -> None:
    clock = SimClock(START, math.inf)
    assert clock.as_fast_as_possible
    async with asyncio.timeout(5):
        for k in range(1, 1001):
            await clock.sleep_until(START + k * 86400.0)
    assert clock.now == START + 1000 * 86400.0
    assert clock.max_lag == 0.0


async def test_a_finite_speed_is_never_outrun() -> None:
    clock = SimClock(START, speed=20.0)
    began = time.monotonic()
    for k in range(11):
        await clock.sleep_until(START + k)
        assert time.monotonic() - began >= k / 20.0
        assert clock.now == START + k
    assert time.monotonic() - began >= 0.5


async def test_steps_that_take_part_of_their_budget_do_not_make_the_clock_late() -> None:
    clock = SimClock(START, speed=10.0)
    await clock.sleep_until(START)
    began = time.monotonic()
    for k in range(1, 6):
        blocking_step(0.05)  # half of the 0.1 s a simulated second gets at speed 10
        await clock.sleep_until(START + k)
    elapsed = time.monotonic() - began
    assert elapsed >= 0.5
    assert clock.max_lag == 0.0


async def test_falling_behind_is_recorded_not_made_up_by_sleeping() -> None:
    clock = SimClock(START, speed=100.0)
    await clock.sleep_until(START)
    blocking_step(0.2)
    await clock.sleep_until(START + 1)
    assert clock.max_lag >= 0.19
    assert clock.now == START + 1


async def test_an_interrupt_ends_the_wait_without_moving_time() -> None:
    clock = SimClock(START, speed=1.0)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    async with asyncio.timeout(5):
        await clock.sleep_until(START + 3600, interrupt=stop)
    assert clock.now == START


async def test_time_never_goes_back() -> None:
    clock = SimClock(START, math.inf)
    await clock.sleep_until(START + 10)
    await clock.sleep_until(START + 5)
    assert clock.now == START + 10


@pytest.mark.parametrize("speed", [0.0, -1.0, math.nan])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(SimulatorError, match="clock speed must be positive"):
        SimClock(START, speed)


def test_start_must_be_finite() -> None:
    with pytest.raises(SimulatorError, match="finite epoch time"):
        SimClock(math.inf, 1.0)
