"""The scenarios that ship with forewarn, and the plants they run on (in `plants/`).

- healthy-week: a mixed factory for a week with nothing wrong (how often does detection cry
  wolf?).
- bearing-failure: one pump of a water works wears out its bearing over a day and a half.
- mixed-plant: the factory for a week with machine faults of several kinds and sensor problems.
- benchmark-week: a 50-machine plant for a week, every 10 s (about 18 million readings).
"""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).parent


def builtin_scenarios() -> dict[str, Path]:
    """Scenario name -> file, for the scenarios that ship with forewarn."""
    return {path.stem: path for path in sorted(DIRECTORY.glob("*.yaml"))}


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file: the path itself if it exists, else the shipped scenario of that name
    (the file path is returned as given when neither exists, for the loader to report)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    return builtin_scenarios().get(str(name_or_path), path)
