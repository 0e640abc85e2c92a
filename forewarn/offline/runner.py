"""Streaming a table through the detection engine, as the live pipeline would, row by row.

The table is one equipment whose signals are its columns. Each row is one batch of readings,
scored before it is learned, never looking ahead. A row's anomaly score is the highest score of
its readings; its alarm is whether a condition episode was raised on it (what would open a work
order).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors import DEFAULT, Engine
from detectors.registry import is_equipment_detector
from devices import Criticality, Equipment, Finding, Limits, Plant, Reading, Signal
from forewarn.offline.table import Table

EQUIPMENT_ID = "csv"
PROGRESS_EVERY = 1000
"""Rows between two calls of the progress callback."""


@dataclass(frozen=True)
class RowScores:
    scores: npt.NDArray[np.float64]
    """Anomaly score of each row in [0, 1]; 0 for training rows and rows the engine set aside."""
    alarms: npt.NDArray[np.bool_]
    """True on the rows where a condition episode was raised."""
    set_aside: int
    """Rows after training whose time was not after an earlier row's: the engine drops such
    readings (a live source can resend old values), so they score 0."""


def table_plant(table: Table, equipment_id: str = EQUIPMENT_ID) -> Plant:
    """A plant of one equipment whose signals are the table's columns, sampled at the table's
    median time step, without limits: only the learning detectors apply."""
    signals = {
        name: Signal(
            name=name,
            unit="",
            sample_period=table.sample_period,
            limits=Limits(),
            topic=f"offline/{equipment_id}",
            field=name,
        )
        for name in table.columns
    }
    equipment = Equipment(
        id=equipment_id,
        name=table.path.name,
        type="recorded",
        criticality=Criticality.MEDIUM,
        team="",
        site="offline",
        area="offline",
        line="offline",
        signals=signals,
    )
    return Plant(
        site="offline",
        topic_template="{site}/{area}/{line}/{equipment}",
        equipment={equipment_id: equipment},
        source=str(table.path),
    )


def score_table(
    table: Table,
    detectors: Sequence[str] = DEFAULT,
    *,
    train_rows: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> RowScores:
    """Stream every row of `table` through a fresh engine with `detectors`.

    The first `train_rows` rows are only learned (nothing scored or decided) and reported as 0
    and no alarm.
    `on_progress(rows)` is called every `PROGRESS_EVERY` rows with the rows done since the last
    call, and once at the end.
    """
    engine = Engine(table_plant(table), detectors)
    rows = len(table)
    scores = np.zeros(rows)
    alarms = np.zeros(rows, dtype=bool)
    active: set[tuple[str, str, tuple[str, ...]]] = set()
    columns = table.columns
    latest = -math.inf
    set_aside = 0
    pending = 0
    for r in range(rows):
        ts = float(table.ts[r])
        row = table.values[r]
        batch = [
            Reading(EQUIPMENT_ID, columns[c], ts, float(row[c]))
            for c in range(len(columns))
            if math.isfinite(row[c])
        ]
        reading_scores: list[float] = []
        findings = engine.process(batch, reading_scores, train=r < train_rows)
        raised = _raised(findings, active)
        if r >= train_rows:
            if ts <= latest:
                set_aside += 1
            scores[r] = min(max(reading_scores, default=0.0), 1.0)
            alarms[r] = raised
        latest = max(latest, ts)
        pending += 1
        if on_progress is not None and pending == PROGRESS_EVERY:
            on_progress(pending)
            pending = 0
    if on_progress is not None and pending:
        on_progress(pending)
    return RowScores(scores, alarms, set_aside)


def _raised(findings: list[Finding], active: set[tuple[str, str, tuple[str, ...]]]) -> bool:
    """Whether one of `findings` starts a condition episode; keeps `active` up to date.

    An episode is one detector's on one signal, or on the whole equipment for an equipment-level
    detector (whose findings name the signals that contribute most, which change as it goes).
    """
    raised = False
    for finding in findings:
        signals = () if is_equipment_detector(finding.detector) else finding.signals
        key = (finding.equipment_id, finding.detector, signals)
        if finding.active:
            if key not in active:
                active.add(key)
                raised = True
        else:
            active.discard(key)
    return raised
