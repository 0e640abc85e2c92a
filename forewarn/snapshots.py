"""Detector state kept between runs, so a restart (or a takeover) resumes learning instead of
starting over: in a local file, or for a claimed shard in the shared database
(`forewarn.lease_store.DatabaseSnapshots`)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from detectors import Engine, SnapshotError

log = logging.getLogger(__name__)


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
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.path)

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data


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
