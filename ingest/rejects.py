"""Bad input, counted by reason and sampled for an engineer to inspect; never a crash."""

from __future__ import annotations

import enum
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class RejectReason(enum.StrEnum):
    PARSE_ERROR = "parse_error"
    """Not JSON (or not Sparkplug B protobuf), or of the wrong shape."""
    BAD_TIMESTAMP = "bad_timestamp"
    WRONG_TYPE = "wrong_type"
    """A value that is not a number."""
    NOT_FINITE = "not_finite"
    """NaN or infinity."""
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    """An integer too large for a float (JSON allows any number of digits)."""
    UNKNOWN_EQUIPMENT = "unknown_equipment"
    """A topic that no equipment of the plant file is bound to."""
    UNKNOWN_SIGNAL = "unknown_signal"
    """A value whose name (or Sparkplug alias, or OPC UA node) no signal is bound to."""
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    """A timestamp too far in the future or the past (a wrong clock or unit at the device)."""
    OUT_OF_ORDER = "out_of_order"
    """Older than the signal's last reading by more than the tolerance."""
    CLOCK_WENT_BACK = "clock_went_back"
    """Older than what the detectors already saw of the signal: its device's clock went back
    (until the stream is re-anchored on the new clock)."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NO_BIRTH = "no_birth"
    """Sparkplug data from an edge node or device whose birth certificate was not seen."""
    HANDLER_ERROR = "handler_error"
    """A message whose handling raised an unexpected error (a bug): set aside, acknowledged."""


@dataclass(frozen=True, slots=True)
class Reject:
    reason: RejectReason
    topic: str
    detail: str
    payload: bytes
    received_at: float


class DeadLetters:
    """Counts of rejects by reason, and the most recent `capacity` of them kept for inspection.

    Written from a source's network thread, read from anywhere. `sink`, if given, also receives
    every reject (the running service hands them to its `DeadLetterRecorder`, which keeps them on
    disk); it must be quick and must not raise.
    """

    PAYLOAD_EXCERPT = 512

    def __init__(self, capacity: int = 1000, sink: Callable[[Reject], None] | None = None) -> None:
        self.counts: Counter[RejectReason] = Counter()
        self._samples: deque[Reject] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._sink = sink

    def add(self, reject: Reject) -> None:
        if len(reject.payload) > self.PAYLOAD_EXCERPT:
            reject = Reject(
                reject.reason,
                reject.topic,
                reject.detail,
                reject.payload[: self.PAYLOAD_EXCERPT],
                reject.received_at,
            )
        with self._lock:
            self.counts[reject.reason] += 1
            self._samples.append(reject)
        if self._sink is not None:
            self._sink(reject)

    @classmethod
    def combined(cls, parts: Iterable[DeadLetters]) -> DeadLetters:
        """A snapshot of several sources' dead letters as one: counts summed, samples by time."""
        parts = list(parts)
        samples = sorted((r for p in parts for r in p.samples()), key=lambda r: r.received_at)
        merged = cls(capacity=max(1, len(samples)))
        merged._samples.extend(samples)
        for part in parts:
            with part._lock:
                merged.counts.update(part.counts)
        return merged

    def samples(self) -> list[Reject]:
        with self._lock:
            return list(self._samples)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())
