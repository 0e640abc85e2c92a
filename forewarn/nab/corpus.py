"""The NAB corpus on disk: `data/<category>/*.csv` and `labels/combined_windows.json`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from forewarn.nab.scoring import LabelledFile, NabError, window_rows
from forewarn.offline import Table, TableError, read_table

KNOWN_CAUSE = "realKnownCause"
ENV_VAR = "FOREWARN_NAB"
"""Names the NAB directory when it is not given."""


@dataclass(frozen=True)
class NabFile:
    table: Table
    labels: LabelledFile
    """Named `<category>/<file>.csv`, as in the labels file."""


def default_root() -> Path | None:
    """Where the NAB corpus is: $FOREWARN_NAB, else `shared/datasets/nab` beside or above the
    current directory; None if neither exists."""
    if ENV_VAR in os.environ:
        return Path(os.environ[ENV_VAR])
    here = Path.cwd().resolve()
    for parent in (here, *here.parents):
        candidate = parent / "shared" / "datasets" / "nab"
        if (candidate / "labels").is_dir():
            return candidate
    return None


def load_corpus(root: Path, category: str = KNOWN_CAUSE) -> tuple[NabFile, ...]:
    """Every file of `category` with its anomaly windows as rows, in name order."""
    labels_path = root / "labels" / "combined_windows.json"
    try:
        windows = json.loads(labels_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NabError(f"{labels_path}: cannot read the NAB labels: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise NabError(f"{labels_path}: not JSON: {exc}") from exc
    paths = sorted((root / "data" / category).glob("*.csv"))
    if not paths:
        raise NabError(f"{root / 'data' / category}: no CSV files; is {root} the NAB directory?")
    files = []
    for path in paths:
        name = f"{category}/{path.name}"
        if name not in windows:
            raise NabError(f"{labels_path}: no windows for {name}")
        try:
            table = read_table(path)
        except TableError as exc:
            raise NabError(str(exc)) from exc
        bounds = [(_time(start), _time(end)) for start, end in windows[name]]
        try:
            rows = window_rows(table.ts.tolist(), bounds)
        except NabError as exc:
            raise NabError(f"{name}: {exc}") from exc
        files.append(NabFile(table, LabelledFile(name, len(table), tuple(rows))))
    return tuple(files)


def _time(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
