"""Streaming a table through the detection engine, as the live pipeline would, row by row.

The table is one equipment whose signals are its columns. Each row is one batch of readings,
scored before it is learned, never looking ahead. A row's anomaly score is the highest score of
its readings; it is in alarm while a condition episode (what would open a work order) is active,
and an episode's onset is the row that raised it.
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
CHUNK_ROWS = 1000
"""Rows per batch through the engine (and between two calls of the progress callback): each
reading is still scored before it is learned, in file order; batches only amortise the
engine's per-batch cost, as the live pipeline's do."""


@dataclass(frozen=True)
class RowScores:
    scores: npt.NDArray[np.float64]
    """Anomaly score of each row in [0, 1]; 0 for training rows and rows the engine set aside."""
    alarms: npt.NDArray[np.bool_]
    """True on every row while a condition episode is active (from the row that raised it to
    the row before the one that cleared it)."""
    raised: npt.NDArray[np.bool_]
    """True on the rows where a condition episode was raised (the onsets of `alarms`)."""
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
    and no alarm; they are the healthy baseline: after them, every detector judges
    (`Engine.end_warmup`).
    `on_progress(rows)` is called after every batch of rows with the number of rows done.
    """
    engine = Engine(table_plant(table), detectors)
    rows = len(table)
    scores = np.zeros(rows)
    alarms = np.zeros(rows, dtype=bool)
    raised = np.zeros(rows, dtype=bool)
    active: set[tuple[str, str, tuple[str, ...]]] = set()
    columns = table.columns
    latest = -math.inf
    set_aside = 0
    start = 0
    while start < rows:
        end = min(rows, start + CHUNK_ROWS)
        if start < train_rows < end:
            end = train_rows
        train = start < train_rows
        batch: list[Reading] = []
        owner: list[int] = []
        """The row of each reading of the batch."""
        for r in range(start, end):
            ts = float(table.ts[r])
            for c, value in enumerate(table.values[r]):
                if math.isfinite(value):
                    batch.append(Reading(EQUIPMENT_ID, columns[c], ts, float(value)))
                    owner.append(r)
            if not train and ts <= latest:
                set_aside += 1
            latest = max(latest, ts)
        reading_scores: list[float] = []
        findings = engine.process(batch, reading_scores, train=train)
        if not train:
            for r, score in zip(owner, reading_scores, strict=True):
                scores[r] = max(scores[r], min(score, 1.0))
            row_at = {float(table.ts[r]): r for r in range(start, end)}
            by_row: dict[int, list[Finding]] = {}
            for finding in findings:
                by_row.setdefault(row_at.get(finding.ts, end - 1), []).append(finding)
            for r in range(start, end):
                if r in by_row:
                    raised[r] = _raised(by_row[r], active)
                alarms[r] = bool(active)
        elif end == train_rows:
            engine.end_warmup()
        if on_progress is not None:
            on_progress(end - start)
        start = end
    return RowScores(scores, alarms, raised, set_aside)


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
