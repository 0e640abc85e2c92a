"""`forewarn score`: score recorded CSV files offline with the engine the live pipeline runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from detectors import DEFAULT, DetectorError, detector_class
from forewarn.console import make_console

if TYPE_CHECKING:
    from forewarn.offline import Table
    from forewarn.offline.labels import LabelScore

console = make_console(soft_wrap=True)
errors = make_console(stderr=True, soft_wrap=True)

PROGRESS_ROWS = 20_000
"""Inputs with fewer rows than this finish before a progress bar is worth drawing."""


def score(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="A CSV file, or a directory searched recursively for CSV files.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The scored CSV file (a directory mirroring INPUT's tree if INPUT is one).",
            show_default=False,
        ),
    ],
    detector: Annotated[
        str,
        typer.Option(help="A registered detector, or 'default' for the default ensemble."),
    ] = "default",
    sep: Annotated[str, typer.Option(help="The column separator of the input.")] = ",",
    time_column: Annotated[
        str | None,
        typer.Option(
            help="The time column (default: timestamp, time, datetime or ts; else the "
            "first column)."
        ),
    ] = None,
    ignore_columns: Annotated[
        str, typer.Option(help="Comma-separated columns not to score (A,B).")
    ] = "",
    train_rows: Annotated[
        int,
        typer.Option(
            help="The first N rows of each file are the healthy baseline: learned only, scored "
            "0, no alarm; every detector fits on them and judges after them.",
            min=0,
        ),
    ] = 0,
    label_column: Annotated[
        str | None,
        typer.Option(
            help="A column labelling each row (1 where the fault is present, 0 where not): "
            "not scored; prints F1, FAR, MAR, each labelled event's delay to the first alarm "
            "and the NAB score of the alarms, over the rows after --train-rows."
        ),
    ] = None,
) -> None:
    """Stream each row of a CSV through the detectors as one machine whose signals are its
    numeric columns, exactly as the live pipeline would (scored before it is learned, never
    looking ahead), and write per row: the time, anomaly_score (0..1) and is_anomaly (1 while a
    condition is active: the alarm that would open a work order)."""
    from forewarn.offline import TableError, read_table, score_table, write_scores
    from forewarn.offline.labels import LabelledRun, label_score

    detectors = _detectors(detector)
    pairs = _pairs(input_path, output)
    ignore = [name for name in ignore_columns.split(",") if name.strip()]
    try:
        tables = [
            (
                read_table(
                    source,
                    sep=sep,
                    time_column=time_column,
                    ignore=ignore,
                    label_column=label_column,
                ),
                target,
            )
            for source, target in pairs
        ]
    except TableError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from exc
    total = sum(len(table) for table, _ in tables)
    runs: list[LabelledRun] = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=total < PROGRESS_ROWS,
    ) as progress:
        task = progress.add_task("scoring", total=total)
        for table, target in tables:
            progress.update(task, description=f"scoring {table.path.name}")
            result = score_table(
                table,
                detectors,
                train_rows=train_rows,
                on_progress=lambda rows: progress.advance(task, rows),
            )
            write_scores(target, table, result.scores.tolist(), result.alarms.tolist())
            _summarise(table, target, int(result.raised.sum()), result.set_aside)
            if table.labels is not None:
                runs.append(
                    LabelledRun(
                        str(table.path),
                        table.ts,
                        table.labels,
                        result.alarms,
                        result.raised,
                        scored_from=train_rows,
                    )
                )
    if label_column is not None:
        _report_labels(label_score(runs))


def _report_labels(result: LabelScore) -> None:
    console.print(
        f"labels: F1 {result.f1:.3f}, FAR {100 * result.far:.2f} %, MAR {100 * result.mar:.2f} % "
        f"(TP {result.tp}, FP {result.fp}, FN {result.fn}, TN {result.tn})"
        + (f", NAB standard {result.nab:.1f}" if result.nab is not None else ""),
        markup=False,
    )
    for event in result.events:
        start = datetime.fromtimestamp(event.start, UTC).isoformat()
        caught = f"first alarm after {event.delay:.0f} s" if event.delay is not None else "missed"
        console.print(
            f"  {event.file}: event from {start}, {event.end - event.start:.0f} s: {caught}",
            markup=False,
        )


def _detectors(name: str) -> tuple[str, ...]:
    if name == "default":
        return DEFAULT
    try:
        detector_class(name)
    except DetectorError as exc:
        raise typer.BadParameter(str(exc), param_hint="--detector") from exc
    return (name,)


def _pairs(input_path: Path, output: Path) -> list[tuple[Path, Path]]:
    """(input file, output file) pairs: one, or every CSV under a directory, mirrored."""
    if input_path.is_dir():
        if output.exists() and not output.is_dir():
            raise typer.BadParameter(
                f"{output} is a file; INPUT is a directory, so the output must be one too",
                param_hint="--output",
            )
        sources = sorted(
            p for p in input_path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv"
        )
        if not sources:
            raise typer.BadParameter(f"{input_path}: no CSV files in it", param_hint="INPUT")
        return [(p, output / p.relative_to(input_path)) for p in sources]
    if not input_path.exists():
        raise typer.BadParameter(f"{input_path}: no such file or directory", param_hint="INPUT")
    if output.is_dir():
        raise typer.BadParameter(
            f"{output} is a directory; name the output file", param_hint="--output"
        )
    return [(input_path, output)]


def _summarise(table: Table, target: Path, alarms: int, set_aside: int) -> None:
    skipped = (
        f"; not numbers, left out: {', '.join(table.skipped_columns)}"
        if (table.skipped_columns)
        else ""
    )
    console.print(
        f"{target}: {len(table):,} rows of {', '.join(table.columns)}, {alarms} alarms{skipped}",
        markup=False,
    )
    if set_aside:
        errors.print(
            f"[yellow]warning:[/] {escape(str(table.path))}: {set_aside} rows are not later than "
            "an earlier row; the live pipeline drops such readings, so they score 0"
        )
