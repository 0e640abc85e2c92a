"""Judging alarms against labels: what a reliability engineer asks of a labelled recording.

Pure: per row a label (1 while the fault is present, 0 otherwise, NaN if unknown) and whether an
alarm was active; rows before `scored_from` (the training rows) are not judged. Over every file
together: TP, FP, FN, TN of the alarm rows against the labels; F1 = TP / (TP + (FP + FN) / 2),
FAR = FP / (FP + TN), MAR = FN / (FN + TP) (the SKAB benchmark's outlier-detection protocol). Each
labelled event (a run of 1s) gets the delay from its start to the first alarm in it, and the
events, as windows, give the NAB standard score of the alarm onsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forewarn.nab.scoring import STANDARD, LabelledFile, corpus_score

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LabelledRun:
    """One scored file: its times, labels, alarm rows and alarm onsets, one per row."""

    name: str
    ts: FloatArray
    labels: FloatArray
    alarms: BoolArray
    raised: BoolArray
    scored_from: int = 0


@dataclass(frozen=True)
class Event:
    """One labelled event: a run of rows labelled 1."""

    file: str
    start: float
    end: float
    delay: float | None
    """Seconds from its start to the first row in alarm within it; None if none was."""


@dataclass(frozen=True)
class LabelScore:
    tp: int
    fp: int
    fn: int
    tn: int
    events: tuple[Event, ...]
    nab: float | None
    """NAB standard score (0 never fires, 100 perfect) of the alarm onsets; None without events."""

    @property
    def f1(self) -> float:
        judged = self.tp + (self.fp + self.fn) / 2
        return self.tp / judged if judged else 0.0

    @property
    def far(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def mar(self) -> float:
        return self.fn / (self.fn + self.tp) if self.fn + self.tp else 0.0


def events_of(run: LabelledRun) -> list[tuple[int, int]]:
    """(first, last) rows of each run of 1s in the judged rows, both inclusive."""
    positive = np.zeros(len(run.labels) + 2, dtype=np.int8)
    positive[1:-1] = run.labels == 1.0
    positive[1 : run.scored_from + 1] = 0
    edges = np.diff(positive)
    return list(
        zip(
            np.flatnonzero(edges == 1).tolist(),
            (np.flatnonzero(edges == -1) - 1).tolist(),
            strict=True,
        )
    )


def label_score(runs: Sequence[LabelledRun]) -> LabelScore:
    """The alarms of every run against its labels, all runs together."""
    tp = fp = fn = tn = 0
    events: list[Event] = []
    windows: list[LabelledFile] = []
    onsets: dict[str, FloatArray] = {}
    for run in runs:
        judged = np.zeros(len(run.labels), dtype=bool)
        judged[run.scored_from :] = True
        judged &= ~np.isnan(run.labels)
        truth = judged & (run.labels == 1.0)
        normal = judged & (run.labels != 1.0)
        tp += int(np.count_nonzero(truth & run.alarms))
        fn += int(np.count_nonzero(truth & ~run.alarms))
        fp += int(np.count_nonzero(normal & run.alarms))
        tn += int(np.count_nonzero(normal & ~run.alarms))
        spans = events_of(run)
        for first, last in spans:
            hits = np.flatnonzero(run.alarms[first : last + 1])
            delay = float(run.ts[first + hits[0]] - run.ts[first]) if hits.size else None
            events.append(Event(run.name, float(run.ts[first]), float(run.ts[last]), delay))
        if spans:
            windows.append(LabelledFile(run.name, len(run.labels), tuple(spans)))
            onsets[run.name] = run.raised.astype(np.float64)
    nab = corpus_score(windows, onsets, STANDARD).normalised if windows else None
    return LabelScore(tp, fp, fn, tn, tuple(events), nab)
