"""The consoles the commands print with. On a terminal, rich fits tables to its width; written
to a file or a pipe, output is never cut: tables take the width their cells need and long lines
stay whole (set COLUMNS to choose a width)."""

from __future__ import annotations

import os
from typing import IO

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
