"""The Numenta Anomaly Benchmark score, reimplemented from its description (pure, no I/O).

A labelled file is its row count and its anomaly windows as row indices. A detector's output is one
anomaly score per row. The score rewards the earliest detection in each window, penalises every
detection outside windows (less so just after a window: a late but related alarm), and penalises
each missed window. One threshold per detector and profile is chosen over the whole corpus, then
the total is normalised so that a detector that never fires scores 0 and one that fires exactly
on the first row of every window scores 100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forewarn.errors import ForewarnError

NOTHING = 1.1
"""The threshold that detects nothing (scores are at most 1)."""
MAX_PROBATION = 750
PROBATION_FRACTION = 0.15


class NabError(ForewarnError):
    """Labels or detector output that cannot be scored; the message says which file and why."""


@dataclass(frozen=True)
class Profile:
    """Magnitudes of the reward for a detected window and of the costs of a false positive and of
    a missed window."""

    name: str
    tp: float
    fp: float
    fn: float


STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
REWARD_LOW_FP = Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0)
REWARD_LOW_FN = Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0)
PROFILES: tuple[Profile, ...] = (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)


@dataclass(frozen=True)
class LabelledFile:
    """One file of the corpus: `rows` rows and its anomaly windows `(first, last)` row indices,
    both inclusive, in time order and not overlapping."""

    name: str
    rows: int
    windows: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        previous_end = -1
        for first, last in self.windows:
            if not 0 <= first <= last < self.rows:
                raise NabError(
                    f"{self.name}: window rows [{first}, {last}] are not inside 0..{self.rows - 1}"
                )
            if first <= previous_end:
                raise NabError(f"{self.name}: windows overlap or are not in time order")
            previous_end = last

    @property
    def probation(self) -> int:
        """Rows before this index are ignored: every detector is still learning there."""
        return probation(self.rows)

    @property
    def scored_windows(self) -> tuple[tuple[int, int], ...]:
        """The windows that count: those with at least one row after probation."""
        return tuple(w for w in self.windows if w[1] >= self.probation)


@dataclass(frozen=True)
class FileScore:
    name: str
    score: float
    """Sum of this file's rewards and costs at the corpus threshold."""
    detected: int
    """Windows with a detection."""
    missed: int
    false_positives: int
    """Detections outside every window."""


@dataclass(frozen=True)
class CorpusScore:
    profile: Profile
    threshold: float
    raw: float
    """Sum of the file scores at `threshold`."""
    normalised: float
    """100 * (raw - null) / (perfect - null): 0 never fires, 100 is perfect."""
    files: tuple[FileScore, ...]


def probation(rows: int) -> int:
    return min(math.floor(PROBATION_FRACTION * rows), MAX_PROBATION)


def scaled_sigmoid(x: float) -> float:
    """How much a detection at relative position x is worth: 1 well before 0, 0 at 0, -1 from 3."""
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def window_rows(
    times: Sequence[float], windows: Sequence[tuple[float, float]]
) -> list[tuple[int, int]]:
    """Window bounds given as times, as row indices: each bound is the first row at that time.

    Where no row has exactly that time, the window is shrunk to the rows inside it (the first row
    at or after its start, the last at or before its end); a window with no row is an error.
    """
    order = np.asarray(times, dtype=float)
    result = []
    for start, end in windows:
        first = _first_at(order, start, after=True)
        last = _first_at(order, end, after=False)
        if first is None or last is None or last < first:
            raise NabError(f"no row between the window bounds {start} and {end}")
        result.append((first, last))
    return result


def _first_at(times: npt.NDArray[np.float64], moment: float, *, after: bool) -> int | None:
    exact = np.flatnonzero(times == moment)
    if exact.size:
        return int(exact[0])
    candidates = np.flatnonzero(times > moment) if after else np.flatnonzero(times < moment)
    if not candidates.size:
        return None
    return int(candidates[0] if after else candidates[-1])


def row_weights(file: LabelledFile, profile: Profile) -> npt.NDArray[np.float64]:
    """What a detection at each row is worth under `profile` (NaN during probation)."""
    weights = np.full(file.rows, -profile.fp)
    rows = np.arange(file.rows, dtype=float)
    sigmoid_one = scaled_sigmoid(-1.0)
    following = [*(w[0] for w in file.windows[1:]), file.rows]
    for (first, last), next_first in zip(file.windows, following, strict=True):
        width = last - first + 1
        inside = rows[first : last + 1]
        weights[first : last + 1] = (
            profile.tp * _sigmoid(-(last - inside + 1) / width) / sigmoid_one
        )
        after = rows[last + 1 : next_first]
        weights[last + 1 : next_first] = profile.fp * _sigmoid((after - last) / max(width - 1, 1))
    weights[: file.probation] = np.nan
    return weights


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(over="ignore"):
        values = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, values)


def window_of_row(file: LabelledFile) -> npt.NDArray[np.int64]:
    """For each row, the index of its window in `file.scored_windows`, or -1."""
    owner = np.full(file.rows, -1, dtype=np.int64)
    for k, (first, last) in enumerate(file.scored_windows):
        owner[first : last + 1] = k
    return owner


def file_score(file: LabelledFile, detections: npt.ArrayLike, profile: Profile) -> FileScore:
    """The score of one file given which rows detect (true) and which do not."""
    detected_rows = np.asarray(detections, dtype=bool)
    if detected_rows.shape != (file.rows,):
        raise NabError(f"{file.name}: {detected_rows.size} detections for {file.rows} rows")
    weights = row_weights(file, profile)
    owner = window_of_row(file)
    scored = detected_rows.copy()
    scored[: file.probation] = False
    total, detected = 0.0, 0
    for k in range(len(file.scored_windows)):
        hits = np.flatnonzero(scored & (owner == k))
        if hits.size:
            total += float(np.max(weights[hits]))
            detected += 1
        else:
            total -= profile.fn
    outside = scored & (owner == -1)
    total += float(np.sum(weights[outside]))
    return FileScore(
        name=file.name,
        score=total,
        detected=detected,
        missed=len(file.scored_windows) - detected,
        false_positives=int(np.count_nonzero(outside)),
    )


def corpus_score(
    files: Sequence[LabelledFile], scores: Mapping[str, npt.ArrayLike], profile: Profile
) -> CorpusScore:
    """The normalised score of a detector over `files` at its best threshold for `profile`.

    `scores` maps each file's name to its anomaly scores, one per row. The threshold maximises the
    sum of the file scores; candidates are every distinct score of a row after probation and
    `NOTHING`; on a tie the highest wins.
    """
    sorted_scores, deltas = [], []
    windows = sum(len(f.scored_windows) for f in files)
    for file in files:
        values = _scores_of(file, scores)
        weights = row_weights(file, profile)
        owner = window_of_row(file)
        rows = slice(file.probation, file.rows)
        values, weights, owner = values[rows], weights[rows], owner[rows]
        order = np.argsort(-values, kind="stable")
        values, weights, owner = values[order], weights[order], owner[order]
        # Sweeping the threshold down, a detection outside windows adds its weight; inside a
        # window it replaces the window's current value (its miss cost, then its best detection).
        delta = np.where(owner == -1, weights, 0.0)
        for k in range(len(file.scored_windows)):
            positions = np.flatnonzero(owner == k)
            best = np.maximum.accumulate(weights[positions])
            delta[positions] = best - np.concatenate(([-profile.fn], best[:-1]))
        sorted_scores.append(values)
        deltas.append(delta)
    null = -profile.fn * windows
    perfect = profile.tp * windows
    threshold, raw = NOTHING, null
    if sorted_scores:
        values = np.concatenate(sorted_scores)
        delta = np.concatenate(deltas)
        order = np.argsort(-values, kind="stable")
        values, delta = values[order], delta[order]
        totals = null + np.cumsum(delta)
        # The total at threshold t counts every row scoring >= t: the last row of each run of
        # equal scores.
        ends = np.flatnonzero(np.append(values[1:] != values[:-1], True))
        if ends.size:
            chosen = int(ends[int(np.argmax(totals[ends]))])
            if totals[chosen] > raw:
                threshold, raw = float(values[chosen]), float(totals[chosen])
    file_scores = tuple(
        file_score(file, _scores_of(file, scores) >= threshold, profile) for file in files
    )
    raw = sum(f.score for f in file_scores)
    normalised = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return CorpusScore(profile, threshold, raw, normalised, file_scores)


def _scores_of(file: LabelledFile, scores: Mapping[str, npt.ArrayLike]) -> npt.NDArray[np.float64]:
    if file.name not in scores:
        raise NabError(f"no anomaly scores for {file.name}")
    values = np.asarray(scores[file.name], dtype=float)
    if values.shape != (file.rows,):
        raise NabError(f"{file.name}: {values.size} anomaly scores for {file.rows} rows")
    if np.isnan(values).any():
        raise NabError(f"{file.name}: anomaly scores must be numbers, not NaN")
    return values
