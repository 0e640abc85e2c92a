"""The garbage collector while a detection process serves.

The engine keeps many long-lived Python objects per stream (evidence, trend history, decisions,
detector objects), and CPython's cyclic collector walks every tracked object in each full
collection: the bigger the plant, the more each collection costs, so readings/s fell with the
fleet's size (74,000 readings/s at 1,000 pumps, 126,000 settled: `bench/scale_curve.py`). Once
the plant's state is built and restored, `settled` moves it out of the collector's reach
(`gc.freeze`; refcounting still frees what is replaced) and makes the youngest generation's
collections rarer, as large Python services do; on leaving, the collector is as it was.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000
"""Allocations between collections of the youngest generation (CPython's default: 700)."""


@contextmanager
def settled() -> Iterator[None]:
    """Collect once, freeze what survives and raise the youngest generation's threshold; undo
    both on exit (what was frozen is collected normally again)."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    log.info("heap settled: %d objects frozen out of the garbage collector", gc.get_freeze_count())
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
