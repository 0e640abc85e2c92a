"""Throughput of the univariate family: the vectorised bank per detector and all together, and
the object detectors per reading. The normal test run calls each benchmark once (the project runs
pytest with --benchmark-disable); measure with

    .venv/bin/python -m pytest tests/detectors/test_bench_vector.py \\
        -n 0 --benchmark-enable --benchmark-only --benchmark-json=univariate.json
    .venv/bin/python bench/univariate_table.py univariate.json

Scenario: 10,000 streams (1 s signals with warning and alarm limits), batches of 50,000 readings:
five consecutive seconds of every stream, interleaved as a source delivers them, so every batch
is processed in five rounds. The kernels compute every branch for every reading, so the cost does
not depend on whether the streams are warming up, clipping or alarming.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from detectors.bank import FAMILY, UnivariateBank
from detectors.registry import REGISTRY
from devices import Limits, Signal

STREAMS = 10_000
BATCH = 50_000
OBJECT_READINGS = 10_000
SIGNAL = Signal("vibration", "mm/s", 1.0, Limits(warn_high=4.5, alarm_high=7.1), "t", "vibration")


def _batches() -> Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]:
    rng = np.random.default_rng(0)
    seconds = BATCH // STREAMS
    streams = np.tile(np.arange(STREAMS), seconds)
    clock = itertools.count(0, seconds)

    def next_batch() -> tuple[tuple[Any, ...], dict[str, Any]]:
        start = float(next(clock))
        ts = np.repeat(start + np.arange(seconds, dtype=float), STREAMS)
        values = 2.0 + 0.1 * rng.standard_normal(BATCH)
        return (streams, values, ts), {}

    return next_batch


@pytest.mark.parametrize("names", [(n,) for n in FAMILY] + [FAMILY], ids=[*FAMILY, "family"])
@pytest.mark.benchmark(group="univariate bank: 50,000 readings of 10,000 streams")
def test_bank_throughput(benchmark: Any, names: tuple[str, ...]) -> None:
    bank = UnivariateBank(names)
    bank.add_signals([SIGNAL] * STREAMS)
    scores = benchmark.pedantic(bank.process, setup=_batches(), rounds=15, warmup_rounds=1)
    assert scores.shape == (BATCH, len(names))
    bytes_per_stream = bank.nbytes / STREAMS
    assert bytes_per_stream <= 2048
    benchmark.extra_info.update(readings=BATCH, bytes_per_stream=bytes_per_stream)
    if benchmark.stats is not None:
        benchmark.extra_info["readings_per_second"] = BATCH / benchmark.stats.stats.min


@pytest.mark.benchmark(group="univariate bank: 50,000 readings of 10,000 streams")
def test_bank_throughput_streams_in_random_order(benchmark: Any) -> None:
    """The whole family on batches whose readings come from streams drawn at random: uneven
    counts per stream (up to about 15), so more and smaller rounds."""
    bank = UnivariateBank()
    bank.add_signals([SIGNAL] * STREAMS)
    rng = np.random.default_rng(2)
    clock = itertools.count()

    def next_batch() -> tuple[tuple[Any, ...], dict[str, Any]]:
        streams = rng.integers(0, STREAMS, BATCH)
        ts = next(clock) * BATCH + np.arange(BATCH, dtype=float)
        return (streams, 2.0 + 0.1 * rng.standard_normal(BATCH), ts), {}

    scores = benchmark.pedantic(bank.process, setup=next_batch, rounds=15, warmup_rounds=1)
    assert scores.shape == (BATCH, len(FAMILY))
    benchmark.extra_info.update(readings=BATCH, bytes_per_stream=bank.nbytes / STREAMS)
    if benchmark.stats is not None:
        benchmark.extra_info["readings_per_second"] = BATCH / benchmark.stats.stats.min


@pytest.mark.parametrize("name", FAMILY)
@pytest.mark.benchmark(group="object detectors: 10,000 readings, score_one + learn_one")
def test_object_detector_per_reading(benchmark: Any, name: str) -> None:
    rng = np.random.default_rng(1)
    values = [float(v) for v in 2.0 + 0.1 * rng.standard_normal(5000 + OBJECT_READINGS)]
    warm = REGISTRY[name].for_signal(SIGNAL)
    assert warm is not None
    for i, x in enumerate(values[:5000]):
        warm.score_one(x, float(i))
        warm.learn_one(x, float(i))
    state = warm.snapshot()
    readings = list(enumerate(values[5000:], start=5000))

    def fresh() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (type(warm).restore(state),), {}

    def run(det: Any) -> float:
        top = 0.0
        for i, x in readings:
            top = max(top, det.score_one(x, float(i)))
            det.learn_one(x, float(i))
        return top

    assert benchmark.pedantic(run, setup=fresh, rounds=5) < 0.5
    benchmark.extra_info["readings"] = OBJECT_READINGS
    if benchmark.stats is not None:
        per_reading = benchmark.stats.stats.min / OBJECT_READINGS
        benchmark.extra_info["microseconds_per_reading"] = per_reading * 1e6
