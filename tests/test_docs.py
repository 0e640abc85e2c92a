"""Docs that cannot drift: every YAML snippet of README.md and docs/*.md is loaded by the plant
loader (or validated as settings), every `forewarn` command in a shell snippet is run with
`--help` and each option it uses must be one the command has.

Markers, an HTML comment on the line before a fence:
- `<!-- plant-fragment -->`: part of a plant file; loaded merged over a one-pump plant.
- `<!-- settings -->`: a settings file; validated as the settings.
- `<!-- not-checked: why -->`: not a forewarn input (a mosquitto config, a payload...).
Without a marker a YAML snippet must be a complete plant file.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from devices import plant_from_dict
from forewarn.cli import app
from forewarn.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"(?:<!--\s*(?P<marker>[\w-]+)[^>]*-->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S
)
BASE_PLANT = {
    "site": {"id": "acme"},
    "areas": [
        {
            "id": "utilities",
            "lines": [
                {
                    "id": "cooling",
                    "equipment": [{"id": "P-1", "type": "centrifugal_pump", "team": "mechanical"}],
                }
            ],
        }
    ],
}
runner = CliRunner()


@dataclass(frozen=True)
class Snippet:
    page: Path
    line: int
    lang: str
    marker: str | None
    body: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def snippets(*langs: str) -> list[Snippet]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match["lang"] in langs:
                line = text.count("\n", 0, match.start("body")) + 1
                found.append(Snippet(page, line, match["lang"], match["marker"], match["body"]))
    return found


def commands(body: str) -> list[list[str]]:
    """Each `forewarn ...` command of a shell snippet, as words."""
    text = re.sub(r"\\\n", " ", body)
    found = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        lexer = shlex.shlex(
            line.replace("$(", "(").replace("`", ""), posix=True, punctuation_chars=True
        )
        lexer.whitespace_split = True
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in {"&&", "||", ";", "|", "(", ")"}:
                while words and ("=" in words[0] and not words[0].startswith("-")):
                    words = words[1:]  # VAR=value prefixes
                if words and Path(words[0]).name == "forewarn":
                    found.append(words[1:])
                words = []
            else:
                words.append(token)
    return found


@pytest.mark.parametrize("snippet", snippets("yaml", "yml"), ids=str)
def test_yaml_snippets_load(snippet: Snippet) -> None:
    document = yaml.safe_load(snippet.body)
    if snippet.marker == "not-checked":
        return
    if snippet.marker == "settings":
        Settings.model_validate(document)
        return
    if snippet.marker == "plant-fragment":
        document = {**BASE_PLANT, **document}
    else:
        assert snippet.marker is None, f"{snippet}: unknown marker {snippet.marker!r}"
    plant_from_dict(document, source=str(snippet))


SHELL = [
    (snippet, words)
    for snippet in snippets("sh", "shell", "bash", "console")
    for words in commands(snippet.body)
]


@pytest.mark.parametrize(
    ("snippet", "words"), SHELL, ids=[f"{s}:{' '.join(w[:3])}" for s, w in SHELL]
)
def test_shell_commands_exist_with_their_options(snippet: Snippet, words: list[str]) -> None:
    path: list[str] = []
    command = typer.main.get_command(app)
    for word in words:
        subcommands = getattr(command, "commands", {})
        if word not in subcommands:
            break
        command = subcommands[word]
        path.append(word)
    assert path, f"{snippet}: `forewarn {' '.join(words)}` names no command"
    result = runner.invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for option in (w.split("=", 1)[0] for w in words if w.startswith("--")):
        assert option in result.output, f"{snippet}: `forewarn {' '.join(path)}` has no {option}"


def test_every_page_has_checked_snippets() -> None:
    for page in (ROOT / "docs").glob("*.md"):
        if page.name != "plant-file.md":
            assert any(s.page == page for s in snippets("yaml", "sh")), page


def _command_paths(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subcommands = getattr(command, "commands", {})
    paths = [path]
    for name, sub in subcommands.items():
        paths += _command_paths(sub, (*path, name))
    return paths


@pytest.mark.parametrize("path", _command_paths(typer.main.get_command(app)), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output


BENCH_COMMANDS = sorted(
    {
        (snippet.page.name, match)
        for snippet in snippets("sh", "shell", "bash", "console")
        for match in re.findall(r"python (bench/\w+\.py)", snippet.body)
    }
)


@pytest.mark.parametrize(("page", "script"), BENCH_COMMANDS, ids=[s for _, s in BENCH_COMMANDS])
def test_bench_commands_in_the_docs_run(page: str, script: str) -> None:
    """A benchmark a page tells people to run exists and starts (its --help)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{page}: {script}: {result.stderr[-2000:]}"
    assert "usage:" in result.stdout
