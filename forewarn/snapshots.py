"""Detector state on disk, so a restart resumes learning instead of starting over."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from detectors import Engine, SnapshotError

log = logging.getLogger(__name__)


def save(engine: Engine, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the previous snapshot intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(engine.snapshot()), encoding="utf-8")
    os.replace(tmp, path)


def restore(engine: Engine, path: Path) -> int:
    """Load the snapshot at `path` into `engine` if there is one; returns the streams restored."""
    if not path.exists():
        return 0
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        restored = engine.restore(data)
    except (ValueError, KeyError, TypeError, SnapshotError) as exc:
        log.warning(
            "ignoring detector snapshot %s (%s); detectors start learning afresh", path, exc
        )
        return 0
    log.info("restored detector state of %d signals from %s", restored, path)
    return restored
