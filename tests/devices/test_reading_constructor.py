"""`new_reading`, the decoders' fast constructor, makes ordinary `Reading`s; and `draft_type`."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import pytest

from devices import Quality, Reading, new_reading
from devices.drafts import draft_type


@pytest.mark.parametrize(
    "args",
    [
        ("P-101", "flow", 1_764_000_000.123, 96.5),
        ("P-101", "flow", 0.0, -0.0, Quality.UNCERTAIN),
        ("P-1", "vibration", 5.0, math.nan, Quality.BAD),
    ],
)
def test_it_is_the_reading_the_dataclass_makes(args: tuple[object, ...]) -> None:
    fast, slow = new_reading(*args), Reading(*args)  # type: ignore[arg-type]
    assert type(fast) is Reading
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow) or math.isnan(fast.value)
    assert repr(fast) == repr(slow)
    assert hash(fast) == hash(slow)
    assert dataclasses.is_dataclass(fast)
    assert isinstance(fast, Reading)
    if not math.isnan(fast.value):
        assert fast == slow
        assert {fast: 1}[slow] == 1
    assert pickle.loads(pickle.dumps(fast)) == fast or math.isnan(fast.value)
    assert copy.copy(fast).signal == slow.signal


def test_it_is_frozen_and_keeps_the_dataclass_api() -> None:
    reading = new_reading("P-101", "flow", 1.0, 2.0)
    assert reading.quality is Quality.GOOD
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.value = 3.0  # type: ignore[misc]
    for made in (reading, Reading("P-101", "flow", 1.0, 2.0)):
        # a new attribute is refused alike (Python 3.11's slots dataclasses raise TypeError)
        with pytest.raises((AttributeError, TypeError)):
            made.extra = 1  # type: ignore[attr-defined]
    assert dataclasses.replace(reading, ts=5.0) == Reading("P-101", "flow", 5.0, 2.0)
    assert dataclasses.asdict(reading)["signal"] == "flow"
    assert reading != new_reading("P-101", "flow", 1.0, 2.5)
    assert reading != ("P-101", "flow", 1.0, 2.0, Quality.GOOD)


def test_a_draft_type_needs_a_slots_dataclass_of_the_same_layout() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    class NotADataclass:
        __slots__ = ("a",)

    for record in (NoSlots, NotADataclass):
        with pytest.raises(TypeError, match="not a dataclass with slots"):
            draft_type(record)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Point:
        x: float
        y: float = 0.0

    draft = draft_type(Point)()
    draft.x, draft.y = 1.0, 2.0
    draft.__class__ = Point
    assert draft == Point(1.0, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft.x = 3.0
