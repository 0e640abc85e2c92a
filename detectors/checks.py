"""Generic checks every registered detector must pass, in the style of river's estimator checks.

`yield_checks(cls)` gives the checks that apply to a detector class; each takes a fresh detector
factory and the data to run on, and raises `AssertionError` saying what is wrong. The test suite
runs them on every entry of `registry.REGISTRY`, so a new detector is checked for free.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from detectors.base import Detector, EquipmentDetector
from detectors.errors import InvalidInput

Row = Mapping[str, float]
Series = Sequence[tuple[float, float]]
"""(ts, value) pairs of one signal, in time order."""
Rows = Sequence[tuple[float, Row]]
"""(ts, row) pairs of one equipment, in time order."""

Check = Callable[[Callable[[], Any], Sequence[Any]], None]
"""A check: a factory of fresh detectors and the data to run them on (a `Series` or `Rows`)."""


def run_signal(detector: Detector, series: Series) -> list[float]:
    """Scores of `series`, each value scored before it is learned."""
    scores = []
    for ts, value in series:
        scores.append(detector.score_one(value, ts))
        detector.learn_one(value, ts)
    return scores


def run_equipment(detector: EquipmentDetector, rows: Rows) -> list[float]:
    scores = []
    for ts, row in rows:
        scores.append(detector.score_one(row, ts))
        detector.learn_one(row, ts)
    return scores


def _run(detector: Detector | EquipmentDetector, data: Sequence[tuple[float, Any]]) -> list[float]:
    if isinstance(detector, Detector):
        return run_signal(detector, data)
    return run_equipment(detector, data)


def check_scores_in_unit_interval(make: Callable[[], Any], data: Sequence[Any]) -> None:
    scores = _run(make(), data)
    bad = [s for s in scores if not 0.0 <= s <= 1.0]
    assert not bad, f"scores outside [0, 1]: {bad[:5]}"


def check_snapshot_round_trip(make: Callable[[], Any], data: Sequence[Any]) -> None:
    """A detector restored from its JSON snapshot scores the rest exactly as the original."""
    half = len(data) // 2
    original = make()
    _run(original, data[:half])
    state = json.loads(json.dumps(original.snapshot()))
    clone = type(original).restore(state)
    assert _run(clone, data[half:]) == _run(original, data[half:]), (
        "a detector restored from its snapshot scores differently from the original"
    )


def check_deterministic(make: Callable[[], Any], data: Sequence[Any]) -> None:
    """Two detectors made alike (same seed) give the same scores."""
    assert _run(make(), data) == _run(make(), data), "the same detector scored differently twice"


def check_input_not_mutated(make: Callable[[], Any], data: Sequence[Any]) -> None:
    frozen = copy.deepcopy(list(data))
    _run(make(), data)
    assert list(data) == frozen, "the detector changed the data it was given"


def check_non_finite_rejected(make: Callable[[], Any], data: Sequence[Any]) -> None:
    """NaN and infinity raise `InvalidInput` and leave the detector as it was."""
    detector = make()
    half = len(data) // 2
    _run(detector, data[:half])
    before = json.dumps(detector.snapshot(), sort_keys=True)
    ts, sample = data[half]
    for bad in (math.nan, math.inf, -math.inf):
        value: Any = bad
        if isinstance(detector, EquipmentDetector):
            name = next(iter(sample))
            value = {**sample, name: bad}
        for method in (detector.score_one, detector.learn_one):
            try:
                method(value, ts)
            except InvalidInput:
                pass
            else:
                raise AssertionError(f"{method.__name__}({bad}) did not raise InvalidInput")
    after = json.dumps(detector.snapshot(), sort_keys=True)
    assert before == after, "a rejected non-finite value changed the detector's state"


def check_missing_and_new_signals(
    make: Callable[[], EquipmentDetector], data: Sequence[tuple[float, Row]]
) -> None:
    """Rows lacking a signal the detector learned, or carrying one it never saw, are scored."""
    detector = make()
    half = len(data) // 2
    run_equipment(detector, data[:half])
    for ts, row in data[half : half + 20]:
        missing = dict(list(row.items())[1:])
        extra = {**row, "never_seen_before": 1.0}
        for x in (missing, extra):
            score = detector.score_one(x, ts)
            assert 0.0 <= score <= 1.0, f"score {score} of a row with other signals"
            detector.learn_one(x, ts)


COMMON: tuple[Check, ...] = (
    check_scores_in_unit_interval,
    check_snapshot_round_trip,
    check_deterministic,
    check_input_not_mutated,
    check_non_finite_rejected,
)


def yield_checks(cls: type[Detector] | type[EquipmentDetector]) -> Iterator[Check]:
    """The checks that apply to `cls`."""
    yield from COMMON
    if issubclass(cls, EquipmentDetector):
        yield check_missing_and_new_signals
