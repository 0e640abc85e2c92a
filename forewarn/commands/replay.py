"""`forewarn replay`: run a scenario (or a CSV recording) through the whole pipeline, score it
against ground truth and write the reports."""

from __future__ import annotations

import asyncio
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forewarn.console import make_console

if TYPE_CHECKING:
    from forewarn.replay import ReplayProgress, ReplayResult

console = make_console()
errors = make_console(stderr=True)


def replay(
    source: Annotated[
        str,
        typer.Argument(
            help="A scenario file (YAML), the name of a shipped scenario (healthy-week, "
            "bearing-failure, mixed-plant, benchmark-week), or a CSV recording.",
            show_default=False,
        ),
    ],
    speed: Annotated[
        float | None,
        typer.Option(
            help="Simulated seconds per real second (default: the scenario's; as fast as possible "
            "for a CSV).",
            min=0.001,
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the HTML report to this file.")
    ] = None,
    json_report: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report to this file.")
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Write the ground truth here (default: beside the report)."),
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(help="Use this MQTT broker (mqtt://host:port) instead of an embedded one."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.", min=0)] = None,
    duration: Annotated[
        str | None, typer.Option(help="Override the scenario's duration (e.g. 36h, 2d).")
    ] = None,
    samples_per_message: Annotated[
        int | None,
        typer.Option(help="Samples packed per MQTT message (default: the scenario's).", min=1),
    ] = None,
    plant: Annotated[
        Path | None, typer.Option(help="CSV: the plant file the recorded machine is in.")
    ] = None,
    equipment: Annotated[
        str | None, typer.Option(help="CSV: the machine's id (default: the file name).")
    ] = None,
    equipment_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="CSV without --plant: an equipment type of the library, for the limits and "
            "failure modes of the signals it shares with the file.",
        ),
    ] = None,
    sep: Annotated[str, typer.Option(help="CSV: the column separator.")] = ",",
    time_column: Annotated[
        str | None, typer.Option(help="CSV: the time column (default: timestamp, time, ...).")
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help="CSV: COLUMN=SIGNAL to replay a column as a signal (repeatable)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    """Replay a scenario or a recording through the real pipeline (embedded broker by default)
    and score every fault: detected or not, how long after onset, how long before the alarm limit
    and before functional failure, the work order it produced and its escalations; and count the
    false work orders per machine-day."""
    from devices import DevicesError
    from forewarn.errors import ForewarnError
    from forewarn.replay import ReplayOptions, replay_csv, replay_scenario
    from forewarn.replay.report_html import write_html
    from forewarn.replay.report_json import write_json
    from ingest import IngestError
    from simulators import SimulatorError

    logging.basicConfig(
        level="INFO" if verbose else "WARNING",
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("amqtt", "transitions", "uvicorn.error", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = ReplayOptions(speed=speed, broker=broker)
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("replaying", total=1.0, detail="starting")

            def on_progress(p: ReplayProgress) -> None:
                progress.update(
                    task,
                    completed=p.fraction,
                    detail=f"{p.readings:,} readings · {p.orders} work orders",
                )

            if source.lower().endswith(".csv"):
                from simulators.csv_replay import read_csv

                mapping = _columns(column or [])
                recording = read_csv(
                    source,
                    equipment_id=equipment,
                    sep=sep,
                    time_column=time_column,
                    columns=mapping or None,
                )
                if plant is not None:
                    from devices import load_plant

                    machine_plant = load_plant(plant)
                    if recording.equipment_id not in machine_plant.equipment:
                        raise ForewarnError(
                            f"{recording.equipment_id!r} is not in {plant}; name the machine "
                            "with --equipment"
                        )
                else:
                    machine_plant = recording.plant(equipment_type)
                progress.update(task, description=f"replaying {recording.path.name}")
                result = asyncio.run(
                    replay_csv(
                        recording,
                        machine_plant,
                        options,
                        on_progress,
                        samples_per_message=samples_per_message or 1,
                    )
                )
            else:
                from simulators.scenario import load_scenario
                from simulators.scenario_schema import parse_duration
                from simulators.scenarios import scenario_path

                scenario = load_scenario(scenario_path(source))
                if seed is not None:
                    scenario = scenario.replace(seed=seed)
                if duration is not None:
                    try:
                        scenario = scenario.replace(duration=float(parse_duration(duration)))
                    except ValueError as exc:
                        raise typer.BadParameter(str(exc), param_hint="--duration") from exc
                if samples_per_message is not None:
                    scenario = scenario.replace(samples_per_message=samples_per_message)
                progress.update(task, description=f"replaying {scenario.name}")
                result = asyncio.run(replay_scenario(scenario, options, on_progress))
    except (SimulatorError, DevicesError, ForewarnError, IngestError) as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc

    _print_summary(result)
    written = []
    if report is not None:
        written.append(write_html(result, report))
    if json_report is not None:
        written.append(write_json(result, json_report))
    beside = report or json_report
    truth_path = truth or (
        beside.with_name(f"{beside.stem}.truth.json")
        if beside is not None
        else Path(f"{result.name}.truth.json")
    )
    written.append(result.truth.write(truth_path))
    console.print("wrote " + ", ".join(str(p) for p in written))


def _columns(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        csv_name, sep, signal = pair.partition("=")
        if not sep or not csv_name or not signal:
            raise typer.BadParameter(f"{pair!r} is not COLUMN=SIGNAL", param_hint="--column")
        mapping[csv_name] = signal
    return mapping


def _print_summary(result: ReplayResult) -> None:
    t = result.score.totals
    speed = "max" if math.isinf(result.speed) else f"x{result.speed:g}"
    console.print(
        f"[bold]{result.name}[/]: {t.machines} machines, {result.sim_seconds / 86400:.2f} days "
        f"simulated at {speed} in {result.wall_seconds:.1f} s; {result.readings:,} readings "
        f"({result.readings / max(result.wall_seconds, 1e-9):,.0f}/s), {result.rejected} rejected"
    )
    if result.score.faults:
        table = Table(
            "machine",
            "fault",
            "outcome",
            "after onset",
            "lead to alarm",
            "lead to failure",
            "work order",
            "escalations",
        )
        for f in result.score.faults:
            table.add_row(
                f.truth.equipment_id,
                f.truth.mechanism,
                f.outcome.value,
                _hours(f.delay),
                _hours(f.lead_to_alarm),
                _hours(f.lead_to_failure),
                f"{f.order_number or ''} {f.failure_mode or ''}",
                str(len(f.escalations)),
            )
        console.print(table)
    if result.score.sensor_faults:
        table = Table("machine", "signal", "sensor fault", "outcome", "after onset", "work order")
        for s in result.score.sensor_faults:
            table.add_row(
                s.truth.equipment_id,
                s.truth.signal,
                s.truth.kind,
                s.outcome.value,
                _hours(s.delay),
                s.order_number or "",
            )
        console.print(table)
    console.print(
        f"faults caught before failure: {t.detected_in_time}/{t.faults_started} "
        f"({t.early} before the alarm limit); sensor faults noticed: "
        f"{t.sensor_detected}/{t.sensor_faults}; work orders: {t.orders} "
        f"({t.false_orders} false, {t.false_orders_per_machine_day:.3f} per machine-day)"
    )


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.1f} h"
