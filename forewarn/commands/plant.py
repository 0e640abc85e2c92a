"""`forewarn plant ...`: check a plant file and say what it binds; print its JSON Schema and
reference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from detectors import DetectorError, Engine
from devices import DevicesError, load_plant
from devices.reference import REFERENCE_FILE, SCHEMA_FILE, reference_markdown, schema_text
from forewarn.console import make_console
from forewarn.errors import ForewarnError
from forewarn.plant_report import plant_report, shard_report
from forewarn.shards import by_edge_node

plant_app = typer.Typer(help="Work with plant files.", no_args_is_help=True)

console = make_console(soft_wrap=True)
errors = make_console(stderr=True, soft_wrap=True)


@plant_app.command("check")
def check(
    path: Path,
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings", help="Settings file: its Sparkplug host id and default detectors."
        ),
    ] = None,
    brief: Annotated[
        bool, typer.Option("--brief", help="Only the summary and the warnings.")
    ] = False,
    shards: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Also say what each of this many workers (`forewarn run --shards N`) owns: "
            "how many equipment and signals, and which equipment.",
        ),
    ] = None,
) -> None:
    """Validate a plant file and say, per equipment, where each signal comes from, its limits,
    its detectors and their warm-ups; exit 2 with every problem found."""
    from forewarn.settings import load_settings

    try:
        settings = load_settings(settings_file)
        plant = load_plant(path)
        sparkplug = settings.sparkplug.host_id is not None
        Engine(plant, settings.detectors)
        report = plant_report(
            plant,
            sparkplug=sparkplug,
            detectors=settings.detectors,
        )
        shard_count = shards if shards is not None else settings.shards
        owners = shard_report(plant, shard_count, sparkplug=sparkplug)
    except (DevicesError, DetectorError, ForewarnError) as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from exc
    console.print(escape(report.summary))
    for source in report.sources:
        console.print(f"  reads {escape(source)}")
    if not brief:
        for eq in report.equipment:
            e = eq.equipment
            console.print(
                f"\n[bold]{escape(e.id)}[/] {escape(e.type)} at {escape(e.path)}, "
                f"team {escape(e.team)}; equipment detectors: {escape(eq.detectors)}"
            )
            for s in eq.signals:
                console.print(f"  [bold]{escape(s.name)}[/]: {escape(s.binding)}")
                console.print(f"      limits {escape(s.limits)}; detectors {escape(s.detectors)}")
    if shard_count > 1:
        unit = "Sparkplug edge node" if by_edge_node(plant, sparkplug) else "equipment"
        console.print(f"\n[bold]{shard_count} shards[/] (by {unit}):")
        for part in owners:
            console.print(
                f"  shard {part.shard}: {len(part.equipment)} equipment, {part.signals} signals: "
                f"{escape(', '.join(part.equipment)) or 'none'}"
            )
            if not part.equipment:
                errors.print(
                    f"[yellow]warning:[/] shard {part.shard} owns no equipment: "
                    "`forewarn run` refuses it; run fewer shards"
                )
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {escape(warning)}")


@plant_app.command("schema")
def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference page instead (Markdown).")
    ] = False,
    write_docs: Annotated[
        Path | None,
        typer.Option(
            help=f"Write {SCHEMA_FILE} and {REFERENCE_FILE} into this folder (the repository's "
            "docs/) instead of printing."
        ),
    ] = None,
) -> None:
    """Print the plant file's JSON Schema, for editors: save it and start plant files with
    `# yaml-language-server: $schema=plant.schema.json`."""
    if write_docs is not None:
        write_docs.mkdir(parents=True, exist_ok=True)
        for name, text in ((SCHEMA_FILE, schema_text()), (REFERENCE_FILE, reference_markdown())):
            (write_docs / name).write_text(text, encoding="utf-8")
            console.print(f"wrote {escape(str(write_docs / name))}")
        return
    typer.echo(reference_markdown() if markdown else schema_text(), nl=False)
