"""The detector contract: river-style online scoring of one signal stream.

A detector sees a stream in time order. For each value it is first asked for a score
(`score_one`, never looking ahead), then taught (`learn_one`). Scores are in [0, 1] and mean the
same thing for every detector: 0.5 is where a condition starts (roughly a 1-in-100,000 surprise,
or a crossed warning limit), 1.0 is certain. Deciding what a score means over time (thresholds,
hysteresis, on/off delays) is `detectors.decision`'s job, not the detector's.

Detectors are dataclasses: constructor fields are parameters, fields with `init=False` are learned
state, so snapshot and restore come for free and are plain JSON-compatible data.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from detectors.errors import InvalidInput
from devices import Equipment, FindingKind, Severity, Signal


def surprise_score(z: float) -> float:
    """Map a z-score to [0, 1] through its two-sided normal tail probability p: -log10(p) / 10.

    0.3 is p = 1e-3 (|z| 3.3), 0.5 is p = 1e-5 (|z| 4.4), 1.0 is p <= 1e-10 (|z| >= 6.5).
    """
    p = math.erfc(abs(z) / math.sqrt(2.0))
    if p <= 1e-10:
        return 1.0
    return -math.log10(p) / 10.0


def reject_non_finite(detector: object, value: float) -> None:
    """Raise `InvalidInput` for NaN or infinity (called before anything is changed)."""
    if not math.isfinite(value):
        raise InvalidInput(
            f"{type(detector).__name__} cannot score or learn {value!r}; non-finite readings "
            "must be dropped before detection (the engine counts them as not_finite)"
        )


def reject_non_finite_row(detector: object, x: Mapping[str, float]) -> None:
    """Raise `InvalidInput` if any value of the row `x` is NaN or infinite."""
    for value in x.values():
        reject_non_finite(detector, value)


def row_values(x: Mapping[str, float], signals: tuple[str, ...]) -> list[float] | None:
    """The values of `signals` in `x`, in that order; None if one is missing."""
    try:
        return [float(x[s]) for s in signals]
    except KeyError:
        return None


class _Stateful:
    """Snapshot and restore for dataclass detectors: init fields are parameters, others state."""

    check_params: ClassVar[Mapping[str, Any]] = {}
    """Parameters the generic checks (`detectors.checks`) run this detector with, on top of its
    defaults: shorter warm-ups, so a detector that learns for a day shows what it does within the
    checks' few simulated hours."""

    needs_baseline: ClassVar[bool] = False
    """Judges only once told that what it learned is a healthy baseline (`end_warmup`)."""

    def end_warmup(self) -> None:
        """What was learned so far is the healthy baseline: judge from the next value on.

        Detectors that count a `warmup` of samples `n` shorten it to what they have seen (if
        they have seen anything); detectors that fit a model on their warm-up override this.
        """
        n, warmup = getattr(self, "n", None), getattr(self, "warmup", None)
        if isinstance(n, int) and isinstance(warmup, int) and 0 < n < warmup:
            self.warmup = n

    def snapshot(self) -> dict[str, Any]:
        """Parameters and learned state, as plain data."""
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be a dataclass to be snapshotted")
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Self:
        """A detector equal to the one whose `snapshot()` gave `state`; a field added since (a
        snapshot of an older forewarn) keeps its default."""
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        detector = cls(**{f.name: state[f.name] for f in fields if f.init and f.name in state})
        for f in fields:
            if not f.init and f.name in state:
                setattr(detector, f.name, state[f.name])
        return detector


class _Decided:
    """How the engine turns this detector's scores into condition episodes (`decision.Debounce`)."""

    name: ClassVar[str]
    kind: ClassVar[FindingKind]
    on_threshold: ClassVar[float] = 0.5
    off_threshold: ClassVar[float] = 0.3
    on_delay: ClassVar[float] = 0.0
    """Seconds the score must stay at or above `on_threshold` before a condition is raised."""
    off_delay: ClassVar[float] = 600.0
    """Seconds the score must stay at or below the off score before the condition clears: a value
    hovering around a limit is one episode, not one per crossing."""

    def severity(self, score: float) -> Severity:
        return Severity.WARNING

    def off_score(self) -> float:
        """Score at or below which an active condition clears (hysteresis)."""
        return self.off_threshold


class Detector(_Decided, _Stateful, ABC):
    """One online detector on one signal stream."""

    @classmethod
    @abstractmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        """A detector configured for this signal, or None if it does not apply (e.g. no limits)."""

    @abstractmethod
    def score_one(self, value: float, ts: float) -> float:
        """Anomaly score of `value` in [0, 1], from what was learned so far; changes nothing.

        Raises `InvalidInput` for a non-finite value (see `reject_non_finite`), as `learn_one`.
        """

    @abstractmethod
    def learn_one(self, value: float, ts: float) -> None:
        """Update the learned state with `value`."""

    def score_silence(self, now: float) -> float:
        """Score of the stream having sent nothing newer than its last value by source time `now`.

        The engine asks every detector periodically, between readings; only detectors of missing
        data override this. It changes nothing the scores of readings depend on, but may note
        the judgment (`StaleSensor` learns from it how late a source's data normally arrives).
        """
        return 0.0

    @abstractmethod
    def describe(self, signal: Signal, value: float, score: float) -> str:
        """One sentence for a person: what the detector sees."""


class EquipmentDetector(_Decided, _Stateful, ABC):
    """One online detector on the joint behaviour of one equipment's signals.

    `x` maps signal names to their latest values, one row per source timestamp (a signal that did
    not report at that time keeps its previous value). Scored before it is learned, like `Detector`.
    """

    kind: ClassVar[FindingKind] = FindingKind.ANOMALY

    @classmethod
    @abstractmethod
    def for_equipment(cls, equipment: Equipment) -> Self | None:
        """A detector configured for this equipment, or None if it does not apply."""

    @abstractmethod
    def score_one(self, x: Mapping[str, float], ts: float) -> float:
        """Anomaly score of the row `x` in [0, 1], from what was learned so far; changes nothing."""

    @abstractmethod
    def learn_one(self, x: Mapping[str, float], ts: float) -> None:
        """Update the learned state with the row `x`."""

    def idle(self) -> bool:
        """True while rows outside a named baseline neither score nor teach it anything (a
        detector waiting for its baseline): the engine then does not hand it those rows."""
        return False

    def learn_baseline(self, x: Mapping[str, float], ts: float) -> None:
        """Learn the row `x` of a named healthy baseline (the engine's training rows, before
        `end_warmup`); by default as any other row."""
        self.learn_one(x, ts)

    @abstractmethod
    def explain(self, x: Mapping[str, float]) -> tuple[str, ...]:
        """The signals that contribute most to the score of `x`, most first (at least one)."""

    @abstractmethod
    def describe(self, equipment: Equipment, x: Mapping[str, float], score: float) -> str:
        """One sentence for a person: what the detector sees."""
