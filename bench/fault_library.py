"""Every progressive fault of the simulators' library on each machine type that models it,
through the detection engine with the default ensemble (no broker: the engine alone).

    python bench/fault_library.py [--days-to-failure 3]

Each machine runs around the clock; the fault starts after a healthy day (the detectors learn)
and fails `--days-to-failure` days later. Prints, per fault and machine type, the first finding's
delay after onset and its lead before the first alarm-limit crossing (ground truth), and the
findings on a healthy machine of the same type over the same span.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.progress import track
from rich.table import Table

from detectors import DEFAULT, Engine
from devices import Finding, Plant, plant_from_dict
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


def run(plant: Plant, fault: Fault | None, end: float) -> tuple[list[Finding], Fleet]:
    fleet = Fleet(plant, seed=5, faults=[FaultInjection("M-1", fault)] if fault else [])
    engine = Engine(plant, DEFAULT)
    findings: list[Finding] = []
    batch = []
    ts = 0.0
    while ts < end:
        for sample in fleet.tick(ts, PERIOD):
            batch.extend(sample.readings())
        if len(batch) >= 3_000:
            findings += engine.process(batch)
            batch = []
        ts += PERIOD
    findings += engine.process(batch)
    return findings, fleet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days-to-failure", type=float, default=3.0)
    parser.add_argument("--fault", action="append", help="Only these faults (class names).")
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
    ):
        table.add_column(column)
    healthy: dict[str, int] = {}
    for fault_cls, machine_type in track(cases, description="faults", transient=True):
        plant = one_machine(machine_type)
        if machine_type not in healthy:
            quiet, _ = run(plant, None, end)
            healthy[machine_type] = sum(1 for f in quiet if f.active)
        findings, fleet = run(plant, fault_cls(onset, ttf), end)
        (truth,) = fleet.ground_truth()
        first = next((f for f in findings if f.active and f.ts >= onset), None)
        alarm = truth.alarm_crossed_at
        if first is None:
            table.add_row(
                fault_cls.__name__, machine_type, "missed", "", "", str(healthy[machine_type])
            )
            continue
        lead = "no alarm crossed" if alarm is None else f"{(alarm - first.ts) / 3600:.1f} h"
        table.add_row(
            fault_cls.__name__,
            machine_type,
            f"{first.detector}, {', '.join(first.signals)}",
            f"{(first.ts - onset) / 3600:.1f} h",
            lead,
            str(healthy[machine_type]),
        )
    Console().print(table)


if __name__ == "__main__":
    main()
