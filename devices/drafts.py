"""Frozen slots dataclasses built without their `__init__`, for decoders' per-value loops.

A frozen dataclass stores each field through `object.__setattr__` (to get past its own
`__setattr__`), which costs several times the plain attribute stores of a mutable class. A draft
is a mutable class with exactly the record's slots: its fields are stored plainly, then assigning
`__class__` (allowed between classes of identical layout) makes it the record itself, equal,
hashable and frozen like any other. Nothing else is skipped: dataclass `__init__`s do not validate.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def draft_type(record: type) -> type:
    """A mutable class with `record`'s slots; `TypeError` if `record` is not a slots dataclass
    whose instances can take the draft's place."""
    slots = record.__dict__.get("__slots__")
    if not dataclasses.is_dataclass(record) or slots is None:
        raise TypeError(f"{record.__name__} is not a dataclass with slots")
    if tuple(slots) != tuple(f.name for f in dataclasses.fields(record)):
        raise TypeError(f"{record.__name__}'s slots are not exactly its fields")
    draft: type = type(f"_{record.__name__}Draft", (), {"__slots__": tuple(slots)})
    trial: Any = draft()
    trial.__class__ = record  # raises TypeError if the layouts differ
    return draft
