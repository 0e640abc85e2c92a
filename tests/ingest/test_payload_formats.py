"""JSON shapes beyond {"ts", "values"}: one value per topic, field paths, timestamp units; and the
validator every source shares."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import Plant, Quality, Reading, plant_from_dict
from ingest import DeadLetters, IntakeLimits, JsonDecoder, RejectReason, Validator

PLANT = {
    "site": {"id": "acme"},
    "mqtt": {"format": "value"},
    "areas": [
        {
            "id": "a",
            "lines": [
                {
                    "id": "l",
                    "equipment": [
                        {"id": "P-1", "type": "centrifugal_pump", "team": "m"},
                        {
                            "id": "P-2",
                            "type": "centrifugal_pump",
                            "team": "m",
                            "mqtt": {
                                "format": "paths",
                                "topic": "legacy/{equipment}",
                                "timestamp_field": "meta.time",
                                "timestamp_unit": "s",
                            },
                            "signals": {
                                "flow": {"mqtt": {"field": "data.q[1]"}},
                                "vibration": {"mqtt": {"field": "data.vib"}},
                            },
                        },
                    ],
                }
            ],
        }
    ],
}
VALUE_TOPIC = "acme/a/l/P-1/flow"
PATHS_TOPIC = "legacy/P-2"


@pytest.fixture(scope="module")
def plant() -> Plant:
    return plant_from_dict(PLANT)


def decode(plant: Plant, topic: str, document: object) -> tuple[list[Reading], DeadLetters]:
    letters = DeadLetters()
    payload = json.dumps(document).encode()
    return JsonDecoder(plant, letters.add).decode(topic, payload, 100.0), letters


def test_one_value_per_topic(plant: Plant) -> None:
    assert decode(plant, VALUE_TOPIC, 96.5)[0] == [Reading("P-1", "flow", 100.0, 96.5)]
    readings, _ = decode(plant, VALUE_TOPIC, {"ts": 1_700_000_000_000, "value": 3})
    assert readings == [Reading("P-1", "flow", 1_700_000_000.0, 3.0)]
    readings, _ = decode(plant, VALUE_TOPIC, [1, {"ts": 5, "value": 2}])
    assert [(r.ts, r.value) for r in readings] == [(100.0, 1.0), (5.0, 2.0)]
    readings, letters = decode(plant, VALUE_TOPIC, {"ts": 5, "v": 2})
    assert (readings, letters.counts) == ([], {RejectReason.PARSE_ERROR: 1})
    readings, letters = decode(plant, VALUE_TOPIC, "2.5")
    assert (readings, letters.counts) == ([], {RejectReason.PARSE_ERROR: 1})


def test_field_paths_and_timestamp_unit(plant: Plant) -> None:
    document = {"meta": {"time": 1_700_000_000}, "data": {"q": [0, 97.5], "vib": 2.25}}
    readings, letters = decode(plant, PATHS_TOPIC, document)
    assert sorted(readings, key=lambda r: r.signal) == [
        Reading("P-2", "flow", 1_700_000_000.0, 97.5),
        Reading("P-2", "vibration", 1_700_000_000.0, 2.25),
    ]
    assert letters.total == 0
    readings, letters = decode(plant, PATHS_TOPIC, {"meta": {"time": "2024-01-01T00:00:00Z"}})
    assert (readings, letters.counts) == ([], {RejectReason.BAD_TIMESTAMP: 1})
    readings, letters = decode(plant, PATHS_TOPIC, {"data": {"q": [1]}})
    assert (readings, letters.counts) == ([], {RejectReason.PARSE_ERROR: 1})
    readings, letters = decode(plant, PATHS_TOPIC, {"data": {"vib": "x", "q": [0, 1]}})
    assert [r.signal for r in readings] == ["flow"]
    assert letters.counts == {RejectReason.WRONG_TYPE: 1}


def test_validator_rejects_implausible_timestamps_and_late_readings() -> None:
    letters = DeadLetters()
    validator = Validator(
        IntakeLimits(max_future=60, max_past=3600, out_of_order_tolerance=5), letters.add
    )
    now = 1_000_000.0

    def admit(*stamps: float) -> list[float]:
        readings = [Reading("P-1", "flow", ts, 1.0) for ts in stamps]
        return [r.ts for r in validator.admit(readings, "t", b"", now)]

    assert admit(now - 100, now - 50, now - 53, now - 60, now + 59) == [
        now - 100,
        now - 50,
        now - 53,
        now + 59,
    ]
    assert admit(now + 61, now - 3601) == []
    assert letters.counts == {
        RejectReason.OUT_OF_ORDER: 1,
        RejectReason.TIMESTAMP_OUT_OF_RANGE: 2,
    }
    assert "ahead of" in letters.samples()[1].detail
    assert validator.too_large("t", b"x" * IntakeLimits().max_payload_bytes, now) is False
    small = Validator(IntakeLimits(max_payload_bytes=3), letters.add)
    assert small.too_large("t", b"abcd", now)
    assert letters.counts[RejectReason.PAYLOAD_TOO_LARGE] == 1


def test_a_bad_status_stamped_later_does_not_make_samples_late() -> None:
    letters = DeadLetters()
    validator = Validator(IntakeLimits(max_future=None, max_past=None), letters.add)
    waiting = Reading("P-1", "flow", 2_000_000.0, math.nan, Quality.BAD)  # server time
    samples = [Reading("P-1", "flow", 1_000_000.0 + i, float(i)) for i in range(3)]
    admitted = validator.admit([waiting, *samples], "t", b"", 2_000_000.0)
    assert admitted == [waiting, *samples]
    assert validator.admit([Reading("P-1", "flow", 999_000.0, 1.0)], "t", b"", 0.0) == []
    assert letters.counts == {RejectReason.OUT_OF_ORDER: 1}


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ts", "value", "meta", "time", "data", "q", "vib"]), inner, max_size=4
        )
    ),
    max_leaves=25,
)


@given(document=json_values, topic=st.sampled_from([VALUE_TOPIC, PATHS_TOPIC]))
def test_any_document_is_accepted_or_counted(plant: Plant, document: object, topic: str) -> None:
    readings, letters = decode(plant, topic, document)
    assert readings or letters.total >= 1
    assert all(math.isfinite(r.value) and math.isfinite(r.ts) for r in readings)


@given(payload=st.binary(max_size=200), topic=st.sampled_from([VALUE_TOPIC, PATHS_TOPIC]))
def test_any_bytes_are_accepted_or_counted(plant: Plant, payload: bytes, topic: str) -> None:
    letters = DeadLetters()
    readings = JsonDecoder(plant, letters.add).decode(topic, payload, 0.0)
    assert readings or letters.total >= 1
