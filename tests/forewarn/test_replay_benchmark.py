"""Replay throughput of the 50-machine benchmark plant through a real mosquitto and the real
pipeline: slow (over a minute for four simulated hours), so it runs with FOREWARN_SLOW_TESTS=1;
FOREWARN_BENCH_DURATION=7d replays the full week the issue asks for (about 17.8 million
readings):

    FOREWARN_SLOW_TESTS=1 FOREWARN_BENCH_DURATION=7d pytest \
        tests/forewarn/test_replay_benchmark.py -n 0 --benchmark-enable -s

`forewarn replay benchmark-week --broker mqtt://127.0.0.1:1883` does the same from the
command line and prints the wall time.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from forewarn.replay import ReplayOptions, ReplayResult, replay_scenario
from simulators.scenario import load_scenario
from simulators.scenario_schema import parse_duration
from simulators.scenarios import scenario_path
from tests.conftest import Mosquitto


@pytest.mark.slow
@pytest.mark.benchmark(group="replay", min_rounds=1, max_time=0, warmup=False)
def test_benchmark_week_replay_throughput(benchmark: Any, mosquitto: Mosquitto) -> None:
    duration = float(parse_duration(os.environ.get("FOREWARN_BENCH_DURATION", "4h")))
    scenario = load_scenario(scenario_path("benchmark-week")).replace(duration=duration)
    results: list[ReplayResult] = []

    def replay() -> None:
        options = ReplayOptions(broker=mosquitto.url)
        results.append(asyncio.run(replay_scenario(scenario, options)))

    benchmark.pedantic(replay, rounds=1, iterations=1)
    result = results[-1]
    signals = sum(len(eq.signals) for eq in scenario.plant)
    assert result.readings == signals * scenario.ticks
    assert result.rejected == 0
    benchmark.extra_info.update(
        readings=result.readings,
        wall_seconds=round(result.wall_seconds, 1),
        readings_per_second=round(result.readings / result.wall_seconds),
        simulated_days=duration / 86400,
    )
