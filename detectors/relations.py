"""Relations: how an equipment's signals move together, and when they stop doing so.

On a healthy pump, current, flow and discharge pressure all follow the load: a load change moves
them together, along one direction of the joint space. A worn impeller breaks that: flow and head
fall while the current barely moves, each signal still well inside its own limits. This is
multivariate statistical process control with principal components (PCA-SPC): learn the few
directions along which the standardised signals normally vary, and score how far the current row
lies off them.

Per row: each signal is smoothed over a few rows (measurement noise would otherwise fill every
direction and hide the relations), standardised by its slowly learned mean and spread, and split
into its projection on the leading principal components of the slowly learned covariance and the
residual. The squared residual, Q (the squared prediction error, SPE), is smoothed over a few
rows, so one noisy row does not fire and a lasting departure does, and judged against its own
learned distribution, approximated as g * chi-squared(h) by matching its mean and variance (Box
1954; the usual SPE limit of Nomikos and MacGregor). Rows whose Q is far out teach nothing: a
developing fault must not become the new normal. Movements along the learned directions, however
large (a load change), leave Q small and are not findings.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from detectors.base import EquipmentDetector, reject_non_finite_row
from detectors.errors import SnapshotError
from detectors.ewma import halflife_rate
from devices import Equipment

Array = npt.NDArray[np.float64]
DAY = 86_400.0
_ARRAYS = ("smoothed", "mean", "var", "cov", "components", "residual")


def rows_for(seconds: float, equipment: Equipment) -> int:
    """How many of this equipment's rows cover `seconds`: rows come at its fastest signal's rate."""
    period = min((s.sample_period for s in equipment.signals.values()), default=1.0)
    return max(1, round(seconds / max(period, 1e-3)))


def bonferroni_score(z_max: float, count: int) -> float:
    """`surprise_score` of the largest of `count` z-scores, corrected for having looked at all."""
    p = min(1.0, count * math.erfc(abs(z_max) / math.sqrt(2.0)))
    if p <= 1e-10:
        return 1.0
    return -math.log10(p) / 10.0


def scaled_chi2_z(q: float, mean: float, var: float) -> float:
    """Normal quantile of `q` under g * chi-squared(h) with the given mean and variance.

    g = var / (2 mean) and h = 2 mean^2 / var match the two moments; the Wilson-Hilferty cube
    root makes chi-squared(h) close to normal, so the upper tail needs no special functions.
    """
    if mean <= 0.0 or var <= 0.0:
        return 0.0
    h = 2.0 * mean * mean / var
    spread = 2.0 / (9.0 * h)
    return float(((q / mean) ** (1.0 / 3.0) - (1.0 - spread)) / math.sqrt(spread))


def one_sided_score(z: float) -> float:
    """-log10 of the upper normal tail beyond `z`, / 10, in [0, 1] (0 for z <= 0)."""
    if z <= 0.0:
        return 0.0
    p = 0.5 * math.erfc(z / math.sqrt(2.0))
    if p <= 1e-10:
        return 1.0
    return -math.log10(p) / 10.0


@dataclass
class RelationsDetector(EquipmentDetector):
    """PCA-SPC on an equipment's signals: scores the smoothed squared residual (Q) off the
    principal subspace, against Q's own learned distribution.

    Half-lives, warmups and `refresh` are in rows. The leading components are the fewest that
    explain `variance_share` of the variance, and always fewer than the signals. Nothing is
    scored before `warmup` rows; the components are first computed halfway through it, and Q's
    distribution is learned from then on. After the warmup, rows whose Q lies beyond `clip`
    standard normal units are not learned. Q's distribution is taken to have at most `max_dof`
    degrees of freedom: a smoothed Q is autocorrelated and its learned variance, above all early
    on, understates how far its tail reaches; a heavier tail costs little, as a broken relation
    drives Q tens of times above normal.
    """

    name: ClassVar[str] = "relations"

    signals: tuple[str, ...] = ()
    smooth_halflife: float = 10.0
    scale_halflife: float = 21_600.0
    cov_halflife: float = 21_600.0
    q_halflife: float = 21_600.0
    q_smooth_halflife: float = 30.0
    variance_share: float = 0.99
    refresh: int = 100
    warmup: int = 7_200
    clip: float = 3.0
    min_relative_std: float = 1e-3
    max_dof: float = 2.0
    regime: str = ""
    """The load or speed signal. While it is below `off_fraction` of its highest level seen the
    equipment is off; while it is more than `change` (relative) away from its recent level
    (`regime_halflife` rows) the equipment is starting, stopping or changing load; for `settle`
    rows after either it is settling (temperatures lag the load). None of it is judged or learned:
    transients break every relation of steady running."""
    off_fraction: float = 0.1
    change: float = 0.15
    regime_halflife: float = 300.0
    settle: int = 10_800

    n: int = field(default=0, init=False)
    smoothed: Array = field(init=False)
    mean: Array = field(init=False)
    var: Array = field(init=False)
    cov: Array = field(init=False)
    """Covariance of the standardised smoothed signals."""
    components: Array = field(init=False)
    """Signals x retained principal directions (no columns before the first refresh)."""
    residual: Array = field(init=False)
    """Standardised residual of the last row learned (for explain and describe)."""
    q: float = field(default=0.0, init=False)
    q_mean: float = field(default=0.0, init=False)
    q_var: float = field(default=0.0, init=False)
    q_rows: int = field(default=0, init=False)
    since_refresh: int = field(default=0, init=False)
    peak: float = field(default=0.0, init=False)
    level: float = field(default=0.0, init=False)
    settling: int = field(default=0, init=False)
    """Rows left before the equipment, started again, is judged."""

    def __post_init__(self) -> None:
        self.signals = tuple(self.signals)
        k = len(self.signals)
        self.smoothed = np.zeros(k)
        self.mean = np.zeros(k)
        self.var = np.zeros(k)
        self.cov = np.zeros((k, k))
        self.components = np.zeros((k, 0))
        self.residual = np.zeros(k)

    @classmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        if len(equipment.signals) < 2:
            return None
        return cls(
            signals=tuple(sorted(equipment.signals)),
            smooth_halflife=float(rows_for(10.0, equipment)),
            scale_halflife=float(rows_for(DAY / 4, equipment)),
            cov_halflife=float(rows_for(DAY / 4, equipment)),
            q_halflife=float(rows_for(DAY / 4, equipment)),
            q_smooth_halflife=float(rows_for(30.0, equipment)),
            refresh=rows_for(100.0, equipment),
            warmup=rows_for(7200.0, equipment),
            regime=equipment.regime_signal or "",
            regime_halflife=float(rows_for(300.0, equipment)),
            settle=rows_for(3 * 3600.0, equipment),
        )

    def _row(self, x: Mapping[str, float]) -> Array | None:
        try:
            return np.array([x[s] for s in self.signals], dtype=np.float64)
        except KeyError:
            return None

    def _scale(self) -> Array:
        floor = np.maximum(self.min_relative_std * np.abs(self.mean), 1e-9)
        return np.maximum(np.sqrt(self.var), floor)

    def _step(self, values: Array) -> tuple[Array, Array, Array, float]:
        """Smoothed values, their standardised form, its residual off the subspace, smoothed Q."""
        if self.n == 0:
            return values, np.zeros_like(values), np.zeros_like(values), 0.0
        if self.components.shape[1] == 0:
            z = (values - self.mean) / self._scale()
            smoothed = self.smoothed + halflife_rate(self.smooth_halflife) * (
                values - self.smoothed
            )
            return smoothed, (smoothed - self.mean) / self._scale(), np.zeros_like(z), 0.0
        smoothed = self.smoothed + halflife_rate(self.smooth_halflife) * (values - self.smoothed)
        z = (smoothed - self.mean) / self._scale()
        residual = z - self.components @ (self.components.T @ z)
        q = self.q + halflife_rate(self.q_smooth_halflife) * (float(residual @ residual) - self.q)
        return smoothed, z, residual, q

    def _q_z(self, q: float) -> float:
        floor = 2.0 * self.q_mean * self.q_mean / self.max_dof
        return scaled_chi2_z(q, self.q_mean, max(self.q_var, floor))

    @property
    def _ready(self) -> bool:
        return self.n >= self.warmup and self.components.shape[1] > 0

    def _unsteady(self, x: Mapping[str, float]) -> bool:
        """Off, or away from its recent load: starting, stopping, changing load."""
        value = x.get(self.regime) if self.regime else None
        if value is None or self.peak <= 0.0:
            return False
        value = abs(value)
        return value < self.off_fraction * self.peak or abs(value - self.level) > self.change * max(
            self.level, self.off_fraction * self.peak
        )

    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        reject_non_finite_row(self, x)
        values = self._row(x)
        if values is None or not self._ready or self.settling or self._unsteady(x):
            return 0.0
        _, _, _, q = self._step(values)
        return one_sided_score(self._q_z(q))

    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        reject_non_finite_row(self, x)
        values = self._row(x)
        if values is None:
            return
        smoothed, z, residual, q = self._step(values)
        departed = self._ready and self._q_z(q) > self.clip
        self.smoothed, self.residual, self.q = smoothed, residual, q
        unsteady = self._unsteady(x)
        if self.regime in x:
            value = abs(x[self.regime])
            self.peak = max(self.peak, value)
            self.level = value if self.n == 0 and not self.level else self.level
            self.level += halflife_rate(self.regime_halflife) * (value - self.level)
        if unsteady:
            self.settling = self.settle
            return
        if self.settling:
            self.settling -= 1
            return
        self.n += 1
        if departed:
            return
        self._learn_scale(smoothed)
        self._learn_cov(z)
        if self.components.shape[1] > 0:
            self._learn_q(q)
        self.since_refresh += 1
        first = self.components.shape[1] == 0 and self.n >= self.warmup // 2
        if first or (self.components.shape[1] > 0 and self.since_refresh >= self.refresh):
            self._refresh()

    def end_warmup(self) -> None:
        """Judge once Q's distribution rests on some 30 independent smoothed Qs (30 memories of
        `q_smooth_halflife / ln 2` rows each) learned after the principal directions were first
        computed, or now if that many rows were seen."""
        needed = 2 * math.ceil(30 * self.q_smooth_halflife / math.log(2.0))
        self.warmup = min(self.warmup, max(self.n, needed))
        if self.n >= self.warmup // 2 and self.components.shape[1] == 0 and self.n >= 2:
            self._refresh()

    def _learn_scale(self, smoothed: Array) -> None:
        if self.n == 1:
            self.mean = smoothed.copy()
            return
        a = max(halflife_rate(self.scale_halflife), 1.0 / self.n)
        d = smoothed - self.mean
        self.mean = self.mean + a * d
        self.var = (1.0 - a) * (self.var + a * d * d)

    def _learn_cov(self, z: Array) -> None:
        if self.n == 1:
            return
        a = max(halflife_rate(self.cov_halflife), 1.0 / (self.n - 1))
        self.cov = self.cov + a * (np.outer(z, z) - self.cov)

    def _learn_q(self, q: float) -> None:
        self.q_rows += 1
        a = max(halflife_rate(self.q_halflife), 1.0 / self.q_rows)
        d = q - self.q_mean
        self.q_mean += a * d
        self.q_var = (1.0 - a) * (self.q_var + a * d * d)

    def _refresh(self) -> None:
        """Recompute the principal directions: the fewest explaining `variance_share`."""
        self.since_refresh = 0
        values, vectors = np.linalg.eigh(self.cov)
        values, vectors = values[::-1], vectors[:, ::-1]
        total = float(values.sum())
        if total <= 0.0:
            return
        share = np.cumsum(values) / total
        keep = int(np.searchsorted(share, self.variance_share) + 1)
        keep = max(1, min(keep, len(self.signals) - 1))
        self.components = np.ascontiguousarray(vectors[:, :keep])

    def _residual_of(self, x: Mapping[str, float]) -> Array:
        """Standardised residual of `x` if it carries every signal, else the last row's."""
        values = self._row(x)
        if values is None or self.n == 0:
            return self.residual
        return self._step(values)[2]

    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        contribution = self._residual_of(x) ** 2
        ranked = sorted(
            ((float(c), name) for c, name in zip(contribution, self.signals, strict=True)),
            reverse=True,
        )
        top = ranked[0][0]
        return tuple(name for c, name in ranked if c >= 0.25 * top and c > 0) or (ranked[0][1],)

    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        off = self._residual_of(x) * self._scale()
        parts = []
        for name in self.explain(x)[:3]:
            unit = equipment.signals[name].unit if name in equipment.signals else ""
            parts.append(f"{name} {float(off[self.signals.index(name)]):+.3g} {unit}".rstrip())
        return (
            f"{equipment.name}: signals no longer move together as they used to "
            f"(score {score:.2f}); off what the others imply: {', '.join(parts)}"
        )

    def snapshot(self) -> dict[str, Any]:
        state = copy.deepcopy(super().snapshot())
        for name in _ARRAYS:
            state[name] = getattr(self, name).tolist()
        state["signals"] = list(self.signals)
        return state

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Self:
        state = dict(state)
        try:
            state["signals"] = tuple(state["signals"])
            k = len(state["signals"])
            for name in _ARRAYS:
                state[name] = np.asarray(state[name], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"not a relations snapshot: {exc}") from exc
        detector = super().restore(state)
        if detector.cov.shape != (k, k):
            raise SnapshotError(
                f"relations snapshot: covariance of shape {detector.cov.shape} does not fit "
                f"{k} signals"
            )
        return detector
