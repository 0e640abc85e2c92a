"""Driving a simulated pump straight into an equipment detector (no broker, no engine)."""

from __future__ import annotations

from collections.abc import Iterator

from detectors.base import EquipmentDetector
from detectors.decision import Debounce, Transition
from simulators import CentrifugalPump, machine_rng
from simulators.base import Fault
from simulators.operation import CONTINUOUS, Operation

START = 1_767_225_600.0
"""2026-01-01T00:00:00Z."""
HOUR = 3600
DAY = 86_400


def pump_rows(
    seconds: int, *, seed: int = 1, operation: Operation = CONTINUOUS, fault: Fault | None = None
) -> Iterator[tuple[float, dict[str, float]]]:
    pump = CentrifugalPump.create("P-1", machine_rng(seed, "P-1"), operation)
    if fault is not None:
        pump.attach(fault)
    for k in range(seconds):
        ts = START + k
        yield ts, pump.step(ts, 1.0)


def raised_at(
    detector: EquipmentDetector, rows: Iterator[tuple[float, dict[str, float]]]
) -> list[float]:
    """Source times at which the engine's debounce would raise a finding from this detector."""
    decision = Debounce(
        on=detector.on_threshold,
        off=detector.off_score(),
        on_delay=detector.on_delay,
        off_delay=detector.off_delay,
    )
    raised = []
    for ts, x in rows:
        score = detector.score_one(x, ts)
        assert 0.0 <= score <= 1.0
        detector.learn_one(x, ts)
        if decision.update(score, ts, 1) is Transition.RAISED:
            raised.append(ts)
    return raised
