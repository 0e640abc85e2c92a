"""The consoles the commands print with. On a terminal, rich fits tables to its width; written
to a file or a pipe, output is never cut: tables take the width their cells need and long lines
stay whole (set COLUMNS to choose a width)."""

from __future__ import annotations

import logging
import os
from typing import IO

import typer
from rich.console import Console

UNLIMITED = 10_000
"""The width of a console that is not a terminal: wide enough that no cell is cut."""


def make_console(
    *, stderr: bool = False, soft_wrap: bool = False, file: IO[str] | None = None
) -> Console:
    console = Console(stderr=stderr, file=file, highlight=False, soft_wrap=soft_wrap)
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(stderr=stderr, file=file, highlight=False, width=UNLIMITED, soft_wrap=True)


def configure_logging(level: str) -> None:
    """Log lines with time, level and logger at `level`; chatty libraries at WARNING or above."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("amqtt", "transitions", "uvicorn.error", "alembic", "asyncua"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def fail(exc: Exception) -> typer.Exit:
    """Print `exc` as the command's error and give the exit (code 2) to raise."""
    make_console(stderr=True).print(f"[bold red]error:[/] {exc}")
    return typer.Exit(code=2)
