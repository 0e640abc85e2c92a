"""The engine's vectorised path gives exactly what its reference path (reading by reading) gives.

Simulated machines of several types, with machine and sensor faults, through two engines: one on
the reference path (`Engine(vectorised=False)`), one on the vectorised path (which falls back to
the reference path for the batches it does not take). Batches of one reading, one sample and
thousands, and batches that must fall back (out of order, a clock gone back) mixed in; findings
field by field in the same order, counters and snapshots equal.
"""

from __future__ import annotations

import functools
import json
import math
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from detectors import DEFAULT, Engine
from detectors.evidence import Evidence, EvidenceRings
from detectors.trend import TrendHistory, TrendStore
from devices import Finding, Plant, Quality, Reading, ReadingColumns, plant_from_dict
from forewarn import snapshots
from simulators import Fleet
from simulators import faults as library
from simulators import sensor_faults as sensors
from simulators.fleet import FaultInjection, SensorFaultInjection

HOUR = 3600.0
PERIOD = 5.0
SIZES = (1, 6, 1500, -1, -40, 40, 1, -1, -10, 300, 6, -1, -3, 12, 800, 13, -1, -200, 200)
"""Batch sizes in turn, in readings (a reading, about a sample, thousands, ...) or, negative, in
samplings of the fleet, up to the end of one (the common batch, after one that ends a sampling:
every equipment's rows whole)."""


def plant(onset: bool = True) -> Plant:
    """Machines of several types, with the default ensemble, learning in minutes rather than
    hours (and without `onset` if not `onset`: it holds signals without limits to the reference
    path)."""
    machines = [
        ("P-1", "centrifugal_pump"),
        ("P-2", "centrifugal_pump"),
        ("M-1", "induction_motor"),
        ("F-1", "fan"),
        ("C-1", "compressor"),
    ]
    quick = {"relations": {"warmup": 720, "scale_halflife": 2000.0, "cov_halflife": 2000.0}}
    quick["ewma_drift"] = {"warmup": 360}
    detectors = [
        {"name": name, "params": quick.get(name, {})}
        for name in DEFAULT
        if onset or name != "onset"
    ]
    equipment = [
        {"id": i, "type": kind, "team": "m", "detectors": detectors} for i, kind in machines
    ]
    line = {"id": "l", "equipment": equipment}
    return plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})


def fleet(machines: Plant) -> Fleet:
    onset = 1.5 * HOUR
    return Fleet(
        machines,
        seed=3,
        faults=[
            FaultInjection("P-1", library.BearingWear(onset, 3 * HOUR)),
            FaultInjection("M-1", library.Imbalance(onset, 2 * HOUR)),
            FaultInjection("C-1", library.CoolingLoss(onset, 3 * HOUR)),
            SensorFaultInjection("P-2", sensors.StuckSensor("vibration", 2 * HOUR, HOUR)),
            SensorFaultInjection("F-1", sensors.SpikingSensor("vibration", HOUR, probability=0.05)),
            SensorFaultInjection("P-2", sensors.SensorDropout("flow", 3 * HOUR, 0.5 * HOUR)),
            SensorFaultInjection("M-1", sensors.DriftingSensor("bearing_temp", 2.5 * HOUR)),
        ],
    )


def readings(machines: Plant, hours: float) -> list[Reading]:
    simulated = fleet(machines)
    out: list[Reading] = []
    ts = 0.0
    while ts < hours * HOUR:
        for sample in simulated.tick(ts, PERIOD):
            out += sample.readings()
        ts += PERIOD
    return out


def disturbed(batch: list[Reading], rng: random.Random) -> list[Reading]:
    """`batch` with, at random, readings the vectorised path must reject or fall back on."""
    batch = list(batch)
    if not batch or rng.random() < 0.5:
        return batch
    r = rng.choice(batch)
    kind = rng.randrange(8)
    if kind == 0:  # out of order: an earlier reading again
        batch.insert(rng.randrange(len(batch) + 1), Reading(r.equipment_id, r.signal, r.ts - 1, 1))
    elif kind == 1:  # a clock gone back by an hour
        batch.append(Reading(r.equipment_id, r.signal, r.ts - HOUR, r.value))
    elif kind == 2:
        batch.append(Reading(r.equipment_id, "no_such_signal", r.ts, r.value))
    elif kind == 3:
        batch.append(Reading("X-9", r.signal, r.ts, r.value))
    elif kind == 4:
        batch[batch.index(r)] = Reading(r.equipment_id, r.signal, r.ts, math.nan)
    elif kind == 5:
        batch[batch.index(r)] = Reading(r.equipment_id, r.signal, r.ts, r.value, Quality.BAD)
    elif kind == 6:
        batch[batch.index(r)] = Reading(r.equipment_id, r.signal, r.ts, r.value, Quality.UNCERTAIN)
    else:  # per signal rather than per sample: a stream's readings in order, an equipment's not
        batch.sort(key=lambda x: (x.equipment_id, x.signal))
    return batch


def batches(stream: list[Reading], seed: int) -> Iterator[list[Reading]]:
    """`stream` cut into batches of `SIZES` readings or (negative sizes) whole samplings of the
    fleet, some `disturbed`."""
    rng = random.Random(seed)
    ticks = [k for k in range(len(stream)) if k == 0 or stream[k].ts != stream[k - 1].ts]
    ticks.append(len(stream))
    position, turn = 0, 0
    while position < len(stream):
        size = SIZES[turn % len(SIZES)]
        if size < 0:
            later = [k for k in ticks if k > position]
            end = later[min(-size, len(later)) - 1]
        else:
            end = position + size
        yield disturbed(stream[position:end], rng)
        position = end
        turn += 1


def state(engine: Engine) -> str:
    """The snapshot as text: NaN equal to NaN, -0.0 not to 0.0 (its arrays by their bytes)."""
    return json.dumps(engine.snapshot(), sort_keys=True, default=_array_text)


def _array_text(array: np.ndarray[Any, Any]) -> list[Any]:
    return [array.dtype.str, array.shape, array.tobytes().hex()]


PATHS = (
    "_process_readings",
    "_accept_columns",
    "_decide_in_order",
    "_rows_by_run",
    "_complete_rows",
)
"""The reference path, the vectorised one, and the vectorised one's ways."""


def counted(engine: Engine) -> Counter[str]:
    """How often `engine` takes each of `PATHS`, from now on."""
    calls: Counter[str] = Counter()
    for name in PATHS:
        method = getattr(engine, name)

        def count(*args: Any, method: Any = method, name: str = name) -> Any:
            calls[name] += 1
            return method(*args)

        setattr(engine, name, count)
    return calls


def feed(
    reference: Engine, vectorised: Engine, stream: list[Reading], seed: int
) -> tuple[list[Finding], Counter[str]]:
    """Both engines through the same batches; their findings (equal), and the paths the
    vectorised engine took."""
    calls = counted(vectorised)
    found: list[Finding] = []
    for batch in batches(stream, seed):
        expected = reference.process(batch)
        got = vectorised.process(batch)
        assert got == expected
        assert reference.take_clock_rejects() == vectorised.take_clock_rejects()
        found += got
    assert reference.stats == vectorised.stats
    assert state(reference) == state(vectorised)
    return found, calls


@functools.cache
def simulated(onset: bool) -> tuple[Plant, list[Reading]]:
    machines = plant(onset)
    return machines, readings(machines, 5.0)


@pytest.mark.parametrize("onset", [True, False])
def test_the_vectorised_path_matches_the_reference_path(onset: bool) -> None:
    machines, stream = simulated(onset)
    reference = Engine(machines, vectorised=False)
    vectorised = Engine(machines)
    found, calls = feed(reference, vectorised, stream, seed=1)
    detectors = {f.detector for f in found}
    assert {"limits", "ewma_drift", "relations", "stale", "flatline"} <= detectors
    assert {f.equipment_id for f in found} == set(machines.equipment)
    assert any(f.time_to_limit is not None for f in found)
    assert any(not f.active for f in found)
    assert calls["_process_readings"] > 10
    if not onset:  # onset holds signals without limits to the reference path
        assert calls["_accept_columns"] > 5 * calls["_process_readings"]
        assert min(calls[name] for name in PATHS) > 10


def test_an_engine_restored_from_a_reference_snapshot_goes_on_alike() -> None:
    machines, stream = simulated(False)
    half = len(stream) // 2
    learner = Engine(machines, vectorised=False)
    for batch in batches(stream[:half], seed=2):
        learner.process(batch)
    saved = snapshots.decode(snapshots.encode(learner.snapshot()))  # as the service stores it
    reference = Engine(machines, vectorised=False)
    vectorised = Engine(machines)
    assert reference.restore(saved) == vectorised.restore(saved) == len(reference._streams)
    assert state(reference) == state(vectorised) == state(learner)
    found, calls = feed(reference, vectorised, stream[half:], seed=3)
    assert found
    assert calls["_accept_columns"] > 0


def test_process_columns_is_process_without_readings() -> None:
    """Batches as columns, numbered by the plant's table when all their streams are the plant's
    and by a table of their own otherwise (unknown streams mixed in), give what `process` gives."""
    machines, stream = simulated(False)
    by_readings, by_columns = Engine(machines), Engine(machines)
    tables = Counter[str]()
    for batch in batches(stream[: len(stream) // 4], seed=4):
        expected = by_readings.process(batch)
        try:
            columns = ReadingColumns.of(batch, machines.streams)
            tables["plant"] += 1
        except KeyError:
            columns = ReadingColumns.of(batch)
            tables["own"] += 1
        assert list(columns) == batch or any(math.isnan(r.value) for r in batch)
        got = by_columns.process_columns(columns)
        assert got == expected
        assert by_readings.take_clock_rejects() == by_columns.take_clock_rejects()
    assert tables["plant"]
    assert tables["own"]
    assert by_readings.stats == by_columns.stats
    assert state(by_readings) == state(by_columns)


def test_rings_append_a_batch_as_windows_append_reading_by_reading() -> None:
    rng = np.random.default_rng(7)
    rings, windows = EvidenceRings(5, size=8), [Evidence(size=8) for _ in range(5)]
    for size in (3, 30, 1, 12, 0, 9):  # 30 readings over 5 streams: some wrap more than once
        streams = rng.integers(0, 5, size)
        ts, values = rng.random(size), rng.random(size)
        order = np.argsort(streams, kind="stable")
        rank = np.empty(size, dtype=np.intp)
        seen: dict[int, int] = {}
        for position in order.tolist():
            rank[position] = seen.get(int(streams[position]), 0)
            seen[int(streams[position])] = rank[position] + 1
        last = np.array([rank[k] + 1 == seen[int(s)] for k, s in enumerate(streams)], dtype=bool)
        rings.append(streams, ts, values, rank, last)
        for s, t, v in zip(streams.tolist(), ts.tolist(), values.tolist(), strict=True):
            windows[s].append(t, v)
        assert [rings.window(i).points() for i in range(5)] == [w.points() for w in windows]


def test_a_store_adds_a_batch_as_histories_add_reading_by_reading() -> None:
    rng = np.random.default_rng(8)
    store, histories = (
        TrendStore(4, width=10.0, max_buckets=3),
        [TrendHistory(10.0, 3) for _ in range(4)],
    )
    ts = np.zeros(4)
    for size in (5, 40, 2, 17, 60):
        streams = rng.integers(0, 4, size)
        steps = rng.random(size)
        times = np.empty(size)
        for k, s in enumerate(streams.tolist()):
            ts[s] += steps[k]
            times[k] = ts[s]
        values = rng.normal(10.0, 3.0, size)
        store.add(streams, times, values)
        for s, t, v in zip(streams.tolist(), times.tolist(), values.tolist(), strict=True):
            histories[s].add(t, v)
        assert [store.history(i).snapshot() for i in range(4)] == [h.snapshot() for h in histories]


def test_whole_rows_of_one_machine_at_a_time_match_the_reference_path() -> None:
    """Batches that each hold one machine's sample: a row bank's rows all as narrow as that
    machine's check, which may be narrower than the bank's widest (a pump's five signals beside
    a compressor's more)."""
    machines, stream = simulated(False)
    widths = {len(equipment.signals) for equipment in machines}
    assert len(widths) > 1
    reference = Engine(machines, vectorised=False)
    vectorised = Engine(machines)
    calls = counted(vectorised)
    samples: dict[tuple[str, float], list[Reading]] = {}
    for reading in stream[: len(stream) // 3]:
        samples.setdefault((reading.equipment_id, reading.ts), []).append(reading)
    for batch in samples.values():
        assert vectorised.process(batch) == reference.process(batch)
    assert state(reference) == state(vectorised)
    assert calls["_complete_rows"] > 100


def test_a_forecast_reads_the_regime_trend_as_it_stood_at_the_finding() -> None:
    """A pump's vibration rises to its warning limit in a batch in which its motor current's
    trend bucket closes before the warning's reading: the warning's forecast, from the buckets
    of settled running (which the current's trend tells), is the reference path's."""
    equipment = {"id": "P-1", "type": "centrifugal_pump", "team": "m"}
    line = {"id": "l", "equipment": [equipment]}
    machines = plant_from_dict({"site": {"id": "s"}, "areas": [{"id": "a", "lines": [line]}]})
    limits = machines.equipment["P-1"].signals["vibration"].limits
    assert limits.warn_high is not None
    assert limits.alarm_high is not None
    rate = (limits.alarm_high - 2.0) / (10 * HOUR)
    rng = np.random.default_rng(2)
    stream = [
        reading
        for ts in np.arange(0.0, 9 * HOUR, 10.0).tolist()
        for reading in (
            Reading("P-1", "motor_current", ts, 40.0 + 0.2 * rng.normal()),
            Reading("P-1", "vibration", ts, 2.0 + rate * ts + 0.02 * rng.normal()),
        )
    ]
    warned = next(r.ts for r in stream if r.signal == "vibration" and r.value >= limits.warn_high)
    cut = next(k for k, r in enumerate(stream) if r.ts >= warned - warned % 600.0 - 60.0)
    reference = Engine(machines, ("limits",), vectorised=False)
    vectorised = Engine(machines, ("limits",))
    calls = counted(vectorised)
    for reading in stream[:cut]:
        assert vectorised.process([reading]) == reference.process([reading])
    expected = reference.process(stream[cut:])
    assert vectorised.process(stream[cut:]) == expected
    assert calls["_accept_columns"] == len(stream[:cut]) + 1
    warning = next(f for f in expected if f.active)
    assert warning.ts == warned
    assert warning.time_to_limit is not None
