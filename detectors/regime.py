"""A baseline per operating regime and hour of day, so normal changes of operation are not findings.

A pump at half load is not a pump at full load with a fault, and a bearing at 15:00 is warmer than
at 03:00 because the hall is. `RegimeBaseline` keeps, for every signal of an equipment, a slowly
learned mean and spread per cell (load band of the equipment's regime signal x hour of day) and
scores how far the current values are from their own cell's baseline. A cell not yet learned falls
back to the band's all-day baseline, and a band not yet learned scores nothing: a regime seen for
the first time is learned, not reported. After a band change (a start, a stop, a new load) nothing
is scored or learned for `settle` rows, while lags (bearing temperatures) catch up.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from detectors.base import EquipmentDetector, reject_non_finite_row, row_values
from detectors.ewma import halflife_rate
from detectors.relations import bonferroni_score, rows_for
from devices import Equipment

OFF = "off"
_REGIME_WORDS = ("current", "speed", "load", "power", "torque")


def regime_signal_of(equipment: Equipment) -> str | None:
    """The signal whose level tells this equipment's operating regimes apart, if any.

    The plant file's `regime_signal`, else the first signal (by name) that looks like a load or
    speed, else none.
    """
    named = getattr(equipment, "regime_signal", None)
    if named:
        return str(named)
    for name in sorted(equipment.signals):
        if any(word in name.lower() for word in _REGIME_WORDS):
            return name
    return None


@dataclass
class RegimeBaseline(EquipmentDetector):
    """Per (load band, hour of day) and signal, a slow EWMA mean and variance; see the module.

    Bands are `band_ratio` wide on a log scale of the regime signal (15 % by default), with
    hysteresis of `hysteresis` band so a load sitting on an edge does not flap between bands;
    below `off_fraction` of the highest regime value seen the equipment is off. Cell means and
    variances learn with `halflife` (in rows of that cell); the variance is not learned from
    values beyond `clip` spreads, so a drift does not teach the baseline that it is normal. The
    per-signal z-scores are smoothed over `smooth_halflife` rows and standardised by the learned
    spread of the smoothed z, so one noisy row does not fire but a lasting shift does.
    """

    name: ClassVar[str] = "regime_baseline"
    on_delay: ClassVar[float] = 300.0
    check_params: ClassVar[Mapping[str, Any]] = {"band_warmup": 3_600, "cell_warmup": 600}
    """A start or stop ramp lasts seconds; what this detector is for lasts hours."""

    signals: tuple[str, ...] = ()
    regime: str = ""
    """The regime signal; empty: one band, hour-of-day cells only."""
    band_ratio: float = 1.1
    hysteresis: float = 0.3
    regime_halflife: float = 300.0
    """Bands follow the regime signal smoothed over this many rows: its wander around a setpoint
    does not flap between bands, a new setpoint moves it."""
    off_fraction: float = 0.1
    hour_buckets: int = 24
    halflife: float = 20_000.0
    cell_warmup: int = 3_600
    """Rows a cell must have learned before it judges: a full hour bucket, not the first minutes
    of a trend."""
    band_warmup: int = 86_400
    """Rows a band's all-day baseline must have learned before it stands in for a cell: a day,
    so it has seen the daily cycle."""
    settle: int = 2_700
    smooth_halflife: float = 10.0
    spread_halflife: float = 21_600.0
    spread_prior: float = 3_600.0
    """Weight, in rows, of the cautious initial spread of the smoothed z (1.0)."""
    clip: float = 3.0
    min_relative_std: float = 0.005

    n: int = field(default=0, init=False)
    band: str | None = field(default=None, init=False)
    since_change: int = field(default=0, init=False)
    peak: float = field(default=0.0, init=False)
    level: float = field(default=0.0, init=False)
    """The smoothed regime signal."""
    cells: dict[str, list[float]] = field(default_factory=dict, init=False)
    """Per cell key ("band:hour" or "band:*"): [rows, mean of each signal..., variance of each]."""
    smoothed: list[float] = field(default_factory=list, init=False)
    spread: list[float] = field(default_factory=list, init=False)
    """Per signal, the learned variance of its smoothed z."""
    scored_rows: int = field(default=0, init=False)
    coarse: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.signals = tuple(self.signals)
        k = len(self.signals)
        if not self.smoothed:
            self.smoothed = [0.0] * k
            # Until learned, assume the z-scores move slowly, so smoothing does not shrink them:
            # the cautious end (white noise would shrink them to a / (2 - a)).
            self.spread = [1.0] * k

    @classmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        if not equipment.signals:
            return None
        return cls(
            signals=tuple(sorted(equipment.signals)),
            regime=regime_signal_of(equipment) or "",
            regime_halflife=float(rows_for(300.0, equipment)),
            halflife=float(rows_for(5.5 * 3600.0, equipment) * 1.0),
            cell_warmup=rows_for(86_400.0 / 24, equipment),
            band_warmup=rows_for(86_400.0, equipment),
            settle=rows_for(2_700.0, equipment),
            smooth_halflife=float(rows_for(10.0, equipment)),
            spread_halflife=float(rows_for(6 * 3600.0, equipment)),
        )

    def _level(self, x: Mapping[str, float]) -> float:
        v = float(x[self.regime])
        if self.n == 0:
            return v
        return self.level + halflife_rate(self.regime_halflife) * (v - self.level)

    def _band(self, x: Mapping[str, float], current: str | None) -> str:
        if not self.regime:
            return "all"
        v = self._level(x)
        if self.peak <= 0.0 or v <= self.off_fraction * self.peak:
            return OFF
        position = math.log(v) / math.log(self.band_ratio)
        if current not in (None, OFF):
            c = int(current)
            if c - self.hysteresis <= position < c + 1 + self.hysteresis:
                return current
        return str(math.floor(position))

    def _hour(self, ts: float) -> int:
        return int((ts % 86_400.0) / 86_400.0 * self.hour_buckets) % self.hour_buckets

    def _baseline(self, band: str, hour: int) -> tuple[list[float] | None, bool]:
        """The baseline to judge by, and whether it is the band's coarser all-day one."""
        cell = self.cells.get(f"{band}:{hour}")
        if cell is not None and cell[0] >= self.cell_warmup:
            return cell, False
        whole = self.cells.get(f"{band}:*")
        if whole is not None and whole[0] >= self.band_warmup:
            return whole, True
        return None, False

    def _z(self, values: list[float], cell: list[float]) -> list[float]:
        k = len(values)
        out = []
        for i, v in enumerate(values):
            mean, var = cell[1 + i], cell[1 + k + i]
            floor = max(self.min_relative_std * abs(mean), 1e-9)
            out.append((v - mean) / max(math.sqrt(var), floor))
        return out

    def _state(
        self, x: Mapping[str, float], ts: float
    ) -> tuple[str, list[float], list[float] | None, bool]:
        """Band, values, smoothed z (None: not judged) and whether the baseline is all-day."""
        band = self._band(x, self.band)
        values = row_values(x, self.signals)
        if values is None:
            return band, [], None, False
        settling = band != self.band or self.since_change < self.settle
        if settling or band == OFF:
            return band, values, None, False  # a stopped machine's signals tell little
        cell, coarse = self._baseline(band, self._hour(ts))
        if cell is None:
            return band, values, None, False
        a = halflife_rate(self.smooth_halflife)
        z = self._z(values, cell)
        smoothed = [s + a * (zi - s) for s, zi in zip(self.smoothed, z, strict=True)]
        return band, values, smoothed, coarse

    def _standardised(self, smoothed: list[float], coarse: bool = False) -> list[float]:
        """Smoothed z in units of its learned spread; a coarse (all-day) baseline's z-scores are
        not sharpened, since that spread was learned against the finer hourly cells."""
        return [
            s / math.sqrt(max(v, 1.0) if coarse else v)
            for s, v in zip(smoothed, self.spread, strict=True)
        ]

    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        reject_non_finite_row(self, x)
        _, _, smoothed, coarse = self._state(x, ts)
        if smoothed is None:
            return 0.0
        worst = max(abs(z) for z in self._standardised(smoothed, coarse))
        return bonferroni_score(worst, len(self.signals))

    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        reject_non_finite_row(self, x)
        band, values, smoothed, coarse = self._state(x, ts)
        if not values:
            return
        if self.regime:
            self.level = self._level(x)
            self.peak = max(self.peak, self.level)
        self.n += 1
        if band != self.band:
            self.band, self.since_change = band, 0
            self.smoothed = [0.0] * len(self.signals)
            return
        self.since_change += 1
        if self.since_change < self.settle:
            return
        departed = [False] * len(values)
        if smoothed is not None:
            self.smoothed, self.coarse = smoothed, coarse
            self.scored_rows += 1
            rate = max(
                halflife_rate(self.spread_halflife), 1.0 / (self.scored_rows + self.spread_prior)
            )
            z = self._standardised(smoothed, coarse)
            for i, s in enumerate(smoothed):
                departed[i] = abs(z[i]) > self.clip
                if not departed[i] and not coarse:
                    self.spread[i] += rate * (s * s - self.spread[i])
                self.spread[i] = max(self.spread[i], 1e-6)
        for key in (f"{band}:{self._hour(ts)}", f"{band}:*"):
            self._learn_cell(key, values, departed)

    def _learn_cell(self, key: str, values: list[float], departed: list[bool]) -> None:
        k = len(values)
        cell = self.cells.get(key)
        if cell is None:
            self.cells[key] = [1.0, *values, *([0.0] * k)]
            return
        cell[0] += 1.0
        rate = max(halflife_rate(self.halflife), 1.0 / cell[0])
        warm = cell[0] > self.cell_warmup
        for i, v in enumerate(values):
            d = v - cell[1 + i]
            cell[1 + i] += rate * d
            var = cell[1 + k + i]
            if warm and (departed[i] or d * d > self.clip**2 * max(var, 1e-18)):
                continue
            cell[1 + k + i] += rate * (d * d * (1.0 - rate) - var)

    def _ranked(self, x: Mapping[str, float]) -> list[tuple[float, str]]:
        z = self._standardised(self.smoothed, self.coarse)
        return sorted(((abs(v), s) for v, s in zip(z, self.signals, strict=True)), reverse=True)

    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        ranked = self._ranked(x)
        if not ranked or ranked[0][0] == 0.0:
            return self.signals[:1]
        top = ranked[0][0]
        return tuple(s for v, s in ranked if v >= 0.5 * top)

    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        worst = self.explain(x)[0]
        i = self.signals.index(worst)
        z = self._standardised(self.smoothed, self.coarse)[i]
        band = self.band or OFF
        if band == OFF:
            regime = f"while {equipment.name} is off"
        elif band == "all":
            regime = "at this time of day"
        else:
            level = self.band_ratio ** (int(band) + 0.5)
            regime = f"for {self.regime} around {level:.3g} at this time of day"
        direction = "above" if z > 0 else "below"
        return (
            f"{worst} {x.get(worst, float('nan')):.4g} is {direction} its usual level {regime} "
            f"({abs(z):.1f} spreads; score {score:.2f})"
        )

    def snapshot(self) -> dict[str, Any]:
        state = copy.deepcopy(super().snapshot())
        state["signals"] = list(self.signals)
        return state

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Self:
        state = dict(state)
        state["signals"] = tuple(state["signals"])
        return super().restore(state)
