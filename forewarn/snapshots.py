"""Detector state kept between runs, so a restart (or a takeover) resumes learning instead of
starting over: in a local file, or for a claimed shard in the shared database
(`forewarn.lease_store.DatabaseSnapshots`).

Both hold the same text (`encode`): the engine's snapshot as JSON, each numpy array of it (the
bulk: every stream's evidence, trend history and banked detectors) as an object
`{"__array__": dtype, "shape": [...], "data": base64 of its raw little-endian bytes}`. The
arrays round-trip bit for bit (NaN, infinities and -0.0 included) and cost no Python per value;
the JSON parts are written as `json.dumps` writes them (NaN and Infinity too). A snapshot of
forewarn before version 4 (all JSON) decodes the same way.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from detectors import Engine, SnapshotError

log = logging.getLogger(__name__)

_ARRAY = "__array__"


def encode(state: dict[str, Any]) -> str:
    """`state` (an `Engine.snapshot()`) as the text the stores keep."""
    return json.dumps(state, default=array_as_json, separators=(",", ":"))


def decode(text: str | bytes) -> dict[str, Any]:
    """What `encode` gave, back; `ValueError` for text that is not a snapshot."""
    data = json.loads(text, object_hook=_decode_array)
    if not isinstance(data, dict):
        raise ValueError(f"a snapshot is a JSON object, not {type(data).__name__}")
    return data


def array_as_json(value: Any) -> Any:
    """`json.dumps`'s `default` for the numpy arrays of a snapshot (as `encode` writes them)."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {
            _ARRAY: array.dtype.str,
            "shape": list(array.shape),
            "data": base64.b64encode(array.data).decode("ascii"),
        }
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not part of a detector snapshot")


def _decode_array(obj: dict[str, Any]) -> Any:
    kind = obj.get(_ARRAY)
    if kind is None:
        return obj
    dtype = np.dtype(kind)
    if dtype.kind not in "biuf":
        raise ValueError(f"a snapshot array of {kind!r}: only numbers are stored")
    raw = base64.b64decode(obj["data"], validate=True)
    shape = tuple(int(n) for n in obj["shape"])
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


class SnapshotStore(Protocol):
    """Where an engine's snapshot goes and comes back from."""

    @property
    def where(self) -> str:
        """For the logs: the file, or the database and shard."""
        ...

    def save(self, state: dict[str, Any]) -> None: ...

    def load(self) -> dict[str, Any] | None:
        """The newest snapshot, None if there is none; `ValueError` for one that is unreadable."""
        ...


class FileSnapshots:
    """A snapshot in one JSON file, replaced atomically: a crash mid-write leaves the previous
    snapshot intact."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def where(self) -> str:
        return str(self.path)

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(encode(state), encoding="utf-8")
        os.replace(tmp, self.path)

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        return decode(self.path.read_text(encoding="utf-8"))


def save(engine: Engine, path: Path) -> None:
    """Write `engine`'s snapshot to `path` atomically."""
    FileSnapshots(path).save(engine.snapshot())


def restore(engine: Engine, path: Path) -> int:
    """Load the snapshot at `path` into `engine` if there is one; returns the streams restored."""
    return restore_from(engine, FileSnapshots(path))


def restore_from(engine: Engine, store: SnapshotStore) -> int:
    """Load `store`'s snapshot into `engine` if there is one; returns the streams restored. An
    unreadable snapshot is logged and ignored: the detectors start learning afresh."""
    try:
        data = store.load()
        if data is None:
            return 0
        restored = engine.restore(data)
    except (ValueError, KeyError, TypeError, SnapshotError) as exc:
        log.warning(
            "ignoring detector snapshot %s (%s); detectors start learning afresh", store.where, exc
        )
        return 0
    log.info("restored detector state of %d signals from %s", restored, store.where)
    return restored
