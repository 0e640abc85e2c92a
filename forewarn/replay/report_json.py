"""The replay report as JSON, for scripts: every number of the HTML report, and the raw material
(ground truth, order events, bucketed signals). Times are epoch seconds (UTC), durations seconds."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from forewarn.replay.runner import ReplayResult
from forewarn.replay.scoring import Escalation, FaultScore, OrderScore, SensorScore, totals_json

FORMAT_VERSION = 1


def report_json(result: ReplayResult) -> dict[str, Any]:
    truth = result.truth
    score = result.score
    orders_by_machine: dict[str, list[str]] = {}
    for order in score.orders:
        orders_by_machine.setdefault(order.equipment_id, []).append(order.number)
    healthy = set(truth.healthy)
    report: dict[str, Any] = _clean(
        {
            "format": FORMAT_VERSION,
            "scenario": {
                "name": result.name,
                "description": result.description,
                "source": result.source,
                "plant": result.plant.source,
                "seed": truth.seed,
                "start": truth.start,
                "end": truth.end,
                "period": truth.period,
                "speed": None if math.isinf(result.speed) else result.speed,
                "broker": result.broker,
                **result.extra,
            },
            "run": {
                "wall_seconds": result.wall_seconds,
                "sim_seconds": result.sim_seconds,
                "samples": result.samples,
                "messages": result.messages,
                "readings": result.readings,
                "readings_per_second": result.readings / result.wall_seconds
                if result.wall_seconds > 0
                else None,
                "rejected": result.rejected,
            },
            "totals": totals_json(score.totals),
            "faults": [_fault(f) for f in score.faults],
            "sensor_faults": [_sensor(s) for s in score.sensor_faults],
            "orders": [_order(o) for o in score.orders],
            "machines": [
                {
                    "equipment_id": m.equipment_id,
                    "type": m.type,
                    "path": m.path,
                    "operation": m.operation,
                    "healthy": m.equipment_id in healthy,
                    "orders": orders_by_machine.get(m.equipment_id, []),
                }
                for m in truth.machines
            ],
            "truth": truth.to_json(),
            "events": [e.to_json() for e in result.events],
            "telemetry": {
                eq: {name: series.to_json() for name, series in signals.items()}
                for eq, signals in result.telemetry.items()
            },
        }
    )
    return report


def write_json(result: ReplayResult, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(report_json(result), indent=1) + "\n", encoding="utf-8")
    return path


def _fault(f: FaultScore) -> dict[str, Any]:
    t = f.truth
    return {
        "equipment_id": t.equipment_id,
        "fault": t.fault,
        "mechanism": t.mechanism,
        "shape": t.shape,
        "onset": t.onset,
        "warning_crossed_at": t.warning_crossed_at,
        "alarm_crossed_at": t.alarm_crossed_at,
        "failure_at": t.failure_at,
        "expected_failure_modes": list(t.failure_modes or (t.failure_mode,)),
        "outcome": f.outcome.value,
        "detected_at": f.detected_at,
        "delay": f.delay,
        "lead_to_alarm": f.lead_to_alarm,
        "lead_to_failure": f.lead_to_failure,
        "order": f.order_number,
        "failure_mode": f.failure_mode,
        "mode_matches": f.mode_matches,
        "detector": f.detector,
        "signals": list(f.signals),
        "summary": f.summary,
        "escalations": [_escalation(e) for e in f.escalations],
        "forecast": None
        if f.forecast is None
        else {
            "predicted_s": f.forecast.predicted_s,
            "low_s": f.forecast.low_s,
            "high_s": f.forecast.high_s,
        },
        "actual_s": f.actual_s,
    }


def _sensor(s: SensorScore) -> dict[str, Any]:
    t = s.truth
    return {
        "equipment_id": t.equipment_id,
        "signal": t.signal,
        "kind": t.kind,
        "onset": t.onset,
        "end": t.end,
        "outcome": s.outcome.value,
        "detected_at": s.detected_at,
        "delay": s.delay,
        "order": s.order_number,
        "failure_mode": s.failure_mode,
        "detector": s.detector,
    }


def _order(o: OrderScore) -> dict[str, Any]:
    return {
        "number": o.number,
        "equipment_id": o.equipment_id,
        "opened_at": o.opened_at,
        "failure_mode": o.failure_mode,
        "failure_mode_name": o.failure_mode_name,
        "priority": o.priority,
        "severity": o.severity,
        "findings": o.findings,
        "summary": o.summary,
        "cause": o.cause,
        "false": o.false,
        "escalations": [_escalation(e) for e in o.escalations],
    }


def _escalation(e: Escalation) -> dict[str, Any]:
    return {"ts": e.ts, "what": e.what}


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
