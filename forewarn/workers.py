"""`forewarn run --workers N|auto`: one worker process per shard on one machine, supervised.

A Python process runs its pipeline on one core (the GIL), so a machine with several cores runs
several workers. `--workers N` starts N `forewarn run` processes with the same plant file and
settings, worker i as `--shards N --shard i --no-api` (static shards: `forewarn.shards`), its
health and metrics on the base port + i and its detector state in `state_dir/shard-i-of-N`;
`forewarn api` serves the work-order API over the database they share. The supervisor restarts
a worker that exits or dies (after 1 s, doubling up to 30 s while it keeps failing within a
minute of its start), forwards Ctrl-C / SIGTERM to every worker and waits for them to drain,
and exits when all of them have stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from forewarn.errors import ForewarnError

log = logging.getLogger(__name__)

STEADY = 60.0
"""Seconds a worker must run before an exit counts as a new failure, not the same one."""


def worker_count(value: str, cores: int | None = None) -> int:
    """`auto` (a worker per core) or a number of workers, at least 1."""
    if value == "auto":
        return max(1, cores if cores is not None else (os.cpu_count() or 1))
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ForewarnError(
            f"--workers takes a number of workers (1 or more) or auto, not {value!r}"
        )
    return count


@dataclass
class Backoff:
    """When to restart a worker that stopped (pure: the clock is passed in)."""

    first: float = 1.0
    limit: float = 30.0
    delay: float = field(default=0.0, init=False)

    def after_exit(self, started_at: float, now: float) -> float:
        """Seconds to wait before restarting a worker started at `started_at` that stopped at
        `now`: `first`, doubled on each exit within `STEADY` seconds of its start, at most
        `limit`; back to `first` once a worker has run steadily."""
        if now - started_at >= STEADY or self.delay == 0.0:
            self.delay = self.first
        else:
            self.delay = min(self.delay * 2.0, self.limit)
        return self.delay


@dataclass(frozen=True)
class WorkerSpec:
    shard: int
    argv: list[str]
    env: dict[str, str]


def worker_specs(
    count: int, run_args: Sequence[str], port: int, state_dir: Path
) -> list[WorkerSpec]:
    """The `forewarn run` command of each worker: `run_args` (the plant file and the options
    every worker shares) plus its shard, port and state directory."""
    return [
        WorkerSpec(
            shard,
            [
                sys.executable,
                "-m",
                "forewarn",
                "run",
                *run_args,
                "--shards",
                str(count),
                "--shard",
                str(shard),
                "--no-api",
                "--port",
                str(port + shard),
            ],
            {**os.environ, "FOREWARN_STATE_DIR": str(state_dir / f"shard-{shard}-of-{count}")},
        )
        for shard in range(count)
    ]


@dataclass
class _Running:
    spec: WorkerSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: Backoff = field(default_factory=Backoff)
    restarts: int = 0


def supervise(
    specs: Sequence[WorkerSpec],
    stopping: Callable[[], bool],
    *,
    grace: float = 30.0,
    poll: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run every worker until `stopping()`; then SIGTERM them all, wait up to `grace` seconds
    (SIGKILL after) and return the number of restarts there were."""
    workers = [_Running(spec) for spec in specs]
    for worker in workers:
        _start(worker, clock())
    try:
        while not stopping():
            now = clock()
            for worker in workers:
                process = worker.process
                if process is not None and process.poll() is not None:
                    worker.process = None
                    wait = worker.backoff.after_exit(worker.started_at, now)
                    worker.restart_at = now + wait
                    log.warning(
                        "worker of shard %d (pid %d) stopped with exit code %s; restarting it "
                        "in %.0f s",
                        worker.spec.shard,
                        process.pid,
                        process.returncode,
                        wait,
                    )
                elif (
                    worker.process is None
                    and worker.restart_at is not None
                    and now >= worker.restart_at
                ):
                    worker.restarts += 1
                    _start(worker, now)
            time.sleep(poll)
    finally:
        _stop_all(workers, grace)
    return sum(worker.restarts for worker in workers)


def _start(worker: _Running, now: float) -> None:
    worker.process = subprocess.Popen(worker.spec.argv, env=worker.spec.env)
    worker.started_at, worker.restart_at = now, None
    log.info(
        "worker of shard %d started (pid %d, health and metrics on port %s)",
        worker.spec.shard,
        worker.process.pid,
        worker.spec.argv[-1],
    )


def _stop_all(workers: Sequence[_Running], grace: float) -> None:
    running = [w.process for w in workers if w.process is not None and w.process.poll() is None]
    log.info("stopping %d workers (up to %.0f s for them to drain)", len(running), grace)
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("worker pid %d did not stop within %.0f s; killing it", process.pid, grace)
            process.kill()
            process.wait()
