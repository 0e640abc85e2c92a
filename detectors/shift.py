"""Shift: the joint state of an equipment's signals, against a healthy baseline it was shown.

A partly closed valve at a pump's inlet moves flow a little, vibration a little, current a little:
each signal stays within its own normal spread, together they are far from where the healthy pump
was. This is a multivariate control chart (Lowry et al. 1992, MEWMA; Hotelling's T²): each
signal is standardised by its baseline mean and spread and smoothed over a few rows (the MEWMA),
and the squared Mahalanobis distance of the smoothed vector, T², is judged against chi-squared
with one degree of freedom per signal. The covariance of the smoothed vector is estimated on the
baseline and shrunk towards a scaled identity by the Ledoit-Wolf (2004) intensity, so a few
hundred rows of eight correlated signals give a well-conditioned inverse.

Signals that wander by nature (temperatures following ambient and load) would alarm on their
level alone. They are recognised on the baseline by their persistence, the lag-1 autocorrelation
of their values (1 - var(diff) / (2 var)): above `persistence`, a signal is judged by its changes
(its first differences), not its level. Noise-like signals keep their levels.

Nothing is judged or learned until a baseline is named: the detector keeps the last
`baseline_capacity` rows of the engine's training rows (`learn_baseline`) and fits on them when
`end_warmup()` is called (`forewarn score --train-rows`, `forewarn learn`); a live engine that is
never told of a baseline costs it almost nothing. After the fit it follows slow change: the mean
of every standardised feature with a `mean_halflife`, the covariance, from rows judged normal
only, with a `cov_halflife`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from detectors.base import EquipmentDetector, reject_non_finite_row, row_values
from detectors.errors import SnapshotError
from detectors.ewma import halflife_rate
from detectors.relations import one_sided_score, rows_for
from devices import Equipment

Array = npt.NDArray[np.float64]
_ARRAYS = ("persistent", "center", "scale", "mean", "smoothed", "cov", "precision", "last")


def ledoit_wolf(rows: Array) -> tuple[Array, float]:
    """The Ledoit-Wolf shrunk covariance of `rows` (one observation per row), and its intensity.

    Shrinks the sample covariance towards `trace / p` times the identity by the intensity that
    minimises the expected squared error (Ledoit and Wolf 2004, as in scikit-learn).
    """
    n, p = rows.shape
    centred = rows - rows.mean(axis=0)
    sample = centred.T @ centred / n
    target = np.trace(sample) / p * np.eye(p)
    distance = float(((sample - target) ** 2).sum())
    if distance <= 0.0:
        return target, 1.0
    spread = float(((centred**2).T @ (centred**2)).sum() / n - (sample**2).sum()) / n
    intensity = min(max(spread, 0.0), distance) / distance
    return intensity * target + (1.0 - intensity) * sample, intensity


def chi2_tail_z(statistic: float, dof: int) -> float:
    """Normal quantile of `statistic` under chi-squared(`dof`) (Wilson-Hilferty)."""
    spread = 2.0 / (9.0 * dof)
    root = (max(statistic, 0.0) / dof) ** (1.0 / 3.0)
    return float((root - (1.0 - spread)) / math.sqrt(spread))


@dataclass
class ShiftDetector(EquipmentDetector):
    """MEWMA + Hotelling T² of an equipment's signals against a named healthy baseline.

    Half-lives, `refresh` and the capacities are in rows. Scores are -log10 of T²'s chi-squared
    tail probability / 10; a condition starts at a row-level probability of 1e-8 (at one row a
    second, one healthy day holds 86,400 rows; the smoothed rows are far from independent) and
    clears below 1e-6.
    """

    name: ClassVar[str] = "shift"
    needs_baseline: ClassVar[bool] = True
    on_threshold: ClassVar[float] = 0.8
    off_threshold: ClassVar[float] = 0.6
    off_delay: ClassVar[float] = 10.0

    signals: tuple[str, ...] = ()
    smooth_halflife: float = 7.0
    mean_halflife: float = 3_600.0
    cov_halflife: float = 600.0
    persistence: float = 0.5
    refresh: int = 50
    baseline_capacity: int = 3_600
    min_baseline: int = 60
    """Fewer rows than this are no baseline: `end_warmup` leaves the detector unfitted."""

    fitted: bool = field(default=False, init=False)
    intensity: float = field(default=0.0, init=False)
    since_refresh: int = field(default=0, init=False)
    persistent: Array = field(init=False)
    """1.0 for each signal judged by its changes, 0.0 for those judged by their level."""
    center: Array = field(init=False)
    scale: Array = field(init=False)
    mean: Array = field(init=False)
    """Slowly followed mean of the standardised features."""
    smoothed: Array = field(init=False)
    cov: Array = field(init=False)
    precision: Array = field(init=False)
    last: Array = field(init=False)
    """The last row learned (for the differences)."""
    baseline: deque[list[float]] = field(init=False)
    """Baseline rows learned before the fit; not part of snapshots (learn, then `end_warmup`)."""

    def __post_init__(self) -> None:
        self.signals = tuple(self.signals)
        k = len(self.signals)
        self.persistent = np.zeros(k)
        self.center = np.zeros(k)
        self.scale = np.ones(k)
        self.mean = np.zeros(k)
        self.smoothed = np.zeros(k)
        self.cov = np.eye(k)
        self.precision = np.eye(k)
        self.last = np.full(k, np.nan)
        self.baseline = deque(maxlen=self.baseline_capacity)

    @classmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        if len(equipment.signals) < 2:
            return None
        return cls(
            signals=tuple(sorted(equipment.signals)),
            smooth_halflife=float(rows_for(7.0, equipment)),
            mean_halflife=float(rows_for(3_600.0, equipment)),
            cov_halflife=float(rows_for(600.0, equipment)),
            refresh=rows_for(50.0, equipment),
            baseline_capacity=rows_for(3_600.0, equipment),
        )

    def end_warmup(self) -> None:
        """Fit on the rows learned so far: they are the healthy baseline."""
        rows = np.array(self.baseline, dtype=np.float64)
        self.baseline.clear()
        if len(rows) < self.min_baseline:
            return
        levels, changes = rows[1:], np.diff(rows, axis=0)
        level_var, change_var = levels.var(axis=0), changes.var(axis=0)
        wanders = change_var < 2.0 * (1.0 - self.persistence) * level_var
        self.persistent = wanders.astype(np.float64)
        features = np.where(wanders, changes, levels)
        self.center = features.mean(axis=0)
        floor = np.maximum(1e-3 * np.abs(self.center), 1e-9)
        self.scale = np.maximum(features.std(axis=0), floor)
        z = (features - self.center) / self.scale
        rate = halflife_rate(self.smooth_halflife)
        smoothed = np.zeros_like(z)
        m = np.zeros(len(self.signals))
        for t, row in enumerate(z):
            m = m + rate * (row - m)
            smoothed[t] = m
        settled = smoothed[min(len(z) // 4, round(5 * self.smooth_halflife)) :]
        self.cov, self.intensity = ledoit_wolf(settled)
        self.precision = np.asarray(np.linalg.inv(self.cov), dtype=np.float64)
        self.mean = np.zeros(len(self.signals))
        self.smoothed = m
        self.last = rows[-1].copy()
        self.fitted = True

    def _features(self, values: Array) -> Array:
        features = np.where(self.persistent > 0.0, values - self.last, values)
        return (features - self.center) / self.scale

    def _step(self, values: Array) -> tuple[Array, Array, float]:
        z = self._features(values)
        smoothed = self.smoothed + halflife_rate(self.smooth_halflife) * (
            z - self.mean - self.smoothed
        )
        return z, smoothed, float(smoothed @ self.precision @ smoothed)

    def _score(self, statistic: float) -> float:
        return one_sided_score(chi2_tail_z(statistic, len(self.signals)))

    def idle(self) -> bool:
        return not self.fitted

    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        reject_non_finite_row(self, x)
        values = row_values(x, self.signals)
        if values is None or not self.fitted:
            return 0.0
        return self._score(self._step(np.array(values))[2])

    def learn_baseline(self, x: Mapping[str, float], ts: float) -> None:
        reject_non_finite_row(self, x)
        values = row_values(x, self.signals)
        if values is not None and not self.fitted:
            self.baseline.append(values)
        else:
            self.learn_one(x, ts)

    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        reject_non_finite_row(self, x)
        values = row_values(x, self.signals)
        if values is None or not self.fitted:
            return
        row = np.array(values)
        z, smoothed, statistic = self._step(row)
        self.smoothed, self.last = smoothed, row
        self.mean = self.mean + halflife_rate(self.mean_halflife) * (z - self.mean)
        if self._score(statistic) >= self.on_threshold:
            return
        self.cov = self.cov + halflife_rate(self.cov_halflife) * (
            np.outer(smoothed, smoothed) - self.cov
        )
        self.since_refresh += 1
        if self.since_refresh >= self.refresh:
            self.since_refresh = 0
            k = len(self.signals)
            target = np.trace(self.cov) / k * np.eye(k)
            self.precision = np.linalg.inv(
                self.intensity * target + (1.0 - self.intensity) * self.cov
            )

    def _contributions(self, x: Mapping[str, float]) -> Array:
        values = row_values(x, self.signals)
        smoothed = (
            self._step(np.array(values))[1] if values is not None and self.fitted else self.smoothed
        )
        return smoothed * (self.precision @ smoothed)

    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        contribution = self._contributions(x)
        ranked = sorted(
            ((float(c), name) for c, name in zip(contribution, self.signals, strict=True)),
            reverse=True,
        )
        top = ranked[0][0]
        return tuple(name for c, name in ranked if c >= 0.25 * top and c > 0) or (ranked[0][1],)

    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        smoothed = self._contributions(x)
        parts = []
        for name in self.explain(x)[:3]:
            i = self.signals.index(name)
            how = "changing" if self.persistent[i] else "level"
            parts.append(f"{name} ({how}, {float(smoothed[i]):.0f} of the distance)")
        return (
            f"{equipment.name}: the signals together have left their healthy baseline "
            f"(score {score:.2f}); most off: {', '.join(parts)}"
        )

    def snapshot(self) -> dict[str, Any]:
        state = super().snapshot()
        del state["baseline"]
        for name in _ARRAYS:
            state[name] = getattr(self, name).tolist()
        state["signals"] = list(self.signals)
        return state

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Self:
        state = dict(state, baseline=[])
        try:
            state["signals"] = tuple(state["signals"])
            k = len(state["signals"])
            for name in _ARRAYS:
                state[name] = np.asarray(state[name], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"not a shift snapshot: {exc}") from exc
        detector = super().restore(state)
        detector.baseline = deque(maxlen=detector.baseline_capacity)
        if detector.cov.shape != (k, k):
            raise SnapshotError(
                f"shift snapshot: covariance of shape {detector.cov.shape} does not fit {k} signals"
            )
        return detector
