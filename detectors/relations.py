"""Relations: how an equipment's signals move together, and when one stops following the others.

On a healthy pump, current, flow, head and bearing temperature all follow the load; a load change
moves them together. A worn impeller breaks that: flow and head fall while the current barely
moves, each signal still well inside its own limits. This detector learns, for every signal, an
online regression on the others, and scores how far the signal has left what the others say it
should be.

For each signal j, recursive least squares with exponential forgetting predicts its value from
the other signals' values, the other signals' slowly filtered values (thermal lags: a bearing
warms up minutes after the load rises) and the time of day (a daily ambient cycle no signal
explains). All signals are first smoothed over a few rows, which averages out measurement noise
before the regression (noisy inputs would bias its slopes towards zero and make every large load
change look like a broken relation) and makes the residual itself a smoothed one: one noisy row
does not fire, a lasting departure does. The residual is standardised by its own learned spread,
which is not learned from departures beyond `clip` spreads, and floored at `min_relative_std` of
the signal's level so a very tight relation does not alarm on harmless tiny changes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from detectors.base import EquipmentDetector
from detectors.errors import SnapshotError
from devices import Equipment

Array = npt.NDArray[np.float64]
DAY = 86_400.0
_ARRAYS = ("mean", "var", "fast", "slow", "theta", "cov", "res_var", "z")


def _alpha(halflife: float) -> float:
    return float(1.0 - 0.5 ** (1.0 / halflife))


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


@dataclass
class RelationsDetector(EquipmentDetector):
    """Per signal, an online regression on the others; scores the worst standardised residual.

    Half-lives and warmups are in rows. The units of the regression (each signal's mean and
    spread) are learned over the first `scale_warmup` rows and then kept, so the learned
    relations stay valid; the relations themselves forget with `forget_halflife`. No score
    before `warmup` rows.
    """

    name: ClassVar[str] = "relations"

    signals: tuple[str, ...] = ()
    smooth_halflife: float = 10.0
    lag_halflife: float = 600.0
    forget_halflife: float = 172_800.0
    residual_halflife: float = 21_600.0
    scale_warmup: int = 600
    warmup: int = 7_200
    clip: float = 3.0
    min_relative_std: float = 0.01
    ridge: float = 1.0
    daily: bool = True

    n: int = field(default=0, init=False)
    mean: Array = field(init=False)
    var: Array = field(init=False)
    fast: Array = field(init=False)
    slow: Array = field(init=False)
    theta: Array = field(init=False)
    """Per signal (row), the coefficients on the features."""
    cov: Array = field(init=False)
    """Per signal, the RLS inverse-covariance matrix P."""
    res_var: Array = field(init=False)
    z: Array = field(init=False)
    """Standardised residuals of the last row learned (for explain and describe)."""
    last_ts: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.signals = tuple(self.signals)
        k = len(self.signals)
        d = self._dim
        self.mean = np.zeros(k)
        self.var = np.zeros(k)
        self.fast = np.zeros(k)
        self.slow = np.zeros(k)
        self.theta = np.zeros((k, d))
        self.cov = np.repeat(np.eye(d)[None, :, :] / self.ridge, k, axis=0)
        self.res_var = np.zeros(k)
        self.z = np.zeros(k)
        # Signal j's own current and lagged values are not features of its own regression.
        self._mask = np.ones((k, d))
        own = np.arange(k)
        self._mask[own, 3 + own] = 0.0
        self._mask[own, 3 + k + own] = 0.0
        if not self.daily:
            self._mask[:, 1:3] = 0.0
        self._lam = 0.5 ** (1.0 / self.forget_halflife)
        self._max_trace = d / self.ridge

    @property
    def _dim(self) -> int:
        return 3 + 2 * len(self.signals)

    @classmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        if len(equipment.signals) < 2:
            return None
        return cls(
            signals=tuple(sorted(equipment.signals)),
            smooth_halflife=float(rows_for(10.0, equipment)),
            lag_halflife=float(rows_for(600.0, equipment)),
            forget_halflife=float(rows_for(2 * DAY, equipment)),
            residual_halflife=float(rows_for(DAY / 4, equipment)),
            scale_warmup=rows_for(600.0, equipment),
            warmup=rows_for(2 * 3600.0, equipment),
        )

    def _row(self, x: Mapping[str, float]) -> Array | None:
        try:
            values = np.array([x[s] for s in self.signals], dtype=np.float64)
        except KeyError:
            return None
        return values if np.isfinite(values).all() else None

    def _scale(self) -> Array:
        floor = np.maximum(self.min_relative_std * np.abs(self.mean), 1e-9)
        return np.maximum(np.sqrt(self.var), floor)

    def _features(self, fast: Array, slow: Array, ts: float) -> Array:
        scale = self._scale()
        angle = 2.0 * math.pi * (ts % DAY) / DAY
        head = np.array([1.0, math.sin(angle), math.cos(angle)])
        return np.concatenate([head, (fast - self.mean) / scale, (slow - self.mean) / scale])

    def _filtered(self, values: Array) -> tuple[Array, Array]:
        if self.n == 0:
            return values, values
        fast = self.fast + _alpha(self.smooth_halflife) * (values - self.fast)
        slow = self.slow + _alpha(self.lag_halflife) * (values - self.slow)
        return fast, slow

    def _residuals(self, values: Array, ts: float) -> tuple[Array, Array, Array]:
        """Per signal: standardised residual, the masked features, the raw residual."""
        fast, slow = self._filtered(values)
        phi = self._mask * self._features(fast, slow, ts)
        target = (fast - self.mean) / self._scale()
        residual = target - np.einsum("kd,kd->k", self.theta, phi)
        floor = self.min_relative_std * np.abs(self.mean) / self._scale()
        std = np.maximum(np.sqrt(self.res_var), np.maximum(floor, 1e-9))
        return residual / std, phi, residual

    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        values = self._row(x)
        if values is None or self.n < self.warmup:
            return 0.0
        z, _, _ = self._residuals(values, ts)
        return bonferroni_score(float(np.max(np.abs(z))), len(self.signals))

    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        values = self._row(x)
        if values is None:
            return
        z, phi, residual = self._residuals(values, ts)
        self.fast, self.slow = self._filtered(values)
        self.last_ts = ts
        self.n += 1
        if self.n <= self.scale_warmup:
            a = 1.0 / self.n
            d = values - self.mean
            self.mean = self.mean + a * d
            self.var = self.var + a * (d * d * (1.0 - a) - self.var)
            return
        self.z = z
        self._learn_relations(phi, residual)
        learned = self.n - self.scale_warmup
        rate = max(_alpha(self.residual_halflife), 1.0 / learned)
        keep = (np.abs(z) <= self.clip) | (self.n <= self.warmup)
        self.res_var = np.where(
            keep, self.res_var + rate * (residual**2 - self.res_var), self.res_var
        )

    def _learn_relations(self, phi: Array, residual: Array) -> None:
        """One recursive-least-squares step for every signal's regression at once."""
        p_phi = np.einsum("kij,kj->ki", self.cov, phi)
        gain = p_phi / (self._lam + np.einsum("ki,ki->k", phi, p_phi))[:, None]
        self.theta = self.theta + gain * residual[:, None]
        cov = (self.cov - np.einsum("ki,kj->kij", gain, p_phi)) / self._lam
        # Forgetting inflates P in directions the data no longer excites (a long steady run);
        # bounding its trace keeps the next excitation from being over-learned.
        trace = np.einsum("kii->k", cov)
        self.cov = cov * np.minimum(1.0, self._max_trace / trace)[:, None, None]

    def _current_z(self, x: Mapping[str, float], ts: float) -> tuple[Array, Array]:
        """Standardised and raw residuals of `x` (in the signals' units), else the last row's."""
        values = self._row(x)
        if values is None or self.n < self.scale_warmup:
            return self.z, self.z * 0.0
        z, _, residual = self._residuals(values, ts)
        return z, residual * self._scale()

    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        z, _ = self._current_z(x, self.last_ts)
        ranked = sorted(
            ((abs(float(v)), name) for v, name in zip(z, self.signals, strict=True)),
            reverse=True,
        )
        top = ranked[0][0]
        return tuple(name for v, name in ranked if v >= 0.5 * top and v > 0) or (ranked[0][1],)

    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        z, off = self._current_z(x, self.last_ts)
        worst = self.explain(x)[0]
        j = self.signals.index(worst)
        others = ", ".join(s for s in self.signals if s != worst)
        unit = equipment.signals[worst].unit if worst in equipment.signals else ""
        return (
            f"{worst} no longer follows {others} as it used to: it is {float(off[j]):+.3g} "
            f"{unit} off what they predict ({float(z[j]):+.1f} residual spreads; "
            f"score {score:.2f})"
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
            for name in _ARRAYS:
                state[name] = np.asarray(state[name], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"not a relations snapshot: {exc}") from exc
        detector = super().restore(state)
        if detector.theta.shape != (len(detector.signals), detector._dim):
            raise SnapshotError(
                f"relations snapshot: coefficients of shape {detector.theta.shape} do not fit "
                f"{len(detector.signals)} signals"
            )
        return detector
