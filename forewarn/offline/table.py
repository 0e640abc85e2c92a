"""A CSV file of timestamped numeric columns, as the offline scorer reads and writes it.

Rows keep their file order (the scorer streams them exactly as they come, like a live source).
Times may be ISO 8601 (UTC unless a zone is given), epoch seconds or epoch milliseconds. An empty
cell is a missing value; any other cell of a value column that is not a number is an error that
names the file, the line and the column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from forewarn.errors import ForewarnError
from simulators.csv_replay import parse_timestamp

TIME_COLUMNS = ("timestamp", "time", "datetime", "ts")
"""Column names taken as the time column when none is given (else the first column is)."""
"""Epoch numbers above this are milliseconds (1e11 s is the year 5138)."""


class TableError(ForewarnError):
    """A CSV file that cannot be scored; the message names the file, line and column."""


@dataclass(frozen=True)
class Table:
    path: Path
    time_column: str
    times: tuple[str, ...]
    """The time cells as written, to be written back unchanged."""
    ts: npt.NDArray[np.float64]
    """Seconds since the Unix epoch (UTC), one per row."""
    columns: tuple[str, ...]
    values: npt.NDArray[np.float64]
    """One row per time, one column per value column; NaN where a cell is empty."""
    skipped_columns: tuple[str, ...] = ()
    """Columns left out because their first value is not a number."""
    labels: npt.NDArray[np.float64] | None = None
    """The label column's values (NaN where empty), if one was named; never scored."""

    def __len__(self) -> int:
        return len(self.times)

    @property
    def sample_period(self) -> float:
        """The median time between consecutive rows (1 s if that is not positive)."""
        if len(self.ts) < 2:
            return 1.0
        period = float(np.median(np.diff(self.ts)))
        return period if period > 0 else 1.0


def read_table(
    path: Path,
    *,
    sep: str = ",",
    time_column: str | None = None,
    ignore: Iterable[str] = (),
    label_column: str | None = None,
) -> Table:
    """Read `path`: its time column and every numeric column but the time column and `ignore`.

    A column is numeric when its first non-empty cell is a number. `label_column` is read into
    `labels` (numbers, empty for unknown) and not scored.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle, delimiter=sep))
    except OSError as exc:
        raise TableError(f"{path}: cannot read the file: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TableError(f"{path}: not a readable CSV file: {exc}") from exc
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise TableError(f"{path}: the file is empty; expected a header row")
    header = [cell.strip() for cell in rows[0]]
    body = [
        (line, row) for line, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)
    ]
    time_name = _time_column(path, header, time_column, sep)
    ignored = _ignored(path, header, ignore, sep)
    label_index = None
    if label_column is not None:
        if label_column not in header:
            raise TableError(
                f"{path}: no label column {label_column!r}; the columns are: "
                f"{', '.join(header)} (is the separator {sep!r} right?)"
            )
        label_index = header.index(label_column)
        ignored.add(label_column)
    time_index = header.index(time_name)
    candidates = [
        i for i, name in enumerate(header) if i != time_index and name not in ignored and name
    ]
    columns, skipped = [], []
    for index in candidates:
        first = next((row[index].strip() for _, row in body if _cell(row, index)), None)
        if first is None or _number(first) is not None:
            columns.append(index)
        else:
            skipped.append(header[index])
    if not columns:
        raise TableError(
            f"{path}: no numeric column besides the time column {time_name!r}"
            + (f" (not numbers: {', '.join(skipped)})" if skipped else "")
            + f"; the columns are: {', '.join(header)} (is the separator {sep!r} right?)"
        )
    times: list[str] = []
    ts = np.empty(len(body))
    values = np.full((len(body), len(columns)), np.nan)
    labels = np.full(len(body), np.nan)
    for r, (line, row) in enumerate(body):
        cell = _cell(row, time_index)
        moment = parse_timestamp(cell)
        if moment is None:
            raise TableError(
                f"{path}, line {line}, column {time_name!r}: {cell!r} is not a time "
                "(ISO 8601 such as 2024-05-01T12:00:00Z, epoch seconds or epoch milliseconds)"
            )
        times.append(cell)
        ts[r] = moment
        for c, index in enumerate(columns):
            text = _cell(row, index)
            if not text:
                continue
            number = _number(text)
            if number is None:
                raise TableError(
                    f"{path}, line {line}, column {header[index]!r}: {text!r} is not a number "
                    "(leave the cell empty for a missing value, or --ignore-columns the column)"
                )
            values[r, c] = number
        if label_index is not None and (text := _cell(row, label_index)):
            label = _number(text)
            if label is None:
                raise TableError(
                    f"{path}, line {line}, label column {label_column!r}: {text!r} is not a "
                    "number (1 where the fault is present, 0 where not, empty if unknown)"
                )
            labels[r] = label
    return Table(
        path=path,
        time_column=time_name,
        times=tuple(times),
        ts=ts,
        columns=tuple(header[i] for i in columns),
        values=values,
        skipped_columns=tuple(skipped),
        labels=labels if label_index is not None else None,
    )


def write_scores(path: Path, table: Table, scores: Sequence[float], alarms: Sequence[bool]) -> None:
    """One row per row of `table`, in its order: the time as written, the score, the alarm."""
    if not len(scores) == len(alarms) == len(table):
        raise ValueError("one score and one alarm per row of the table")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([table.time_column, "anomaly_score", "is_anomaly"])
        writer.writerows(
            (time, f"{score:.6f}", int(alarm))
            for time, score, alarm in zip(table.times, scores, alarms, strict=True)
        )


def _time_column(path: Path, header: list[str], wanted: str | None, sep: str) -> str:
    if wanted is not None:
        if wanted not in header:
            raise TableError(
                f"{path}: no time column {wanted!r}; the columns are: {', '.join(header)} "
                f"(is the separator {sep!r} right?)"
            )
        return wanted
    lowered = {h.lower(): h for h in reversed(header)}
    return next((lowered[n] for n in TIME_COLUMNS if n in lowered), header[0])


def _ignored(path: Path, header: list[str], ignore: Iterable[str], sep: str) -> set[str]:
    ignored = {name.strip() for name in ignore if name.strip()}
    missing = sorted(ignored - set(header))
    if missing:
        raise TableError(
            f"{path}: no column {', '.join(map(repr, missing))} to ignore; the columns are: "
            f"{', '.join(header)} (is the separator {sep!r} right?)"
        )
    return ignored


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
