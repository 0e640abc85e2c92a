"""The detection engine: every signal of the plant, its detectors and their decisions.

Pure and synchronous: batches of `Reading`s in, `Finding`s out, no I/O. The composition root feeds
it from a source and hands its findings to ticketing; it can snapshot its whole state and resume.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from detectors.base import Detector
from detectors.decision import Debounce, Transition
from detectors.errors import SnapshotError
from detectors.prediction import time_to_limit
from detectors.registry import DEFAULT, detector_class
from devices import Finding, Plant, Point, Quality, Reading, Severity, Signal

SNAPSHOT_VERSION = 1
EVIDENCE_POINTS = 600


@dataclass
class _Check:
    detector: Detector
    decision: Debounce


@dataclass
class _Stream:
    equipment_id: str
    signal: Signal
    checks: list[_Check]
    evidence: deque[Point] = field(default_factory=lambda: deque(maxlen=EVIDENCE_POINTS))
    last_ts: float = -math.inf


@dataclass
class EngineStats:
    readings: int = 0
    findings: int = 0
    unknown_stream: int = 0
    out_of_order: int = 0
    bad_quality: int = 0
    not_finite: int = 0


class Engine:
    """Scores every reading before learning from it, and reports condition episodes as findings."""

    def __init__(self, plant: Plant, detectors: Sequence[str] = DEFAULT) -> None:
        self.plant = plant
        self.stats = EngineStats()
        classes = [detector_class(name) for name in detectors]
        self._streams: dict[tuple[str, str], _Stream] = {}
        for equipment in plant:
            for signal in equipment.signals.values():
                checks = []
                for cls in classes:
                    detector = cls.for_signal(signal)
                    if detector is not None:
                        checks.append(_Check(detector, _decision_for(detector)))
                self._streams[(equipment.id, signal.name)] = _Stream(equipment.id, signal, checks)

    def process(self, batch: Iterable[Reading]) -> list[Finding]:
        findings: list[Finding] = []
        stats = self.stats
        for reading in batch:
            stream = self._streams.get((reading.equipment_id, reading.signal))
            if stream is None:
                stats.unknown_stream += 1
                continue
            value, ts = reading.value, reading.ts
            if not math.isfinite(value):
                stats.not_finite += 1
                continue
            if reading.quality is Quality.BAD:
                stats.bad_quality += 1
                continue
            if ts <= stream.last_ts:
                stats.out_of_order += 1
                continue
            stream.last_ts = ts
            stream.evidence.append((ts, value))
            stats.readings += 1
            learn = reading.quality is Quality.GOOD
            for check in stream.checks:
                detector = check.detector
                score = detector.score_one(value, ts)
                if learn:
                    detector.learn_one(value, ts)
                severity = detector.severity(score)
                transition = check.decision.update(score, ts, int(severity))
                if transition is not None:
                    findings.append(_finding(stream, check, transition, value, ts, score, severity))
        stats.findings += len(findings)
        return findings

    def snapshot(self) -> dict[str, Any]:
        """The whole learned state as JSON-compatible data."""
        return {
            "version": SNAPSHOT_VERSION,
            "streams": {
                f"{eq}/{sig}": {
                    "last_ts": stream.last_ts if math.isfinite(stream.last_ts) else None,
                    "evidence": list(stream.evidence),
                    "checks": [
                        {
                            "detector": c.detector.name,
                            "state": c.detector.snapshot(),
                            "decision": c.decision.snapshot(),
                        }
                        for c in stream.checks
                    ],
                }
                for (eq, sig), stream in self._streams.items()
            },
        }

    def restore(self, snapshot: dict[str, Any]) -> int:
        """Resume from `snapshot()`; streams not in the plant are ignored, new ones start anew.

        Returns the number of streams restored.
        """
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError(
                f"snapshot version {snapshot.get('version')!r} is not {SNAPSHOT_VERSION}; "
                "delete the snapshot file to start learning afresh"
            )
        restored = 0
        for key, saved in snapshot["streams"].items():
            equipment_id, _, signal = key.rpartition("/")
            stream = self._streams.get((equipment_id, signal))
            if stream is None:
                continue
            by_name = {c["detector"]: c for c in saved["checks"]}
            for check in stream.checks:
                entry = by_name.get(check.detector.name)
                if entry is None:
                    continue
                check.detector = type(check.detector).restore(entry["state"])
                check.decision = Debounce(**entry["decision"])
            stream.last_ts = saved["last_ts"] if saved["last_ts"] is not None else -math.inf
            stream.evidence.extend((t, v) for t, v in saved["evidence"])
            restored += 1
        return restored


def _decision_for(detector: Detector) -> Debounce:
    return Debounce(
        on=detector.on_threshold,
        off=detector.off_score(),
        on_delay=detector.on_delay,
        off_delay=detector.off_delay,
    )


def _finding(
    stream: _Stream,
    check: _Check,
    transition: Transition,
    value: float,
    ts: float,
    score: float,
    severity: Severity,
) -> Finding:
    detector, signal = check.detector, stream.signal
    active = transition is not Transition.CLEARED
    evidence = tuple(stream.evidence)
    return Finding(
        equipment_id=stream.equipment_id,
        signals=(signal.name,),
        kind=detector.kind,
        severity=Severity(max(check.decision.level, int(severity))) if active else severity,
        score=score,
        ts=ts,
        detector=detector.name,
        summary=detector.describe(signal, value, score),
        active=active,
        time_to_limit=time_to_limit(evidence, signal.limits) if active else None,
        evidence={signal.name: evidence},
    )
