"""How often CPython hands the GIL from a busy thread to one that waits, while a process serves.

A serving process has threads that compute (paho's network thread decoding messages, the engine's
batches) and threads that mostly wait on I/O (the work-order store's transactions). Each time the
store's thread waits on its database (every statement: a round trip to PostgreSQL, a write to
SQLite) it releases the GIL, and to go on it must wait until the computing thread gives it back:
up to the switch interval, 5 ms by default. A transaction is about 20 statements, so with a
computing thread beside it an order took 200 ms to record on PostgreSQL instead of 38 ms
(`bench/latency.py`; BENCHMARKS.md, "Latency"). `responsive` shortens the interval for as long
as the process serves.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits for it (CPython's default: 0.005)."""


@contextmanager
def responsive(interval: float = SWITCH_INTERVAL) -> Iterator[None]:
    """Set the GIL switch interval to `interval` seconds; restore the previous one on exit."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    log.info("GIL switch interval %.1f ms (was %.1f ms)", interval * 1000, previous * 1000)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
