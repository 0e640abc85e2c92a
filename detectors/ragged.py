"""Rows of different lengths (each stream's points, each stream's closed buckets) packed into one
array and back: how the engine's snapshot carries them without Python per value."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def pack(rows: FloatArray, counts: IntArray) -> FloatArray:
    """The first `counts[i]` entries of each row `rows[i]`, row after row, in one array."""
    return np.ascontiguousarray(rows[np.arange(rows.shape[1]) < counts[:, None]])


def unpack(
    packed: FloatArray, counts: IntArray, picks: IntArray, width: int
) -> tuple[FloatArray, IntArray]:
    """Rows `picks` of what `pack` gave for `counts`, each padded with zeros to `width` entries
    (of a row longer than that, its last `width`), and how many entries each holds."""
    ends = np.cumsum(counts)
    n = np.minimum(counts[picks], width)
    columns = np.arange(width)
    held = columns < n[:, None]
    out = np.zeros((picks.size, width, *packed.shape[1:]))
    if held.any():
        source = (ends[picks] - n)[:, None] + columns
        out[held] = packed[source[held]]
    return out, n.astype(np.intp)
