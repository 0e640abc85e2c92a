"""The engine from 100 to 10,000 machines: readings/s and resident memory, drawn as an SVG.

    python bench/scale_curve.py [--machines 100,300,1000,3000,10000] [--svg docs/scale-curve.svg]

Each point runs in a process of its own (so its peak RSS is its own): a fleet of simulated
centrifugal pumps (5 signals at 1 s; 20 simulated pumps' values repeated over the fleet: the
engine's cost does not depend on which healthy values it sees), the default ensemble, a healthy
baseline of `detector_costs.TRAIN_SECONDS` learned and named as `forewarn learn` gives a plant
(on the 20, their state copied to the pumps repeating them), then `--seconds` of one batch per
simulated second timed in process time. Prints a table and
writes the SVG (readings/s on the left axis, peak RSS on the right, machines on a log axis).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))

from detector_costs import TRAIN_SECONDS, pump_plant
from snapshot_cost import replicate

from detectors import Engine
from devices import Plant, Reading, new_reading
from forewarn import heap
from simulators import Fleet

SIMULATED = 20
"""Pumps actually simulated; the fleet repeats their values."""


def one(machines: int, seconds: int, settle: bool = True) -> dict[str, float]:
    """Build and time the engine for `machines` pumps; its figures. The baseline is learned once
    on the simulated pumps and their state copied to the pumps that repeat their values (as
    restoring a snapshot does), so a point costs its timed seconds, not hours of learning."""
    single = pump_plant()
    pump = single.equipment["P-1"]
    ids = [f"P-{i}" for i in range(machines)]

    def fleet_of(names: list[str]) -> Plant:
        return dataclasses.replace(
            single, equipment={i: dataclasses.replace(pump, id=i) for i in names}
        )

    simulated = fleet_of(ids[:SIMULATED])
    fleet = Fleet(simulated, seed=3)

    def batch(t: int, names: list[str]) -> list[Reading]:
        samples = fleet.tick(float(t), 1.0)
        return [
            new_reading(equipment, signal, float(t), value)
            for k, equipment in enumerate(names)
            for signal, value in samples[k % len(samples)].values.items()
        ]

    learner = Engine(simulated)
    progress = Console(stderr=True)  # stdout carries the figures to the parent
    for t in track(range(TRAIN_SECONDS), f"{machines} machines: learning", console=progress):
        learner.process(batch(t, ids[:SIMULATED]), train=True)
    learner.end_warmup()
    learned = learner.snapshot()
    engine = Engine(fleet_of(ids))
    fleet_plant = fleet_of(ids)
    engine.restore(
        replicate(learned, fleet_plant, {e: f"P-{k % SIMULATED}" for k, e in enumerate(ids)})
    )
    del learner, learned
    elapsed, readings = 0.0, 0
    with heap.settled() if settle else contextlib.nullcontext():  # as `forewarn run` serves
        for t in range(TRAIN_SECONDS, TRAIN_SECONDS + seconds):
            timed = batch(t, ids)
            start = time.process_time()
            engine.process(timed)
            elapsed += time.process_time() - start
            readings += len(timed)
    return {
        "machines": machines,
        "readings_per_s": readings / elapsed,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "state_bytes_per_stream": engine.nbytes / (5 * machines),
    }


def svg(points: list[dict[str, float]]) -> str:
    """Readings/s (left axis) and peak RSS (right axis) against machines (log axis)."""
    width, height, left, right, top, bottom = 640, 360, 80, 80, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [math.log10(p["machines"]) for p in points]
    x_lo, x_hi = min(xs), max(xs)
    rate_hi = max(p["readings_per_s"] for p in points) * 1.15
    rss_hi = max(p["rss_mb"] for p in points) * 1.15

    def x(p: dict[str, float]) -> float:
        span = (x_hi - x_lo) or 1.0
        return left + plot_w * (math.log10(p["machines"]) - x_lo) / span

    def y(value: float, top_value: float) -> float:
        return top + plot_h * (1.0 - value / top_value)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#999"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">'
        "forewarn engine, default ensemble, one core</text>",
        f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle">machines '
        "(5 signals each, log scale)</text>",
        f'<text x="16" y="{top + plot_h / 2}" fill="#1f6feb" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2})">readings/s</text>',
        f'<text x="{width - 16}" y="{top + plot_h / 2}" fill="#d2691e" text-anchor="middle" '
        f'transform="rotate(90 {width - 16} {top + plot_h / 2})">peak RSS (MB)</text>',
    ]
    for k in range(6):
        rate, rss = rate_hi * k / 5, rss_hi * k / 5
        at = y(rate, rate_hi)
        out.append(f'<text x="{left - 6}" y="{at + 4}" text-anchor="end">{rate:,.0f}</text>')
        out.append(f'<text x="{left + plot_w + 6}" y="{at + 4}">{rss:,.0f}</text>')
    for p in points:
        out.append(
            f'<text x="{x(p)}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{p['machines']:,.0f}</text>"
        )
    for key, top_value, colour in (
        ("readings_per_s", rate_hi, "#1f6feb"),
        ("rss_mb", rss_hi, "#d2691e"),
    ):
        path = " ".join(f"{x(p):.1f},{y(p[key], top_value):.1f}" for p in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in points:
            out.append(
                f'<circle cx="{x(p):.1f}" cy="{y(p[key], top_value):.1f}" r="3" fill="{colour}"/>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", default="100,300,1000,3000,10000", help="comma-separated")
    parser.add_argument("--seconds", type=int, default=60, help="simulated seconds timed")
    parser.add_argument("--svg", type=Path, default=Path("docs/scale-curve.svg"))
    parser.add_argument(
        "--unsettled",
        action="store_true",
        help="leave the garbage collector at its defaults (forewarn run settles it: forewarn.heap)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a point, in its process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seconds, settle=not args.unsettled)))
        return
    points = []
    for machines in (int(m) for m in args.machines.split(",")):
        command = [sys.executable, __file__, "--one", str(machines), "--seconds", str(args.seconds)]
        command += ["--unsettled"] if args.unsettled else []
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        points.append(json.loads(done.stdout.strip().splitlines()[-1]))
    table = Table(title="the engine by fleet size (default ensemble, process time)")
    for column in ("machines", "readings/s", "peak RSS (MB)", "detector state per stream (B)"):
        table.add_column(column, justify="right")
    for p in points:
        table.add_row(
            f"{p['machines']:,.0f}",
            f"{p['readings_per_s']:,.0f}",
            f"{p['rss_mb']:,.0f}",
            f"{p['state_bytes_per_stream']:,.0f}",
        )
    Console().print(table)
    args.svg.write_text(svg(points))
    print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
