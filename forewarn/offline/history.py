"""A plant's history as readings, from CSV exports, for `forewarn learn` to fit detectors on.

Two shapes: long, one reading per row (`equipment`, `signal`, a time column, `value`), as a
historian exports; or wide, one equipment per file, a time column and one column per signal (the
equipment is named, or is the file's name). Rows keep their order; times are as `forewarn score`
reads them (ISO 8601, epoch seconds or milliseconds).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from devices import Plant, Reading
from forewarn.offline.table import TIME_COLUMNS, TableError, read_table
from simulators.csv_replay import parse_timestamp

LONG_COLUMNS = ("equipment", "signal", "value")


@dataclass(frozen=True)
class History:
    path: Path
    readings: tuple[Reading, ...]
    unknown: tuple[str, ...] = ()
    """Equipment/signal pairs (or wide columns) the plant does not have, left out."""


def read_history(
    path: Path,
    plant: Plant,
    *,
    sep: str = ",",
    time_column: str | None = None,
    equipment: str | None = None,
) -> History:
    """The readings of `path` that belong to `plant`'s signals."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = [cell.strip().lower() for cell in next(csv.reader(handle, delimiter=sep), [])]
    except OSError as exc:
        raise TableError(f"{path}: cannot read the file: {exc.strerror}") from exc
    if all(name in header for name in LONG_COLUMNS):
        return _long(path, plant, sep, time_column)
    return _wide(path, plant, sep, time_column, equipment)


def _long(path: Path, plant: Plant, sep: str, time_column: str | None) -> History:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle, delimiter=sep)
        header = [cell.strip().lower() for cell in next(rows)]
        wanted = time_column.lower() if time_column else None
        time_name = wanted or next((n for n in TIME_COLUMNS if n in header), None)
        if time_name is None or time_name not in header:
            raise TableError(
                f"{path}: no time column ({', '.join(TIME_COLUMNS)}, or name it with "
                f"--time-column); the columns are: {', '.join(header)}"
            )
        eq_i, sig_i, val_i = (header.index(name) for name in LONG_COLUMNS)
        ts_i = header.index(time_name)
        readings: list[Reading] = []
        unknown: Counter[str] = Counter()
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            try:
                eq, sig, ts_text, text = (row[i].strip() for i in (eq_i, sig_i, ts_i, val_i))
            except IndexError:
                raise TableError(f"{path}, line {line}: fewer cells than columns") from None
            if eq not in plant.equipment or sig not in plant.equipment[eq].signals:
                unknown[f"{eq}/{sig}"] += 1
                continue
            ts = parse_timestamp(ts_text)
            if ts is None:
                raise TableError(
                    f"{path}, line {line}, column {time_name!r}: {ts_text!r} is not a time "
                    "(ISO 8601 such as 2024-05-01T12:00:00Z, epoch seconds or milliseconds)"
                )
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                raise TableError(
                    f"{path}, line {line}, column 'value': {text!r} is not a number"
                ) from None
            readings.append(Reading(eq, sig, ts, value))
    return History(path, tuple(readings), tuple(sorted(unknown)))


def _wide(
    path: Path, plant: Plant, sep: str, time_column: str | None, equipment: str | None
) -> History:
    equipment_id = equipment or path.stem
    if equipment_id not in plant.equipment:
        raise TableError(
            f"{path}: no equipment {equipment_id!r} in the plant; a wide file (one column per "
            "signal) is one equipment's: name it with --equipment, or give the file its id as "
            "its name (or export columns equipment, signal, ts, value)"
        )
    table = read_table(path, sep=sep, time_column=time_column)
    signals = plant.equipment[equipment_id].signals
    known = [c for c, name in enumerate(table.columns) if name in signals]
    if not known:
        raise TableError(
            f"{path}: none of the columns {', '.join(table.columns)} is a signal of "
            f"{equipment_id} ({', '.join(sorted(signals))})"
        )
    readings = [
        Reading(equipment_id, table.columns[c], float(table.ts[r]), float(table.values[r, c]))
        for r in range(len(table))
        for c in known
        if table.values[r, c] == table.values[r, c]  # not NaN: an empty cell
    ]
    unknown = tuple(f"{equipment_id}/{n}" for n in table.columns if n not in signals)
    return History(path, tuple(readings), unknown)
