"""`forewarn learn`: fit a plant's detectors on its history and write the state `forewarn run`
starts from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from detectors import DetectorError, Engine
from devices import DevicesError, Reading, load_plant
from forewarn.console import make_console
from forewarn.errors import ForewarnError

console = make_console(soft_wrap=True)
errors = make_console(stderr=True, soft_wrap=True)

BATCH = 10_000


def learn(
    sources: Annotated[
        list[Path],
        typer.Argument(
            metavar="SOURCE...",
            help="CSV exports of healthy history: long (equipment, signal, a time column, value) "
            "or wide (a time column and one column per signal of one equipment).",
            show_default=False,
        ),
    ],
    config: Annotated[Path, typer.Option("--config", "-c", help="The plant file (YAML).")],
    settings_file: Annotated[
        Path | None,
        typer.Option("--settings", help="Settings file (YAML); FOREWARN_* env overrides it."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The snapshot to write (default: detectors.json in the settings' state_dir, "
            "where forewarn run starts from).",
        ),
    ] = None,
    equipment: Annotated[
        str | None,
        typer.Option(help="The equipment of wide files (default: each file's name)."),
    ] = None,
    sep: Annotated[str, typer.Option(help="The column separator of the sources.")] = ",",
    time_column: Annotated[
        str | None,
        typer.Option(help="The time column (default: timestamp, time, datetime or ts)."),
    ] = None,
) -> None:
    """Learn every detector of the plant from its history, as the live pipeline would, take that
    history as the healthy baseline (each detector fits on it and judges from the next reading
    on), and write the detector state snapshot `forewarn run` resumes from."""
    from forewarn import snapshots
    from forewarn.offline.history import read_history
    from forewarn.settings import load_settings

    try:
        settings = load_settings(settings_file)
        plant = load_plant(config)
        engine = Engine(plant, settings.detectors)
        histories = [
            read_history(source, plant, sep=sep, time_column=time_column, equipment=equipment)
            for source in sources
        ]
    except (ForewarnError, DevicesError, DetectorError) as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from exc
    for history in histories:
        if history.unknown:
            errors.print(
                f"[yellow]warning:[/] {escape(str(history.path))}: not in the plant, left out: "
                f"{escape(', '.join(history.unknown))}"
            )
    readings = sorted((r for h in histories for r in h.readings), key=lambda r: r.ts)
    if not readings:
        errors.print("[bold red]error:[/] no reading of the plant's signals in the sources")
        raise typer.Exit(code=2)
    with Progress(
        TextColumn("[bold]learning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=len(readings) < BATCH,
    ) as progress:
        task = progress.add_task("learning", total=len(readings))
        for start in range(0, len(readings), BATCH):
            batch: list[Reading] = readings[start : start + BATCH]
            engine.process(batch, train=True)
            progress.advance(task, len(batch))
    engine.end_warmup()
    target = output or Path(settings.state_dir) / "detectors.json"
    snapshots.save(engine, target)
    equipment_ids = sorted({r.equipment_id for r in readings})
    console.print(
        f"{target}: learned {engine.stats.readings:,} readings of {len(equipment_ids)} "
        f"equipment ({', '.join(equipment_ids)}) from {_iso(readings[0].ts)} to "
        f"{_iso(readings[-1].ts)}; their detectors judge from the next reading of forewarn run",
        markup=False,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()
