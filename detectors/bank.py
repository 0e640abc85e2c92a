"""Many streams of the univariate detectors at once, on numpy arrays.

Scoring reading by reading costs microseconds of Python per detector; a plant of tens of
thousands of signals wants the same arithmetic on arrays. A `UnivariateBank` keeps, for each
detector it holds, one float64 array per dataclass field (parameters and learned state, NaN for a
missing limit) and per derived constant, one element per stream. `process` scores a batch of
readings of any streams, each before learning it, with exactly the object detectors' arithmetic
(`detectors.kernels`); the objects remain the reference and the way to describe a finding
(`bank.detector(stream, name)` rebuilds one from the arrays).

A batch may hold several readings of one stream, in time order. It is processed in rounds: round
r holds every stream's r-th reading of the batch, so within a round each stream appears at most
once and the arrays can be gathered and scattered without conflicts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.base import Detector
from detectors.errors import DetectorError, InvalidInput, SnapshotError
from detectors.kernels import KERNELS, Kernel
from detectors.surprise import FloatArray
from devices import Signal

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

FAMILY: tuple[str, ...] = ("limits", "ewma_drift", "zscore", "rate_of_change", "cusum")
"""The univariate family: a signal's own values against its limits and its learned behaviour."""
SENSOR_CHECKS: tuple[str, ...] = ("stale", "flatline", "noise", "physical_range")
"""The sensor-health checks the bank holds too (`detectors.health`; not `spike`, whose window
of recent readings is no fixed set of numbers)."""
BANKED: tuple[str, ...] = FAMILY + SENSOR_CHECKS
"""Every detector a `UnivariateBank` can hold."""
SNAPSHOT_VERSION = 1


class _Column:
    """One detector over every stream of the bank."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        cls = kernel.detector
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        self.types = {f.name: _field_type(cls, f) for f in fields}
        self.params = tuple(f.name for f in fields if f.init)
        self.state = tuple(f.name for f in fields if not f.init)
        self.derived = tuple(kernel.derive(_params(cls())))
        empty = np.empty(0, dtype=np.float64)
        self.arrays: dict[str, FloatArray] = {
            name: empty.copy() for name in (*self.params, *self.state, *self.derived)
        }
        self.applies: BoolArray = np.empty(0, dtype=np.bool_)
        self.shared: dict[str, FloatArray] = {}
        """Parameters (and derived constants) that are the same for every stream: handed to the
        kernel as a one-element array (it broadcasts) instead of being gathered per reading."""

    def _share(self) -> None:
        self.shared = {}
        for name in (*self.params, *self.derived):
            array = self.arrays[name]
            if array.size and (array == array[0]).all():
                self.shared[name] = array[:1].copy()

    @property
    def name(self) -> str:
        return self.kernel.detector.name

    def append(self, detectors: Sequence[Detector | None]) -> None:
        cls = self.kernel.detector
        placeholder = cls()
        rows: list[list[float]] = []
        derived_cache: dict[tuple[float, ...], dict[str, float]] = {}
        for detector in detectors:
            if detector is not None and type(detector) is not cls:
                raise DetectorError(
                    f"the bank's {self.name!r} column takes {cls.__name__}, "
                    f"not {type(detector).__name__}"
                )
            snap = (detector or placeholder).snapshot()
            values = [_encode(snap[name]) for name in (*self.params, *self.state)]
            key = tuple(values[: len(self.params)])
            derived = derived_cache.get(key)
            if derived is None:
                derived = derived_cache[key] = self.kernel.derive(_params_of(snap, self.params))
            rows.append(values + [derived[name] for name in self.derived])
        table = np.array(rows, dtype=np.float64).reshape(len(rows), len(self.arrays))
        for j, name in enumerate((*self.params, *self.state, *self.derived)):
            self.arrays[name] = np.concatenate([self.arrays[name], table[:, j]])
        present = np.array([d is not None for d in detectors], dtype=np.bool_)
        self.applies = np.concatenate([self.applies, present])
        self._share()

    def detector(self, stream: int) -> Detector | None:
        if not self.applies[stream]:
            return None
        values = {name: self.arrays[name][stream] for name in (*self.params, *self.state)}
        state = {name: _decode(v, self.types[name]) for name, v in values.items()}
        return self.kernel.detector.restore(state)

    def step(
        self, idx: IntArray, x: FloatArray, ts: FloatArray, learn: BoolArray | None
    ) -> FloatArray:
        shared = self.shared
        gathered = {
            name: shared[name] if name in shared else array[idx]
            for name, array in self.arrays.items()
        }
        scores, learned = self.kernel.step(gathered, x, ts)
        applies = self.applies[idx]
        if not applies.all():
            scores = np.where(applies, scores, 0.0)
            learn = applies if learn is None else learn & applies
        if learn is None:
            for name, values in learned.items():
                self.arrays[name][idx] = values
        elif learned:
            kept = idx[learn]
            for name, values in learned.items():
                self.arrays[name][kept] = values[learn]
        return scores

    def silence(self, now: FloatArray) -> FloatArray | None:
        """Every stream's `score_silence` at `now` (one source time per stream, or one for all),
        noting the judgment as the objects do; None for a detector that does not judge missing
        data."""
        if self.kernel.silence is None:
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            scores, judged = self.kernel.silence(self.arrays, now)
        for name, values in judged.items():
            self.arrays[name] = np.where(self.applies, values, self.arrays[name])
        return np.where(self.applies, scores, 0.0)

    def snapshot(self) -> dict[str, Any]:
        return {
            "applies": self.applies.tolist(),
            "fields": {
                name: [_json_number(v, self.types[name]) for v in self.arrays[name].tolist()]
                for name in (*self.params, *self.state)
            },
        }

    def arrays_state(self) -> dict[str, Any]:
        return {
            "applies": self.applies.copy(),
            "fields": {name: self.arrays[name].copy() for name in (*self.params, *self.state)},
        }

    def restore_arrays(self, saved: Mapping[str, Any], saved_of: IntArray) -> None:
        """Each stream `i` with `saved_of[i] >= 0`, where the detector applies both to it and
        to stream `saved_of[i]` of `saved` (what `arrays_state` gave), takes that stream's fields (a
        field added to the detector since keeps the stream's own)."""
        picks = np.flatnonzero(saved_of >= 0)
        saved_applies = np.asarray(saved["applies"], dtype=np.bool_)
        taken = saved_applies[saved_of[picks]] & self.applies[picks]
        picks = picks[taken]
        rows = saved_of[picks]
        for name, values in saved["fields"].items():
            if name in self.arrays and name not in self.derived:
                self.arrays[name][picks] = np.asarray(values, dtype=np.float64)[rows]
        self._derive(picks)
        self._share()

    def _derive(self, streams: IntArray) -> None:
        """The derived constants of `streams` from their parameters: once per distinct set."""
        if not self.derived or not streams.size:
            return
        table = np.ascontiguousarray(
            np.column_stack([self.arrays[name][streams] for name in self.params])
            if self.params
            else np.zeros((streams.size, 1))
        )
        rows = table.view(np.dtype((np.void, table.itemsize * table.shape[1]))).reshape(-1)
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        found = [
            self.kernel.derive(dict(zip(self.params, table[k].tolist(), strict=False)))
            for k in first.tolist()
        ]
        for name in self.derived:
            values = np.array([d[name] for d in found], dtype=np.float64)
            self.arrays[name][streams] = values[inverse.reshape(-1)]

    def restore(self, saved: Mapping[str, Any], streams: int) -> None:
        """The column as `snapshot` saved it; a field added to the detector since (a snapshot
        of an older forewarn) starts at its default for every stream."""
        fields = saved["fields"]
        defaults = self.kernel.detector().snapshot()
        for name in (*self.params, *self.state):
            if name in fields:
                values = [math.nan if v is None else v for v in fields[name]]
                self.arrays[name] = np.array(values, dtype=np.float64).reshape(streams)
            else:
                self.arrays[name] = np.full(streams, _encode(defaults[name]))
        self.applies = np.array(saved["applies"], dtype=np.bool_).reshape(streams)
        for name in self.derived:
            self.arrays[name] = np.empty(streams)
        self._derive(np.arange(streams))
        self._share()


class UnivariateBank:
    """The univariate detectors of many streams, scored and learned in vectorised batches.

    `detectors` names which detectors every stream gets (any of `FAMILY`); a detector that does not
    apply to a stream (`for_signal` gave None, e.g. limits on a signal without limits) scores 0.0
    there and learns nothing.
    """

    def __init__(self, detectors: Sequence[str] = FAMILY) -> None:
        unknown = [name for name in detectors if name not in KERNELS]
        if unknown:
            raise DetectorError(
                f"no vectorised form of {', '.join(map(repr, unknown))}; "
                f"a UnivariateBank holds {', '.join(KERNELS)}"
            )
        if len(set(detectors)) != len(detectors):
            raise DetectorError(f"detectors named twice in {list(detectors)}")
        self.names: tuple[str, ...] = tuple(detectors)
        self._columns = [_Column(KERNELS[name]) for name in self.names]
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add_signals(self, signals: Iterable[Signal]) -> IntArray:
        """Add one stream per signal, each detector configured by its `for_signal`."""
        return self.add_streams(
            {column.name: column.kernel.detector.for_signal(signal) for column in self._columns}
            for signal in signals
        )

    def add_streams(self, streams: Iterable[Mapping[str, Detector | None]]) -> IntArray:
        """Add streams from detector objects (their parameters and learned state are copied).

        Each mapping gives, by name, the detector of one stream; a name left out or mapped to None
        does not apply to that stream. Returns the new streams' indices.
        """
        rows = list(streams)
        for row in rows:
            extra = set(row) - set(self.names)
            if extra:
                raise DetectorError(
                    f"this bank holds {', '.join(self.names)}; add {', '.join(sorted(extra))} "
                    "to its detectors or leave them out of the stream"
                )
        for column in self._columns:
            column.append([row.get(column.name) for row in rows])
        start = self._size
        self._size += len(rows)
        return np.arange(start, self._size, dtype=np.intp)

    def detector(self, stream: int, name: str) -> Detector | None:
        """The object form of one stream's detector (parameters and learned state), for
        `describe` and `severity`; None if it does not apply to the stream."""
        return self._columns[self.names.index(name)].detector(stream)

    def silence(self, now: npt.ArrayLike) -> dict[str, FloatArray]:
        """`score_silence` of every stream at source time `now` (one per stream, or one for
        all), by the name of each detector of missing data the bank holds."""
        at = np.asarray(now, dtype=np.float64)
        scores = {column.name: column.silence(at) for column in self._columns}
        return {name: s for name, s in scores.items() if s is not None}

    def applies(self) -> BoolArray:
        """Which detector applies to which stream: shape (streams, detectors)."""
        if not self._columns:
            return np.zeros((self._size, 0), dtype=np.bool_)
        return np.column_stack([c.applies for c in self._columns])

    def process(
        self,
        streams: npt.ArrayLike,
        values: npt.ArrayLike,
        ts: npt.ArrayLike,
        learn: npt.ArrayLike | None = None,
    ) -> FloatArray:
        """Score every reading, then learn it (where `learn` is true, or everywhere without it).

        Readings of one stream must come in time order. Returns the scores, shape
        (readings, detectors), columns in the order of `names`. Raises `InvalidInput`, before
        anything is scored or learned, if a value or timestamp is not finite.
        """
        idx = np.asarray(streams, dtype=np.intp)
        x = np.asarray(values, dtype=np.float64)
        t = np.asarray(ts, dtype=np.float64)
        mask = None if learn is None else np.asarray(learn, dtype=np.bool_)
        size = idx.shape[0] if idx.ndim == 1 else -1
        shapes = [a.shape for a in (idx, x, t) + (() if mask is None else (mask,))]
        if size < 0 or any(shape != (size,) for shape in shapes):
            raise DetectorError(
                f"streams, values, ts (and learn) must be 1-d arrays of one length, got {shapes}"
            )
        if size and (idx.min() < 0 or idx.max() >= self._size):
            raise DetectorError(
                f"stream indices must be in [0, {self._size}): add the streams to the bank first"
            )
        finite = np.isfinite(x) & np.isfinite(t)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise InvalidInput(
                f"reading {bad} of the batch (stream {idx[bad]}, value {x[bad]!r}, ts {t[bad]!r}) "
                "is not finite; non-finite readings must be dropped before detection "
                "(nothing in the batch was scored or learned)"
            )
        by_detector = np.empty((len(self._columns), size), dtype=np.float64)
        if mask is not None and mask.all():
            mask = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for sel in _rounds(idx):
                r_idx = idx if sel is None else idx[sel]
                r_x = x if sel is None else x[sel]
                r_t = t if sel is None else t[sel]
                r_learn = mask if mask is None or sel is None else mask[sel]
                for j, column in enumerate(self._columns):
                    r_scores = column.step(r_idx, r_x, r_t, r_learn)
                    if sel is None:
                        by_detector[j] = r_scores
                    else:
                        by_detector[j, sel] = r_scores
        return by_detector.T

    @property
    def nbytes(self) -> int:
        """Bytes held by the bank's arrays."""
        return sum(
            c.applies.nbytes + sum(a.nbytes for a in c.arrays.values()) for c in self._columns
        )

    def snapshot(self) -> dict[str, Any]:
        """Parameters and learned state of every stream as JSON-compatible data (no NaN)."""
        return {
            "version": SNAPSHOT_VERSION,
            "detectors": list(self.names),
            "streams": self._size,
            "columns": {c.name: c.snapshot() for c in self._columns},
        }

    def state(self) -> dict[str, Any]:
        """Parameters, learned state and where each detector applies, as numpy arrays over the
        streams (copies): the engine's snapshot."""
        return {"columns": {c.name: c.arrays_state() for c in self._columns}}

    def restore_state(self, state: Mapping[str, Any], saved_of: IntArray) -> None:
        """Stream `i` takes, of each detector both it and stream `saved_of[i]` of `state` (what
        `state()` gave) have, that stream's parameters and learned state; a stream with
        `saved_of[i] < 0`, or a detector the state has not, is left as it is."""
        for column in self._columns:
            saved = state["columns"].get(column.name)
            if saved is not None:
                column.restore_arrays(saved, saved_of)

    @classmethod
    def restore(cls, snapshot: Mapping[str, Any]) -> UnivariateBank:
        """A bank equal to the one whose `snapshot()` gave `snapshot`."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError(
                f"bank snapshot version {snapshot.get('version')!r} is not {SNAPSHOT_VERSION}; "
                "delete the snapshot file to start learning afresh"
            )
        bank = cls(snapshot["detectors"])
        streams = int(snapshot["streams"])
        for column in bank._columns:
            column.restore(snapshot["columns"][column.name], streams)
        bank._size = streams
        return bank


def _rounds(idx: IntArray) -> list[IntArray | None]:
    """Reading positions per round: round r holds each stream's r-th reading (None: one round
    of every reading)."""
    size = idx.shape[0]
    if size == 0:
        return []
    order = np.argsort(idx, kind="stable")
    ordered = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if starts.shape[0] == size:
        return [None]
    lengths = np.diff(np.append(starts, size))
    rank = np.empty(size, dtype=np.intp)
    rank[order] = np.arange(size) - np.repeat(starts, lengths)
    by_round = np.argsort(rank, kind="stable")
    bounds = np.cumsum(np.bincount(rank))
    return list(np.split(by_round, bounds[:-1]))


def _field_type(cls: type[Detector], f: dataclasses.Field[Any]) -> str:
    kind = str(f.type).replace(" ", "")
    if kind in ("int", "float", "float|None", "bool"):
        return kind
    raise DetectorError(
        f"{cls.__name__}.{f.name} is a {f.type}: a UnivariateBank stores numbers only "
        "(int, float, bool or float | None fields)"
    )


def _params(detector: Detector) -> dict[str, float]:
    snap = detector.snapshot()
    fields = dataclasses.fields(detector)  # type: ignore[arg-type]
    return _params_of(snap, tuple(f.name for f in fields if f.init))


def _params_of(snap: Mapping[str, Any], names: Sequence[str]) -> dict[str, float]:
    return {name: _encode(snap[name]) for name in names}


def _encode(value: Any) -> float:
    return math.nan if value is None else float(value)


def _decode(value: float, kind: str) -> Any:
    if kind == "float|None":
        return None if math.isnan(value) else value
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    return value


def _json_number(value: float, kind: str) -> Any:
    decoded = _decode(value, kind)
    if isinstance(decoded, float) and not math.isfinite(decoded):
        return None
    return decoded
