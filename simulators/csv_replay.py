"""Recorded telemetry from a CSV file, replayed as one machine's samples.

Any CSV with a time column works: the separator, the time column and which columns become which
signals are configurable. Times may be ISO 8601 (UTC unless a zone is given), epoch seconds or
epoch milliseconds. An empty cell is a missing reading; any other value that is not a number is an
error naming its row and column.
"""

from __future__ import annotations

import csv
import math
import re
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devices import Plant, plant_from_dict
from devices.loader import builtin_types
from simulators.base import Sample
from simulators.errors import SimulatorError

TIME_COLUMNS = ("timestamp", "time", "datetime", "ts", "date")
"""Column names taken as the time column when none is given (else the first column is)."""
_MS_THRESHOLD = 1e11
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_.\-]+")


class CsvError(SimulatorError):
    """A CSV file that cannot be replayed; the message names the file, row and column."""


@dataclass(frozen=True)
class CsvReplay:
    """The samples of one machine read from a CSV file, in time order."""

    path: Path
    equipment_id: str
    time_column: str
    columns: Mapping[str, str]
    """CSV column -> signal name."""
    samples: tuple[Sample, ...]

    @property
    def start(self) -> float:
        return self.samples[0].ts

    @property
    def end(self) -> float:
        return self.samples[-1].ts

    @property
    def period(self) -> float:
        """The median time between rows."""
        gaps = [b.ts - a.ts for a, b in zip(self.samples, self.samples[1:], strict=False)]
        return statistics.median(gaps) if gaps else 1.0

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(self.columns.values())

    def plant(self, equipment_type: str | None = None, *, site: str = "replay") -> Plant:
        """A plant of this one machine, sampled every `period`. With `equipment_type` (a type of
        the built-in library) its signals get that type's units, limits and failure modes where
        the names match; otherwise they have no limits and only drift and anomaly detection
        apply."""
        signals: dict[str, Any] = {name: {"sample_period": self.period} for name in self.signals}
        type_spec: dict[str, Any] = {"description": f"Recorded from {self.path.name}"}
        type_name = equipment_type or "recorded"
        if equipment_type is not None:
            library = builtin_types().get(equipment_type)
            if library is None:
                known = ", ".join(sorted(builtin_types()))
                raise CsvError(f"unknown equipment type {equipment_type!r}; known types: {known}")
            for name in self.signals:
                if name in library.signals:
                    signals[name] = {
                        **library.signals[name].model_dump(exclude_defaults=True),
                        "sample_period": self.period,
                    }
            type_spec["failure_modes"] = [
                mode.model_dump(exclude_defaults=True) for mode in library.failure_modes
            ]
        type_spec["signals"] = signals
        data: dict[str, Any] = {
            "site": {"id": site},
            "types": {type_name: type_spec},
            "areas": [
                {
                    "id": "recorded",
                    "lines": [
                        {
                            "id": "csv",
                            "equipment": [
                                {"id": self.equipment_id, "type": type_name, "team": "maintenance"}
                            ],
                        }
                    ],
                }
            ],
        }
        return plant_from_dict(data, source=str(self.path))


def read_csv(
    path: str | Path,
    *,
    equipment_id: str | None = None,
    sep: str = ",",
    time_column: str | None = None,
    columns: Mapping[str, str] | Sequence[str] | None = None,
) -> CsvReplay:
    """Read `path`. `columns` picks the value columns (a list) or renames them to signal names
    (a mapping CSV column -> signal); default: every other column, named after it."""
    path = Path(path)
    equipment_id = equipment_id or _identifier(path.stem)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CsvError(f"{path}: cannot read the file: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle, delimiter=sep)
        header = next(reader, None)
        if not header:
            raise CsvError(f"{path}: the file is empty; expected a header row")
        header = [h.strip() for h in header]
        time_name = _time_column(path, header, time_column, sep)
        mapping = _columns(path, header, time_name, columns)
        time_index = header.index(time_name)
        indexes = [(header.index(col), signal) for col, signal in mapping.items()]
        samples = list(_samples(path, reader, equipment_id, time_index, time_name, indexes))
    if not samples:
        raise CsvError(f"{path}: no data rows after the header")
    samples.sort(key=lambda s: s.ts)
    return CsvReplay(path, equipment_id, time_name, mapping, tuple(samples))


def _time_column(path: Path, header: list[str], wanted: str | None, sep: str) -> str:
    if wanted is not None:
        if wanted not in header:
            raise CsvError(
                f"{path}: no time column {wanted!r}; the columns are: {', '.join(header)} "
                f"(is the separator {sep!r} right?)"
            )
        return wanted
    lowered = {h.lower(): h for h in header}
    return next((lowered[n] for n in TIME_COLUMNS if n in lowered), header[0])


def _columns(
    path: Path,
    header: list[str],
    time_name: str,
    columns: Mapping[str, str] | Sequence[str] | None,
) -> dict[str, str]:
    if columns is None:
        chosen = {h: _identifier(h) for h in header if h != time_name}
    elif isinstance(columns, Mapping):
        chosen = dict(columns)
    else:
        chosen = {c: _identifier(c) for c in columns}
    missing = [c for c in chosen if c not in header]
    if missing:
        raise CsvError(
            f"{path}: no column(s) {', '.join(map(repr, missing))}; the columns are: "
            f"{', '.join(header)}"
        )
    if not chosen:
        raise CsvError(f"{path}: no value columns besides the time column {time_name!r}")
    return chosen


def _samples(
    path: Path,
    rows: Iterator[list[str]],
    equipment_id: str,
    time_index: int,
    time_name: str,
    indexes: list[tuple[int, str]],
) -> Iterator[Sample]:
    for row_number, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) <= time_index:
            raise CsvError(f"{path}: row {row_number} has no {time_name!r} value")
        ts = parse_timestamp(row[time_index])
        if ts is None:
            raise CsvError(
                f"{path}: row {row_number}, column {time_name!r}: {row[time_index]!r} is not "
                "a time (ISO 8601, epoch seconds or epoch milliseconds)"
            )
        values: dict[str, float] = {}
        for index, signal in indexes:
            cell = row[index].strip() if index < len(row) else ""
            if not cell:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise CsvError(
                    f"{path}: row {row_number}, column {signal!r}: {cell!r} is not a number"
                ) from None
            if math.isfinite(value):
                values[signal] = value
        yield Sample(equipment_id, ts, values)


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 time (UTC if naive) or of epoch seconds or milliseconds;
    None if `text` is neither."""
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(number) or number < 0:
        return None
    return number / 1000.0 if number > _MS_THRESHOLD else number


def _identifier(name: str) -> str:
    cleaned = _NOT_IDENTIFIER.sub("_", name.strip()).strip("_.-")
    return cleaned or "value"
