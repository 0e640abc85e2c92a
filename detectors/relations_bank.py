"""`RelationsDetector` for many equipment at once: stacked arrays, one round of rows at a time.

A plant's equipment of one kind have the same number of signals, so their relations state stacks
into arrays: means and spreads (equipment x signals), covariances and principal directions
(equipment x signals x signals, the directions padded with zero columns). `process` scores and
learns a batch of rows of any equipment with the object detector's arithmetic, vectorised across
the equipment of a round (each at most once per round, as `detectors.bank` does for streams).
Only the refresh of the principal directions (`numpy.linalg.eigh`, every `refresh` rows) and the
final tail probability run per row. The object stays the reference (`tests/detectors/
test_relations_bank.py` holds the two to 1e-9) and the way to explain, describe and snapshot a
detector (`detector(member)` rebuilds it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors.ewma import halflife_rate
from detectors.relations import RelationsDetector, one_sided_score
from detectors.row_bank import BoolArray, FloatArray, IntArray, RowBank, RowGroup, Scored

_VECTORS = ("smoothed", "mean", "var", "residual")
_SCALARS = ("n", "q", "q_mean", "q_var", "q_rows", "since_refresh", "peak", "level", "settling")
_PARAMS = (
    "variance_share",
    "refresh",
    "warmup",
    "clip",
    "min_relative_std",
    "max_dof",
    "off_fraction",
    "change",
    "settle",
)
_RATES = {
    "alpha_smooth": "smooth_halflife",
    "alpha_scale": "scale_halflife",
    "alpha_cov": "cov_halflife",
    "alpha_q": "q_halflife",
    "alpha_q_smooth": "q_smooth_halflife",
    "alpha_regime": "regime_halflife",
}


class _Group(RowGroup[RelationsDetector]):
    def build(self, detectors: Sequence[RelationsDetector]) -> None:
        a: dict[str, FloatArray] = {}
        for name in _VECTORS:
            a[name] = np.array([getattr(d, name) for d in detectors]).reshape(-1, self.k)
        a["cov"] = np.array([d.cov for d in detectors]).reshape(-1, self.k, self.k)
        components = np.zeros((len(detectors), self.k, self.k))
        for i, d in enumerate(detectors):
            components[i, :, : d.components.shape[1]] = d.components
        a["components"] = components
        a["kept"] = np.array([float(d.components.shape[1]) for d in detectors])
        for name in (*_SCALARS, *_PARAMS):
            a[name] = np.array([float(getattr(d, name)) for d in detectors])
        for rate, halflife in _RATES.items():
            a[rate] = np.array([halflife_rate(getattr(d, halflife)) for d in detectors])
        a["half_warmup"] = np.array([float(d.warmup // 2) for d in detectors])
        a["regime"] = np.array(
            [float(d.signals.index(d.regime)) if d.regime in d.signals else -1.0 for d in detectors]
        )
        self.arrays = a

    def detector(self, position: int) -> RelationsDetector:
        a, prototype = self.arrays, self.prototypes[position]
        state = prototype.snapshot()
        for name in _VECTORS:
            state[name] = a[name][position].tolist()
        state["cov"] = a["cov"][position].tolist()
        kept = int(a["kept"][position])
        state["components"] = a["components"][position, :, :kept].tolist()
        for name in _SCALARS:
            value = float(a[name][position])
            state[name] = value if name in ("q", "q_mean", "q_var", "peak", "level") else int(value)
        return RelationsDetector.restore(state)

    def step(
        self, p: IntArray, x: FloatArray, learn: BoolArray, score: bool, scored: Scored
    ) -> None:
        a = self.arrays
        n, kept = a["n"][p], a["kept"][p]
        smoothed, mean, var = a["smoothed"][p], a["mean"][p], a["var"][p]
        components = a["components"][p]
        fresh = (n == 0.0)[:, None]
        moved = smoothed + a["alpha_smooth"][p][:, None] * (x - smoothed)
        new_smoothed = np.where(fresh, x, moved)
        scale = np.maximum(
            np.sqrt(var), np.maximum(a["min_relative_std"][p][:, None] * np.abs(mean), 1e-9)
        )
        z = np.where(fresh, 0.0, (moved - mean) / scale)
        projected = np.einsum("rkm,rm->rk", components, np.einsum("rkm,rk->rm", components, z))
        has_components = kept > 0.0
        residual = np.where(fresh | ~has_components[:, None], 0.0, z - projected)
        q_old = a["q"][p]
        q = np.where(
            (n > 0.0) & has_components,
            q_old + a["alpha_q_smooth"][p] * (np.einsum("rk,rk->r", residual, residual) - q_old),
            0.0,
        )
        q_z = self._q_z(q, a["q_mean"][p], a["q_var"][p], a["max_dof"][p])
        ready = (n >= a["warmup"][p]) & has_components

        regime = a["regime"][p].astype(np.intp)
        has_regime = regime >= 0
        value = np.abs(x[np.arange(len(p)), np.maximum(regime, 0)])
        peak, level = a["peak"][p], a["level"][p]
        off = a["off_fraction"][p] * peak
        unsteady = (
            has_regime
            & (peak > 0.0)
            & ((value < off) | (np.abs(value - level) > a["change"][p] * np.maximum(level, off)))
        )
        settling = a["settling"][p]
        scores = np.zeros(len(p))
        if score:
            for i in np.flatnonzero(ready & (settling == 0.0) & ~unsteady).tolist():
                scores[i] = one_sided_score(float(q_z[i]))
        scored(scores)
        if learn.any():
            self._learn(p[learn], learn, new_smoothed, z, residual, q, q_z, ready, value, unsteady)
            a["peak"][p[learn]] = np.where(
                has_regime[learn], np.maximum(peak[learn], value[learn]), peak[learn]
            )

    def _learn(
        self,
        p: IntArray,
        sl: BoolArray,
        smoothed: FloatArray,
        z: FloatArray,
        residual: FloatArray,
        q: FloatArray,
        q_z: FloatArray,
        ready: BoolArray,
        value: FloatArray,
        unsteady: BoolArray,
    ) -> None:
        """`RelationsDetector.learn_one` of the rows `sl` of the round (members `p`), after
        `step` computed what the object's learn_one computes first; the caller updates `peak`."""
        a = self.arrays
        n = a["n"][p]
        smoothed, z, q, value, unsteady = smoothed[sl], z[sl], q[sl], value[sl], unsteady[sl]
        departed = ready[sl] & (q_z[sl] > a["clip"][p])
        a["smoothed"][p], a["residual"][p], a["q"][p] = smoothed, residual[sl], q
        level = a["level"][p]
        level = np.where((n == 0.0) & (level == 0.0), value, level)
        a["level"][p] = np.where(
            a["regime"][p] >= 0.0, level + a["alpha_regime"][p] * (value - level), a["level"][p]
        )
        settling = a["settling"][p]
        a["settling"][p] = np.where(
            unsteady, a["settle"][p], np.where(settling > 0.0, settling - 1.0, settling)
        )
        steady = ~unsteady & (settling == 0.0)
        n1 = n + 1.0
        a["n"][p] = np.where(steady, n1, n)
        learned = steady & ~departed
        if not learned.any():
            return
        p, n1, smoothed, z, q = p[learned], n1[learned], smoothed[learned], z[learned], q[learned]
        first = n1 == 1.0
        mean, var = a["mean"][p], a["var"][p]
        rate = np.maximum(a["alpha_scale"][p], 1.0 / n1)[:, None]
        d = smoothed - mean
        a["mean"][p] = np.where(first[:, None], smoothed, mean + rate * d)
        a["var"][p] = np.where(first[:, None], var, (1.0 - rate) * (var + rate * d * d))
        cov = a["cov"][p]
        rate_cov = np.maximum(a["alpha_cov"][p], 1.0 / np.maximum(n1 - 1.0, 1.0))[:, None, None]
        outer = np.einsum("rk,rl->rkl", z, z)
        a["cov"][p] = np.where(first[:, None, None], cov, cov + rate_cov * (outer - cov))
        kept = a["kept"][p]
        has_components = kept > 0.0
        q_rows = a["q_rows"][p] + 1.0
        rate_q = np.maximum(a["alpha_q"][p], 1.0 / q_rows)
        q_mean, q_var = a["q_mean"][p], a["q_var"][p]
        dq = q - q_mean
        a["q_rows"][p] = np.where(has_components, q_rows, a["q_rows"][p])
        a["q_mean"][p] = np.where(has_components, q_mean + rate_q * dq, q_mean)
        a["q_var"][p] = np.where(has_components, (1.0 - rate_q) * (q_var + rate_q * dq * dq), q_var)
        since = a["since_refresh"][p] + 1.0
        a["since_refresh"][p] = since
        due = (~has_components & (n1 >= a["half_warmup"][p])) | (
            has_components & (since >= a["refresh"][p])
        )
        if due.any():
            self._refresh(p[due])

    def _refresh(self, members: IntArray) -> None:
        """`RelationsDetector._refresh` for each of `members`."""
        a = self.arrays
        a["since_refresh"][members] = 0.0
        values, vectors = np.linalg.eigh(a["cov"][members])
        for i, member in enumerate(members.tolist()):
            ordered, directions = values[i][::-1], vectors[i][:, ::-1]
            total = float(ordered.sum())
            if total <= 0.0:
                continue
            share = np.cumsum(ordered) / total
            keep = int(np.searchsorted(share, a["variance_share"][member]) + 1)
            keep = max(1, min(keep, self.k - 1))
            a["components"][member] = 0.0
            a["components"][member, :, :keep] = directions[:, :keep]
            a["kept"][member] = float(keep)

    @staticmethod
    def _q_z(q: FloatArray, mean: FloatArray, var: FloatArray, max_dof: FloatArray) -> FloatArray:
        """`RelationsDetector._q_z` (`scaled_chi2_z` with the variance floor) on arrays."""
        var = np.maximum(var, 2.0 * mean * mean / max_dof)
        valid = (mean > 0.0) & (var > 0.0)
        safe_mean = np.where(valid, mean, 1.0)
        h = 2.0 * safe_mean * safe_mean / np.where(valid, var, 1.0)
        spread = 2.0 / (9.0 * h)
        with np.errstate(invalid="ignore"):
            z = (np.power(q / safe_mean, 1.0 / 3.0) - (1.0 - spread)) / np.sqrt(spread)
        return np.where(valid, z, 0.0)


class RelationsBank(RowBank[RelationsDetector]):
    """The relations detectors of many equipment, scored and learned in vectorised rounds."""

    detector_type = RelationsDetector
    group_type = _Group
