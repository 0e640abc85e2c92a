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
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from detectors.bank import _rounds
from detectors.ewma import halflife_rate
from detectors.relations import one_sided_score
from detectors.shift import ShiftDetector

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

_VECTORS = ("persistent", "center", "scale", "mean", "smoothed", "last")
_MATRICES = ("cov", "precision")
_SCALARS = ("intensity", "since_refresh", "refresh")


@dataclass
class _Group:
    k: int
    prototypes: list[ShiftDetector] = field(default_factory=list)
    arrays: dict[str, FloatArray] = field(default_factory=dict)

    def build(self, detectors: Sequence[ShiftDetector]) -> None:
        self.prototypes = list(detectors)
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

    def step(self, p: IntArray, x: FloatArray, learn: BoolArray) -> FloatArray:
        """One round: rows `x` of members `p` (each once); learned where `learn`."""
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
        if not learn.any():
            return scores
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
        return scores


class ShiftBank:
    """The fitted shift detectors of many equipment, scored and learned in vectorised rounds.

    Members are numbered in the order given; every one must be fitted (`ShiftDetector.idle`
    false). `process` takes rows as each member's signals in its detector's `signals` order.
    """

    detector_type = ShiftDetector

    @staticmethod
    def accepts(detector: ShiftDetector) -> bool:
        return not detector.idle()

    def __init__(self, detectors: Sequence[ShiftDetector]) -> None:
        self._where: list[tuple[int, int]] = []
        by_k: dict[int, list[ShiftDetector]] = {}
        for detector in detectors:
            if detector.idle():
                raise ValueError("a ShiftBank holds fitted detectors only (see ShiftDetector.idle)")
            members = by_k.setdefault(len(detector.signals), [])
            self._where.append((len(detector.signals), len(members)))
            members.append(detector)
        self._groups = {k: _Group(k) for k in by_k}
        for k, members in by_k.items():
            self._groups[k].build(members)

    def __len__(self) -> int:
        return len(self._where)

    @property
    def nbytes(self) -> int:
        """Bytes held by the bank's arrays."""
        return sum(a.nbytes for g in self._groups.values() for a in g.arrays.values())

    def detector(self, member: int) -> ShiftDetector:
        """The object form of one member, with its learned state."""
        k, position = self._where[member]
        return self._groups[k].detector(position)

    def process(
        self,
        members: Sequence[int],
        rows: Sequence[Sequence[float]],
        learn: Sequence[bool],
        score: bool = True,
    ) -> list[float]:
        """Score and then learn (where `learn`) each row, in order; rows of one member in time
        order. Returns one score per row (0.0 everywhere unless `score`)."""
        scores = [0.0] * len(members)
        by_k: dict[int, list[int]] = {}
        for i, member in enumerate(members):
            by_k.setdefault(self._where[member][0], []).append(i)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for k, positions in by_k.items():
                group = self._groups[k]
                at = np.array(positions, dtype=np.intp)
                p = np.array([self._where[members[i]][1] for i in positions], dtype=np.intp)
                x = np.array([rows[i] for i in positions], dtype=np.float64).reshape(-1, k)
                mask = np.array([learn[i] for i in positions], dtype=np.bool_)
                for sel in _rounds(p):
                    r = slice(None) if sel is None else sel
                    got = group.step(p[r], x[r], mask[r])
                    if score:
                        for i, s in zip(at[r].tolist(), got.tolist(), strict=True):
                            scores[i] = s
        return scores
