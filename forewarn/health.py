"""Whether the service does its job: ok, degraded or failing, with the reasons.

`assess` is pure: counters and ages in, a verdict out. `HealthMonitor` keeps the previous sample of
the counters so that rates (readings per second, drops per window) can be judged; the service
calls it for GET /api/v1/health, which answers 503 when the verdict is failing so that a container
orchestrator restarts forewarn.

- A source is degraded when it is disconnected, when nothing came from it for `stale_after`
  seconds, or when its readings arrive at less than `min_rate_fraction` of the rate the plant file
  expects of its signals (their sample periods), and when its network loop had to be restarted.
- The service is failing when no source delivers readings (each is disconnected or silent) after
  the start-up grace, or when the store says it is failing.
- Engine drops (readings it could not use: out of order, unknown stream, not finite) over
  `max_drop_fraction` of the readings of the last window make it degraded.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices import Plant
from ingest import SourceStats
from ticketing import StoreStatus


class Status(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILING = "failing"


@dataclass(frozen=True, slots=True)
class SourceSample:
    """What one source looks like now."""

    connected: bool
    readings: int
    last_reading_age: float | None
    """Seconds since its last reading arrived; None: none yet."""
    loop_restarts: int = 0


@dataclass(frozen=True, slots=True)
class StoreSample:
    """What the work-order store says of itself (see `store_sample`)."""

    status: Status
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Thresholds:
    stale_after: float = 60.0
    """Seconds without a reading after which a source counts as silent."""
    min_rate_fraction: float = 0.5
    max_drop_fraction: float = 0.05
    startup_grace: float = 60.0
    """Seconds after start during which no reading yet is not a failure."""


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    reasons: tuple[str, ...] = ()
    sources: Mapping[str, Status] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reasons": list(self.reasons),
            "source_status": {name: s.value for name, s in self.sources.items()},
        }


def expected_rates(plant: Plant, sources: Iterable[str]) -> dict[str, float]:
    """Readings per second the plant file expects of each source: one per sample period of every
    signal it carries (OPC UA signals of server S come from "opcua:S", the others from "mqtt")."""
    rates = dict.fromkeys(sources, 0.0)
    for equipment in plant.equipment.values():
        for signal in equipment.signals.values():
            name = f"opcua:{signal.opcua.server}" if signal.opcua is not None else "mqtt"
            if name in rates and signal.sample_period > 0:
                rates[name] += 1.0 / signal.sample_period
    return rates


def assess(
    sources: Mapping[str, SourceSample],
    *,
    rates: Mapping[str, float | None],
    expected: Mapping[str, float],
    window_readings: int,
    window_drops: Mapping[str, int],
    restarts: Mapping[str, int],
    uptime: float,
    store: StoreSample | None = None,
    thresholds: Thresholds = Thresholds(),
) -> Verdict:
    """The verdict on the service. `rates`: readings per second of each source over the last
    window (None before a window has passed); `window_readings` / `window_drops`: readings the
    engine saw and dropped by reason in that window; `restarts`: network-loop restarts in it."""
    reasons: list[str] = []
    per_source: dict[str, Status] = {}
    delivering = 0
    for name, sample in sources.items():
        problems: list[str] = []
        silent = sample.last_reading_age is None or sample.last_reading_age > thresholds.stale_after
        if not sample.connected:
            problems.append("disconnected")
        elif sample.last_reading_age is None:
            if uptime > thresholds.startup_grace:
                problems.append(f"no reading since the start {uptime:.0f} s ago")
        elif silent:
            problems.append(f"no reading for {sample.last_reading_age:.0f} s")
        rate, want = rates.get(name), expected.get(name, 0.0)
        if (
            sample.connected
            and not silent
            and rate is not None
            and want > 0
            and rate < thresholds.min_rate_fraction * want
        ):
            problems.append(f"{rate:.1f} readings/s, the plant file expects {want:.1f}/s")
        if restarts.get(name, 0):
            problems.append(f"network loop restarted {restarts[name]} time(s)")
        if sample.connected and not silent:
            delivering += 1
        per_source[name] = Status.DEGRADED if problems else Status.OK
        reasons += [f"source {name}: {p}" for p in problems]

    dropped = sum(window_drops.values())
    if window_readings and dropped > thresholds.max_drop_fraction * window_readings:
        by_reason = ", ".join(f"{n} {r}" for r, n in sorted(window_drops.items()) if n)
        reasons.append(f"engine dropped {dropped} of {window_readings} readings ({by_reason})")

    status = Status.DEGRADED if reasons else Status.OK
    if sources and not delivering and uptime > thresholds.startup_grace:
        status = Status.FAILING
        reasons.insert(0, "no source delivers readings")
    if store is not None and store.status is not Status.OK:
        reasons.append(f"store: {store.reason or store.status.value}")
        if store.status is Status.FAILING or status is Status.OK:
            status = store.status
    return Verdict(status, tuple(reasons), per_source)


ENGINE_DROPS = ("unknown_stream", "out_of_order", "not_finite", "clock_went_back")
"""Engine counters of readings it could not use (bad quality is the sensor's verdict, not a
drop)."""


class HealthMonitor:
    """Turns running counters into `assess` inputs: rates and drops since the previous call that
    is at least `window` seconds old."""

    def __init__(
        self,
        expected: Mapping[str, float],
        *,
        started_at: float,
        window: float = 30.0,
        thresholds: Thresholds = Thresholds(),
    ) -> None:
        self.expected = dict(expected)
        self.thresholds = thresholds
        self._started_at = started_at
        self._window = window
        self._previous: tuple[float, dict[str, SourceSample], dict[str, int]] | None = None
        self._last: tuple[dict[str, float | None], int, dict[str, int], dict[str, int]] = (
            {},
            0,
            {},
            {},
        )

    def check(
        self,
        now: float,
        sources: Mapping[str, SourceSample],
        engine: Mapping[str, int],
        store: StoreSample | None = None,
    ) -> Verdict:
        """`engine`: the engine's cumulative counters (readings and the drop reasons)."""
        counters = {k: engine.get(k, 0) for k in ("readings", *ENGINE_DROPS)}
        previous = self._previous
        if previous is None:
            self._previous = (now, dict(sources), counters)
        elif now - previous[0] >= self._window:
            then, old_sources, old_counters = previous
            span = now - then
            rates: dict[str, float | None] = {
                name: (s.readings - old_sources[name].readings) / span
                if name in old_sources
                else None
                for name, s in sources.items()
            }
            drops = {k: counters[k] - old_counters.get(k, 0) for k in ENGINE_DROPS}
            restarts = {
                name: s.loop_restarts - old_sources[name].loop_restarts
                for name, s in sources.items()
                if name in old_sources
            }
            readings = counters["readings"] - old_counters.get("readings", 0)
            self._last = (rates, readings + sum(drops.values()), drops, restarts)
            self._previous = (now, dict(sources), counters)
        rates, window_readings, drops, restarts = self._last
        return assess(
            sources,
            rates=rates,
            expected=self.expected,
            window_readings=window_readings,
            window_drops=drops,
            restarts=restarts,
            uptime=now - self._started_at,
            store=store,
            thresholds=self.thresholds,
        )


def source_sample(stats: SourceStats, now: float) -> SourceSample:
    last = stats.last_reading_at
    return SourceSample(
        connected=stats.connected,
        readings=stats.readings,
        last_reading_age=None if last is None else max(0.0, now - last),
        loop_restarts=stats.loop_restarts,
    )


def store_sample(status: StoreStatus) -> StoreSample:
    """Findings waiting in the spool for the database make the service degraded (nothing is lost
    yet); a full spool, which drops findings, makes it failing."""
    if status.state == "ok":
        return StoreSample(Status.OK)
    waited = f", the oldest for {status.oldest_age:.0f} s" if status.oldest_age is not None else ""
    reason = f"{status.pending} findings wait for the database{waited}"
    if status.last_error:
        reason += f" ({status.last_error})"
    if status.pending_bytes >= status.max_bytes:
        return StoreSample(Status.FAILING, f"the finding spool is full: {reason}")
    return StoreSample(Status.DEGRADED, reason)
