"""Every progressive fault of the simulators' library on each machine type that models it,
through the detection engine with the default ensemble (no broker: the engine alone).

    python bench/fault_library.py [--days-to-failure 3] [--fault BearingWear] [--no-healthy]

Each machine runs around the clock; the fault starts after a healthy day (the detectors learn)
and fails `--days-to-failure` days later. Prints, per fault and machine type, the first finding's
delay after onset and its lead before the first alarm-limit crossing (ground truth), and the
findings on a healthy machine of the same type over the same span; and the time-to-limit forecast
of that first finding (the one that opens the work order) against the actual time left until
the alarm-limit crossing: whether its 90 % range holds it, and the point estimate's error as a
fraction of the actual time left. A case whose first finding has no forecast counts as not held.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from rich.console import Console
from rich.progress import track
from rich.table import Table

from detectors import DEFAULT, Engine
from devices import Finding, Plant, plant_from_dict
from forewarn import snapshots
from simulators import Fleet
from simulators import faults as library
from simulators.base import Fault
from simulators.fleet import FaultInjection
from simulators.registry import MACHINE_MODELS

DAY = 86_400.0
PERIOD = 2.0
"""Seconds between samples: half the rate of the shipped plants, to keep the run short."""
FAULTS: tuple[type[Fault], ...] = (
    library.BearingWear,
    library.ImpellerWear,
    library.Imbalance,
    library.Misalignment,
    library.Cavitation,
    library.CoolingLoss,
    library.LubricationLoss,
    library.SealLeak,
    library.BeltSlip,
)


def one_machine(machine_type: str) -> Plant:
    equipment = {"id": "M-1", "type": machine_type, "team": "maintenance"}
    line = {"id": "l", "equipment": [equipment]}
    return plant_from_dict({"site": {"id": "bench"}, "areas": [{"id": "a", "lines": [line]}]})


def run(
    plant: Plant, fault: Fault | None, end: float
) -> tuple[list[Finding], Fleet, dict[str, Any] | None]:
    """The findings, the fleet (for its ground truth) and the engine's state snapshot right
    after the batch of the first finding after onset (None without one)."""
    fleet = Fleet(plant, seed=5, faults=[FaultInjection("M-1", fault)] if fault else [])
    engine = Engine(plant, DEFAULT)
    findings: list[Finding] = []
    batch = []
    snapshot = None
    ts = 0.0
    while ts < end:
        for sample in fleet.tick(ts, PERIOD):
            batch.extend(sample.readings())
        if len(batch) >= 3_000 or ts + PERIOD >= end:
            new = engine.process(batch)
            findings += new
            batch = []
            if snapshot is None and fault and any(_opens(f, fault.onset) for f in new):
                snapshot = engine.snapshot()
        ts += PERIOD
    return findings, fleet, snapshot


def _opens(finding: Finding, onset: float) -> bool:
    """The finding would open the fault's work order: active, after onset, not a notice."""
    return finding.active and finding.ts >= onset and not finding.is_notice


def forecast_cells(
    first: Finding, alarm: float | None
) -> tuple[str, str, bool | None, float | None]:
    """The forecast and actual time left as cells; whether the range holds; relative error."""
    actual = None if alarm is None else alarm - first.ts
    if first.time_to_limit is None or first.time_to_limit_range is None:
        return "none", _hours(actual), False if actual is not None else None, None
    low, high = first.time_to_limit_range
    cell = f"{first.time_to_limit / 3600:.1f} h ({low / 3600:.1f}-{high / 3600:.1f})"
    if actual is None:
        return cell, "not crossed", None, None
    error = abs(first.time_to_limit - actual) / actual if actual > 0 else None
    return cell, _hours(actual), low <= actual <= high, error


def _hours(seconds: float | None) -> str:
    return "not crossed" if seconds is None else f"{seconds / 3600:.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days-to-failure", type=float, default=3.0)
    parser.add_argument("--fault", action="append", help="Only these faults (class names).")
    parser.add_argument(
        "--no-healthy", action="store_true", help="Skip the healthy runs (half the time)."
    )
    parser.add_argument(
        "--dump",
        help="Write, per case, the engine snapshot at the order's opening and the truth (JSON).",
    )
    args = parser.parse_args()
    onset, ttf = DAY, args.days_to_failure * DAY
    end = onset + ttf
    cases = [
        (fault_cls, machine_type)
        for fault_cls in FAULTS
        if not args.fault or fault_cls.__name__ in args.fault
        for machine_type, model in sorted(MACHINE_MODELS.items())
        if fault_cls.mechanism in model.mechanisms
    ]
    table = Table(
        title=f"default ensemble {', '.join(DEFAULT)}; failure {ttf / 3600:.0f} h after onset"
    )
    for column in (
        "fault",
        "machine",
        "first finding",
        "after onset",
        "lead to alarm",
        "healthy findings",
        "forecast (90 % range)",
        "actual",
        "held",
        "error",
    ):
        table.add_column(column)
    console = Console()
    healthy: dict[str, int] = {}
    held: list[bool] = []
    errors: list[float] = []
    dump: list[dict[str, Any]] = []

    def healthy_cell(machine_type: str) -> str:
        return str(healthy[machine_type]) if machine_type in healthy else "-"

    for fault_cls, machine_type in track(cases, description="faults", transient=True):
        plant = one_machine(machine_type)
        if machine_type not in healthy and not args.no_healthy:
            quiet, _, _ = run(plant, None, end)
            healthy[machine_type] = sum(1 for f in quiet if f.active and not f.is_notice)
        findings, fleet, snapshot = run(plant, fault_cls(onset, ttf), end)
        (truth,) = fleet.ground_truth()
        first = next((f for f in findings if _opens(f, onset)), None)
        alarm = truth.alarm_crossed_at
        if first is None:
            table.add_row(
                fault_cls.__name__, machine_type, "missed", "", "", healthy_cell(machine_type)
            )
            continue
        forecast_cell, actual_cell, holds, error = forecast_cells(first, alarm)
        if holds is not None:
            held.append(holds)
        if error is not None:
            errors.append(error)
        if args.dump:
            dump.append(
                {
                    "fault": fault_cls.__name__,
                    "machine": machine_type,
                    "opened_at": first.ts,
                    "signals": list(first.signals),
                    "alarm_crossed_at": alarm,
                    "forecast": [first.time_to_limit, *(first.time_to_limit_range or ())],
                    "limits": {
                        name: [s.limits.alarm_low, s.limits.alarm_high]
                        for name, s in next(iter(plant)).signals.items()
                    },
                    "snapshot": snapshot,
                }
            )
            with open(args.dump, "w", encoding="utf-8") as out:
                json.dump(dump, out, default=snapshots.array_as_json)
        lead = "no alarm crossed" if alarm is None else f"{(alarm - first.ts) / 3600:.1f} h"
        console.log(
            f"{fault_cls.__name__} on {machine_type}: forecast {forecast_cell}, actual "
            f"{actual_cell}, held {holds}, error {error}"
        )
        table.add_row(
            fault_cls.__name__,
            machine_type,
            f"{first.detector}, {', '.join(first.signals)}",
            f"{(first.ts - onset) / 3600:.1f} h",
            lead,
            healthy_cell(machine_type),
            forecast_cell,
            actual_cell,
            "" if holds is None else ("yes" if holds else "NO"),
            "" if error is None else f"{error:.0%}",
        )
    console.print(table)
    if held:
        print(
            f"forecast at order opening: range held {sum(held)}/{len(held)} "
            f"({sum(held) / len(held):.0%}), median error "
            f"{statistics.median(errors) if errors else float('nan'):.0%} of the time left"
        )


if __name__ == "__main__":
    main()
