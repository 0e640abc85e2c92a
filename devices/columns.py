"""Readings as columns: the batch that crosses from the sources to the detectors.

A decoder appends each sample's stream number, source time, value and quality to a `ColumnSink`
(four Python lists: a list append is the cheapest thing a per-value loop can do) and the sink
becomes a `ReadingColumns` (numpy arrays) once per batch. A stream number is a position in a
table of `(equipment_id, signal)` keys: the plant's (`Plant.streams`, which `Route.stream`
indexes), or one built for the readings at hand (`ReadingColumns.of`). A consumer that wants
`Reading`s iterates the batch; the detection engine takes the arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from devices.records import Quality, Reading, new_reading

StreamKey = tuple[str, str]
"""`(equipment_id, signal)`."""
QUALITIES = (Quality.GOOD, Quality.UNCERTAIN, Quality.BAD)
"""Quality by its code in a `quality` column."""
GOOD, UNCERTAIN, BAD = 0, 1, 2
_CODES = {quality: code for code, quality in enumerate(QUALITIES)}
_OVERHEAD = 64
"""Bytes of a batch besides its arrays' data (as the queues count it)."""
_EMPTY_KEYS: tuple[StreamKey, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ReadingColumns:
    """Readings `(keys[stream[i]], ts[i], value[i], QUALITIES[quality[i]])`, in arrival order."""

    keys: Sequence[StreamKey]
    """The table the stream numbers index (kept by identity: a consumer resolves it once)."""
    stream: npt.NDArray[np.intp]
    ts: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint8]

    @classmethod
    def of(
        cls, readings: Iterable[Reading], keys: Sequence[StreamKey] | None = None
    ) -> ReadingColumns:
        """The columns of `readings`, numbered by `keys` (default: a table of their own streams,
        in order of first appearance)."""
        sink = ColumnSink(keys)
        for reading in readings:
            sink.add(reading)
        return sink.take()

    @classmethod
    def empty(cls, keys: Sequence[StreamKey] = _EMPTY_KEYS) -> ReadingColumns:
        return ColumnSink(keys).take()

    @classmethod
    def concat(cls, parts: Sequence[ReadingColumns]) -> ReadingColumns:
        """The batches one after the other; renumbered into one table if their tables differ."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.empty()
        keys = parts[0].keys
        if all(part.keys is keys for part in parts):
            streams = [part.stream for part in parts]
        else:
            merged: dict[StreamKey, int] = {}
            for part in parts:
                for key in part.keys:
                    merged.setdefault(key, len(merged))
            keys = tuple(merged)
            streams = [
                np.array([merged[key] for key in part.keys], dtype=np.intp)[part.stream]
                if len(part.keys)
                else part.stream
                for part in parts
            ]
        return cls(
            keys,
            np.concatenate(streams),
            np.concatenate([part.ts for part in parts]),
            np.concatenate([part.value for part in parts]),
            np.concatenate([part.quality for part in parts]),
        )

    def __len__(self) -> int:
        return int(self.ts.size)

    def __iter__(self) -> Iterator[Reading]:
        keys = self.keys
        for stream, ts, value, quality in zip(
            self.stream.tolist(),
            self.ts.tolist(),
            self.value.tolist(),
            self.quality.tolist(),
            strict=True,
        ):
            equipment_id, signal = keys[stream]
            yield new_reading(equipment_id, signal, ts, value, QUALITIES[quality])

    @property
    def nbytes(self) -> int:
        """Memory of the batch's data, as a queue bounded by bytes counts it."""
        arrays = (self.stream, self.ts, self.value, self.quality)
        return sum(array.nbytes for array in arrays) + _OVERHEAD

    @property
    def last_ts(self) -> float:
        """Source time of the last reading; NaN for an empty batch."""
        return float(self.ts[-1]) if self.ts.size else float("nan")

    def newest(self, tail: int = 8) -> float:
        """The newest source time among the last `tail` readings (cheap, and what a lag needs:
        a batch runs in arrival order)."""
        return float(self.ts[-tail:].max())


class ColumnSink:
    """Columns being filled: decoders append to the lists directly (`stream.append(...)`), or a
    `Reading` at a time (`add`); `take` hands them out as a `ReadingColumns` and starts again.

    Numbered by `keys` (the plant's table, say) or, without, by a table of its own that grows
    with the streams `add` meets."""

    __slots__ = ("_numbers", "_own", "keys", "quality", "stream", "ts", "value")

    def __init__(self, keys: Sequence[StreamKey] | None = None) -> None:
        self._own = keys is None
        self.keys: Sequence[StreamKey] = [] if keys is None else keys
        self._numbers: dict[StreamKey, int] | None = None
        self.stream: list[int] = []
        self.ts: list[float] = []
        self.value: list[float] = []
        self.quality: list[int] = []

    def __len__(self) -> int:
        return len(self.ts)

    def append(self, stream: int, ts: float, value: float, quality: int = GOOD) -> None:
        self.stream.append(stream)
        self.ts.append(ts)
        self.value.append(value)
        self.quality.append(quality)

    def add(self, reading: Reading) -> None:
        """Append one reading (`KeyError` if its stream is not in a table given)."""
        numbers = self._numbers
        if numbers is None:
            numbers = self._numbers = {key: n for n, key in enumerate(self.keys)}
        key = (reading.equipment_id, reading.signal)
        number = numbers.get(key)
        if number is None:
            if not self._own:
                raise KeyError(f"{key} is not in this sink's table")
            number = numbers[key] = len(numbers)
            cast("list[StreamKey]", self.keys).append(key)
        self.stream.append(number)
        self.ts.append(reading.ts)
        self.value.append(reading.value)
        self.quality.append(_CODES[reading.quality])

    def truncate(self, size: int) -> None:
        """Drop everything appended after the first `size` readings."""
        del self.stream[size:], self.ts[size:], self.value[size:], self.quality[size:]

    def readings(self, start: int = 0) -> list[Reading]:
        """The readings from `start` on, as records."""
        keys = self.keys
        return [
            new_reading(*keys[stream], ts, value, QUALITIES[quality])
            for stream, ts, value, quality in zip(
                self.stream[start:],
                self.ts[start:],
                self.value[start:],
                self.quality[start:],
                strict=True,
            )
        ]

    def take(self) -> ReadingColumns:
        """What was appended, as a batch; the sink is empty afterwards."""
        size = len(self.ts)
        columns = ReadingColumns(
            tuple(self.keys) if self._own else self.keys,
            np.array(self.stream, dtype=np.intp).reshape(size),
            np.array(self.ts, dtype=np.float64).reshape(size),
            np.array(self.value, dtype=np.float64).reshape(size),
            np.array(self.quality, dtype=np.uint8).reshape(size),
        )
        self.stream, self.ts, self.value, self.quality = [], [], [], []
        if self._own:
            self.keys, self._numbers = [], None
        return columns
