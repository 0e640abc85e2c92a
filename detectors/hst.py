"""Half-space trees over an equipment's signals, calibrated to tail probabilities.

river's `anomaly.HalfSpaceTrees` isolates rows that fall in sparsely visited regions of the joint
space of the signals, so it sees combinations no single signal shows (a pump drawing its usual
current at an unusually low flow). Its raw score is a mass ratio that depends on the data, the
number of signals and the tree shapes: it is not comparable between equipment, so it goes through
a `TailCalibrator`, and what the engine sees is how rare the score is for this equipment.
"""

from __future__ import annotations

import base64
import copy
import math
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from detectors.base import EquipmentDetector, reject_non_finite_row, row_values
from detectors.calibration import TailCalibrator
from detectors.errors import SnapshotError
from detectors.ewma import halflife_rate
from devices import Equipment

if TYPE_CHECKING:
    from river import anomaly


@dataclass
class HalfSpaceTreesDetector(EquipmentDetector):
    """river's HalfSpaceTrees on an equipment's rows, its raw scores tail-calibrated.

    The first `scale_warmup` rows only learn each signal's range (widened by `margin` of it on
    both sides); values are then scaled to [0, 1] with it, and clipped, so a value far outside
    the learned range lands in an empty corner of the space. The trees (seeded by `seed`) need
    two windows before their masses mean anything; the calibrator learns from then on and scores
    after its own warmup. The raw score is smoothed over a few rows (`smooth_halflife`) so one
    odd row does not make a finding, a lasting odd state does.

    `explain` has no attribution from the trees themselves: it ranks signals by how far they are
    from their own recent level, in their own recent spread, which is what a person checks first.

    Snapshots carry the trees pickled (base64 text inside the dict): restore snapshots only from
    a store you trust, as with any pickle.
    """

    name: ClassVar[str] = "half_space_trees"

    signals: tuple[str, ...] = ()
    n_trees: int = 10
    height: int = 8
    window_size: int = 1_800
    seed: int = 42
    scale_warmup: int = 600
    learn_below: float = 0.3
    """Rows whose calibrated score reaches this are not learned by the trees."""
    margin: float = 0.1
    smooth_halflife: float = 5.0
    level_halflife: float = 600.0
    calibrator: TailCalibrator = field(default_factory=TailCalibrator)

    n: int = field(default=0, init=False)
    lo: list[float] = field(default_factory=list, init=False)
    hi: list[float] = field(default_factory=list, init=False)
    smoothed: float = field(default=0.0, init=False)
    level: list[float] = field(default_factory=list, init=False)
    spread: list[float] = field(default_factory=list, init=False)
    model: anomaly.HalfSpaceTrees = field(init=False)

    def __post_init__(self) -> None:
        from river import anomaly  # a second of imports: only where the detector is used

        self.signals = tuple(self.signals)
        self.model = anomaly.HalfSpaceTrees(
            n_trees=self.n_trees, height=self.height, window_size=self.window_size, seed=self.seed
        )

    @classmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        if len(equipment.signals) < 2:
            return None
        return cls(signals=tuple(sorted(equipment.signals)))

    def _features(self, values: list[float]) -> dict[str, float]:
        features = {}
        for name, v, lo, hi in zip(self.signals, values, self.lo, self.hi, strict=True):
            features[name] = min(max((v - lo) / (hi - lo), 0.0), 1.0)
        return features

    @property
    def _trees_ready(self) -> bool:
        return self.n >= self.scale_warmup + 2 * self.window_size

    def _raw(self, values: list[float]) -> float:
        raw = float(self.model.score_one(self._features(values)))  # type: ignore[no-untyped-call]
        return self.smoothed + halflife_rate(self.smooth_halflife) * (raw - self.smoothed)

    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        reject_non_finite_row(self, x)
        values = row_values(x, self.signals)
        if values is None or not self._trees_ready:
            return 0.0
        return self.calibrator.score_one(self._raw(values))

    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        reject_non_finite_row(self, x)
        values = row_values(x, self.signals)
        if values is None:
            return
        self.n += 1
        self._learn_level(values)
        if self.n <= self.scale_warmup:
            self._learn_range(values)
            return
        if self._trees_ready:
            self.smoothed = self._raw(values)
            departing = self.calibrator.score_one(self.smoothed) >= self.learn_below
            self.calibrator.learn_one(self.smoothed)
            if departing:
                return  # an unusual row is evidence of a fault, not of what normal looks like
        self.model.learn_one(self._features(values))  # type: ignore[no-untyped-call]

    def _learn_range(self, values: list[float]) -> None:
        if not self.lo:
            self.lo, self.hi = list(values), list(values)
        self.lo = [min(a, v) for a, v in zip(self.lo, values, strict=True)]
        self.hi = [max(a, v) for a, v in zip(self.hi, values, strict=True)]
        if self.n == self.scale_warmup:
            for i, (lo, hi) in enumerate(zip(self.lo, self.hi, strict=True)):
                width = max(hi - lo, 1e-9 * max(abs(lo), abs(hi), 1.0))
                self.lo[i], self.hi[i] = lo - self.margin * width, hi + self.margin * width

    def _learn_level(self, values: list[float]) -> None:
        if not self.level:
            self.level, self.spread = list(values), [0.0] * len(values)
            return
        a = max(halflife_rate(self.level_halflife), 1.0 / self.n)
        for i, v in enumerate(values):
            d = v - self.level[i]
            self.level[i] += a * d
            self.spread[i] += a * (d * d - self.spread[i])

    def _deviations(self, x: Mapping[str, float]) -> list[tuple[float, str]]:
        out = []
        for i, name in enumerate(self.signals):
            v = x.get(name)
            if v is None or not self.level:
                continue
            std = max(math.sqrt(self.spread[i]), 1e-9 * max(abs(self.level[i]), 1.0))
            out.append((abs(v - self.level[i]) / std, name))
        return sorted(out, reverse=True)

    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        ranked = self._deviations(x)
        if not ranked:
            return self.signals[:1]
        top = ranked[0][0]
        return tuple(name for z, name in ranked if z >= 0.5 * top) or (ranked[0][1],)

    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        parts = []
        for z, name in self._deviations(x)[:3]:
            i = self.signals.index(name)
            parts.append(f"{name} {x[name]:.4g} (usually {self.level[i]:.4g}, {z:.1f} sd away)")
        detail = "; ".join(parts) or "no signal values yet"
        return (
            f"{equipment.name}: unusual combination of signal values (score {score:.2f}): {detail}"
        )

    def snapshot(self) -> dict[str, Any]:
        state = {k: copy.deepcopy(v) for k, v in super().snapshot().items() if k != "model"}
        state["calibrator"] = self.calibrator.snapshot()
        state["model"] = base64.b64encode(pickle.dumps(self.model)).decode("ascii")
        state["signals"] = list(self.signals)
        return state

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Self:
        try:
            state = dict(state)
            state["calibrator"] = TailCalibrator.restore(state["calibrator"])
            model = pickle.loads(base64.b64decode(state["model"]))
        except (KeyError, TypeError, ValueError, pickle.UnpicklingError) as exc:
            raise SnapshotError(f"not a half_space_trees snapshot: {exc}") from exc
        from river import anomaly

        if not isinstance(model, anomaly.HalfSpaceTrees):
            raise SnapshotError("half_space_trees snapshot: the model is not a HalfSpaceTrees")
        state["model"] = model
        state["signals"] = tuple(state["signals"])
        return super().restore(state)
