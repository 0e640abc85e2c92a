"""Output written to a pipe or a file is never cut, and `--help` reads in whole sentences."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from forewarn.cli import app

LONG = "BearingWear-of-the-drive-end-bearing-" * 4


def test_tables_piped_to_a_file_keep_every_cell_whole() -> None:
    script = (
        "from rich.table import Table\n"
        "from forewarn.console import make_console\n"
        "t = Table('fault', 'equipment', 'work order')\n"
        f"t.add_row({LONG!r}, 'P-103', 'WO-000001')\n"
        "make_console().print(t)\n"
        f"make_console().print('a long line ' * 20)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert LONG in out
    assert "WO-000001" in out
    assert "…" not in out
    assert ("a long line " * 20).strip() in out


def test_the_commands_list_reads_in_whole_sentences() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    demo = next(line for line in result.output.splitlines() if line.lstrip("│ ").startswith("demo"))
    assert "two developing faults, the pipeline and the API; print each work order" in demo
