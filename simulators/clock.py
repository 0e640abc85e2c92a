"""Simulated time, and pacing it against the wall clock."""

from __future__ import annotations

import asyncio
import contextlib
import math

from simulators.errors import SimulatorError


class SimClock:
    """Simulated time in epoch seconds (UTC), running `speed` simulated seconds per real second.

    With `speed=math.inf` the simulation runs as fast as it can and never sleeps. Otherwise
    `sleep_until(ts)` waits until the wall time at which `ts` is due, measured from the first call
    (the moment the clock starts), so pacing does not drift however long each step takes. When the
    simulation falls behind, `sleep_until` returns at once and `max_lag` records by how much.

    Only pacing uses the wall clock; simulated values never do.
    """

    def __init__(self, start: float, speed: float = 1.0) -> None:
        if not math.isfinite(start):
            raise SimulatorError(f"clock start must be a finite epoch time, got {start}")
        if not speed > 0:
            raise SimulatorError(
                f"clock speed must be positive (simulated seconds per real second, or math.inf "
                f"for as fast as possible), got {speed}"
            )
        self.start = start
        self.speed = speed
        self.max_lag = 0.0
        """Largest wall time (s) by which a `sleep_until` was called after its due time."""
        self._now = start
        self._started_at: float | None = None

    @property
    def now(self) -> float:
        """The simulated time reached so far: the last time `sleep_until` arrived at."""
        return self._now

    @property
    def as_fast_as_possible(self) -> bool:
        return math.isinf(self.speed)

    async def sleep_until(self, sim_ts: float, *, interrupt: asyncio.Event | None = None) -> None:
        """Wait until simulated time `sim_ts` is due, or until `interrupt` is set (in which case
        `now` does not move)."""
        if not self.as_fast_as_possible:
            loop = asyncio.get_running_loop()
            wall = loop.time()
            if self._started_at is None:
                self._started_at = wall
            due = self._started_at + (sim_ts - self.start) / self.speed
            late = wall - due
            if late > 0:
                self.max_lag = max(self.max_lag, late)
            while (remaining := due - loop.time()) > 0:
                if interrupt is None:
                    await asyncio.sleep(remaining)
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await interrupt.wait()
                if interrupt.is_set():
                    return
        self._now = max(self._now, sim_ts)
