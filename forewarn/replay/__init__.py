"""The engineer's workbench: replay a scenario or a recording through the real pipeline, score
it against ground truth, and report (HTML for people, JSON for scripts)."""

from forewarn.replay.events import OrderEvent
from forewarn.replay.runner import (
    ReplayOptions,
    ReplayProgress,
    ReplayResult,
    replay_csv,
    replay_scenario,
)
from forewarn.replay.scoring import FaultScore, OrderScore, Outcome, Score, SensorScore, score
from forewarn.replay.telemetry import Series, TelemetryRecorder

__all__ = [
    "FaultScore",
    "OrderEvent",
    "OrderScore",
    "Outcome",
    "ReplayOptions",
    "ReplayProgress",
    "ReplayResult",
    "Score",
    "SensorScore",
    "Series",
    "TelemetryRecorder",
    "replay_csv",
    "replay_scenario",
    "score",
]
