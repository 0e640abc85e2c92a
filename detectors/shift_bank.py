"""`ShiftDetector` for many equipment at once, once each has been fitted on its baseline.

As `detectors.relations_bank` does for relations: the fitted detectors' state stacks into arrays
by signal count (features' centres and scales, smoothed vectors, covariances and precisions), and
`process` scores and learns rounds of rows with the object's arithmetic. A detector still waiting
for its baseline is no member (the engine keeps it as an object: it only gathers baseline rows).
The precision is recomputed per member every `refresh` learned rows; the tail probability of T²
runs per row (`one_sided_score`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors.base import EquipmentDetector
from detectors.ewma import halflife_rate
from detectors.relations import one_sided_score
from detectors.row_bank import BoolArray, FloatArray, IntArray, RowBank, RowGroup, Scored
from detectors.shift import ShiftDetector

_VECTORS = ("persistent", "center", "scale", "mean", "smoothed", "last")
_MATRICES = ("cov", "precision")
_SCALARS = ("intensity", "since_refresh", "refresh")


class _Group(RowGroup[ShiftDetector]):
    def build(self, detectors: Sequence[ShiftDetector]) -> None:
        a: dict[str, FloatArray] = {}
        for name in _VECTORS:
            a[name] = np.array([getattr(d, name) for d in detectors]).reshape(-1, self.k)
        for name in _MATRICES:
            a[name] = np.array([getattr(d, name) for d in detectors]).reshape(-1, self.k, self.k)
        for name in _SCALARS:
            a[name] = np.array([float(getattr(d, name)) for d in detectors])
        a["alpha_smooth"] = np.array([halflife_rate(d.smooth_halflife) for d in detectors])
        a["alpha_mean"] = np.array([halflife_rate(d.mean_halflife) for d in detectors])
        a["alpha_cov"] = np.array([halflife_rate(d.cov_halflife) for d in detectors])
        self.arrays = a

    def detector(self, position: int) -> ShiftDetector:
        a = self.arrays
        state = self.prototypes[position].snapshot()
        for name in (*_VECTORS, *_MATRICES):
            state[name] = a[name][position].tolist()
        state["intensity"] = float(a["intensity"][position])
        state["since_refresh"] = int(a["since_refresh"][position])
        return ShiftDetector.restore(state)

    def step(
        self, p: IntArray, x: FloatArray, learn: BoolArray, score: bool, scored: Scored
    ) -> None:
        a, k = self.arrays, self.k
        features = np.where(a["persistent"][p] > 0.0, x - a["last"][p], x)
        z = (features - a["center"][p]) / a["scale"][p]
        mean, smoothed = a["mean"][p], a["smoothed"][p]
        smoothed = smoothed + a["alpha_smooth"][p][:, None] * (z - mean - smoothed)
        statistic = np.einsum("rk,rkl,rl->r", smoothed, a["precision"][p], smoothed)
        spread = 2.0 / (9.0 * k)
        root = np.power(np.maximum(statistic, 0.0) / k, 1.0 / 3.0)
        scores = np.array(
            [one_sided_score(q) for q in ((root - (1.0 - spread)) / np.sqrt(spread)).tolist()]
        )
        scored(scores if score else np.zeros(len(p)))
        if not learn.any():
            return
        p, z, smoothed, x = p[learn], z[learn], smoothed[learn], x[learn]
        a["smoothed"][p], a["last"][p] = smoothed, x
        a["mean"][p] = mean[learn] + a["alpha_mean"][p][:, None] * (z - mean[learn])
        normal = scores[learn] < ShiftDetector.on_threshold
        p, smoothed = p[normal], smoothed[normal]
        cov = a["cov"][p]
        outer = np.einsum("rk,rl->rkl", smoothed, smoothed)
        a["cov"][p] = cov + a["alpha_cov"][p][:, None, None] * (outer - cov)
        since = a["since_refresh"][p] + 1.0
        due = since >= a["refresh"][p]
        a["since_refresh"][p] = np.where(due, 0.0, since)
        for member in p[due].tolist():
            cov = a["cov"][member]
            intensity = a["intensity"][member]
            target = np.trace(cov) / k * np.eye(k)
            a["precision"][member] = np.linalg.inv(intensity * target + (1.0 - intensity) * cov)


class ShiftBank(RowBank[ShiftDetector]):
    """The fitted shift detectors of many equipment (`ShiftDetector.idle` false), scored and
    learned in vectorised rounds."""

    detector_type = ShiftDetector
    group_type = _Group

    @staticmethod
    def accepts(detector: EquipmentDetector) -> bool:
        return isinstance(detector, ShiftDetector) and not detector.idle()
