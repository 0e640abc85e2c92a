"""Static warning / alarm limits from the plant file, with a deadband for hysteresis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from detectors.base import Detector, reject_non_finite
from devices import FindingKind, Severity, Signal


@dataclass
class LimitDetector(Detector):
    """Scores how far a value is past its limits: 0.5 at a warning limit, 1.0 at an alarm limit.

    Between the limits the score is linear. A condition clears only when the value is back inside
    the warning limit by more than the deadband. A signal with only an alarm limit scores 1.0 at it.
    """

    name: ClassVar[str] = "limits"
    kind: ClassVar[FindingKind] = FindingKind.LIMIT
    CLEAR: ClassVar[float] = 0.4

    warn_high: float | None = None
    alarm_high: float | None = None
    warn_low: float | None = None
    alarm_low: float | None = None
    deadband: float = 0.0

    @classmethod
    def for_signal(cls, signal: Signal) -> Self | None:
        lim = signal.limits
        bounds = [lim.warn_high, lim.alarm_high, lim.warn_low, lim.alarm_low]
        if all(b is None for b in bounds):
            return None
        if lim.deadband is not None:
            deadband = lim.deadband
        else:
            deadband = 0.01 * max(abs(b) for b in bounds if b is not None)
        return cls(lim.warn_high, lim.alarm_high, lim.warn_low, lim.alarm_low, deadband)

    def score_one(self, value: float, ts: float) -> float:
        reject_non_finite(self, value)
        high = _side_score(value, self.warn_high, self.alarm_high, self.deadband)
        low = _side_score(-value, _neg(self.warn_low), _neg(self.alarm_low), self.deadband)
        return max(high, low)

    def learn_one(self, value: float, ts: float) -> None:
        reject_non_finite(self, value)
        return None

    def severity(self, score: float) -> Severity:
        return Severity.ALARM if score >= 1.0 else Severity.WARNING

    def off_score(self) -> float:
        return self.CLEAR

    def describe(self, signal: Signal, value: float, score: float) -> str:
        unit = f" {signal.unit}" if signal.unit else ""
        for name, limit, above in (
            ("alarm", self.alarm_high, True),
            ("alarm", self.alarm_low, False),
            ("warning", self.warn_high, True),
            ("warning", self.warn_low, False),
        ):
            if limit is not None and (value >= limit if above else value <= limit):
                side = "above" if above else "below"
                return f"{signal.name} {value:.4g}{unit} is {side} its {name} limit {limit:g}{unit}"
        return f"{signal.name} {value:.4g}{unit} is back within its limits"


def _neg(x: float | None) -> float | None:
    return None if x is None else -x


def _side_score(x: float, warn: float | None, alarm: float | None, deadband: float) -> float:
    """Score of one side (written for a high limit; low limits are scored on negated values).

    Anchors: warn - deadband -> 0.4 (the clear level), warn -> 0.5, alarm -> 1.0.
    """
    if warn is None and alarm is None:
        return 0.0
    if warn is None:
        assert alarm is not None
        return 1.0 if x >= alarm else _below(x, alarm, deadband)
    if x >= warn:
        if alarm is None:
            return 0.5
        return min(1.0, 0.5 + 0.5 * (x - warn) / (alarm - warn))
    return _below(x, warn, deadband)


def _below(x: float, limit: float, deadband: float) -> float:
    """Below a limit: 0.4 at limit - deadband rising toward 0.5 at the limit, 0 further away."""
    if deadband <= 0.0:
        return 0.0
    distance = (limit - x) / deadband
    if distance <= 1.0:
        return 0.5 - 0.1 * distance
    return max(0.0, 0.4 - 0.4 * (distance - 1.0))
