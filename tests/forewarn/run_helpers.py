"""What the tests that run `forewarn` as a process share: starting it with its output in a log,
waiting for a condition, reading its health and metrics."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def start_forewarn(
    *args: str, log: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`python -m forewarn ARGS...`, its stdout and stderr appended to `log`; `env` adds to
    this process's environment."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "forewarn",
            *args,
            stdout=out,
            stderr=out,
            env={**os.environ, **(env or {})},
        )


async def wait_until(check: Any, what: str, seconds: float = 40) -> Any:
    """Await `check()` every 0.2 s until it returns something true; that is returned."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


async def subscribed_health(
    api: httpx.AsyncClient, process: asyncio.subprocess.Process, log: Path
) -> dict[str, Any] | None:
    """The worker's /api/v1/health once it serves its plant and its MQTT source is connected;
    None before (no answer yet, or a standby's); fails with its log if the process exited."""
    if process.returncode is not None:
        output = log.read_text()[-3000:]  # noqa: ASYNC240 (only on the way to failing)
        raise AssertionError(f"forewarn exited ({process.returncode}): {output}")
    try:
        found: dict[str, Any] = (await api.get("/api/v1/health")).json()
    except httpx.TransportError:
        return None
    if found.get("status") == "standby":
        return None  # a standby's API answers until it serves the shard it claimed
    return found if found["sources"]["mqtt"]["connected"] else None


def metric_samples(text: str) -> Samples:
    """Prometheus text -> {(name, sorted labels): value}."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def free_ports(count: int) -> int:
    """The first of `count` consecutive ports that are free now."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first: int = probe.getsockname()[1]
        if all(_free(first + i) for i in range(1, count)):
            return first


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
