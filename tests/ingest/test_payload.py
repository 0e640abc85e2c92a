from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import Plant, Reading
from ingest import DeadLetters, JsonDecoder, RejectReason

TOPIC = "demo/treatment/line-1/P-101/telemetry"


@pytest.fixture
def letters() -> DeadLetters:
    return DeadLetters(capacity=5)


@pytest.fixture
def decoder(demo_plant: Plant, letters: DeadLetters) -> JsonDecoder:
    return JsonDecoder(demo_plant, letters.add)


def test_object_with_ms_timestamp(decoder: JsonDecoder, letters: DeadLetters) -> None:
    payload = json.dumps({"ts": 1_764_000_000_123, "values": {"vibration": 2.5, "flow": 96}})
    readings = decoder.decode(TOPIC, payload.encode(), received_at=0.0)
    assert readings == [
        Reading("P-101", "vibration", 1_764_000_000.123, 2.5),
        Reading("P-101", "flow", 1_764_000_000.123, 96.0),
    ]
    assert letters.total == 0


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (1_764_000_000, 1_764_000_000.0),
        (1_764_000_000.5, 1_764_000_000.5),
        ("2025-11-24T16:00:00Z", 1_764_000_000.0),
        ("2025-11-24T17:00:00+01:00", 1_764_000_000.0),
        ("2025-11-24T16:00:00", 1_764_000_000.0),
        (None, 42.0),
    ],
)
def test_timestamp_forms(decoder: JsonDecoder, ts: object, expected: float) -> None:
    entry: dict[str, object] = {"values": {"flow": 1.0}}
    if ts is not None:
        entry["ts"] = ts
    [reading] = decoder.decode(TOPIC, json.dumps(entry).encode(), received_at=42.0)
    assert reading.ts == pytest.approx(expected)


def test_array_of_entries(decoder: JsonDecoder) -> None:
    payload = json.dumps([{"ts": 1, "values": {"flow": 1}}, {"ts": 2, "values": {"flow": 2}}])
    readings = decoder.decode(TOPIC, payload.encode(), 0.0)
    assert [(r.ts, r.value) for r in readings] == [(1.0, 1.0), (2.0, 2.0)]


@pytest.mark.parametrize(
    ("topic", "payload", "reason", "kept"),
    [
        (TOPIC, b"{not json", RejectReason.PARSE_ERROR, 0),
        (TOPIC, b"\xff\xfe", RejectReason.PARSE_ERROR, 0),
        (TOPIC, b'{"values": [1, 2]}', RejectReason.PARSE_ERROR, 0),
        (TOPIC, b'"just a string"', RejectReason.PARSE_ERROR, 0),
        (TOPIC, b'{"ts": "yesterday", "values": {"flow": 1}}', RejectReason.BAD_TIMESTAMP, 0),
        (TOPIC, b'{"ts": true, "values": {"flow": 1}}', RejectReason.BAD_TIMESTAMP, 0),
        (TOPIC, b'{"values": {"flow": "high", "vibration": 2}}', RejectReason.WRONG_TYPE, 1),
        (TOPIC, b'{"values": {"flow": true, "vibration": 2}}', RejectReason.WRONG_TYPE, 1),
        (TOPIC, b'{"values": {"flow": null, "vibration": 2}}', RejectReason.WRONG_TYPE, 1),
        (TOPIC, b'{"values": {"flow": NaN, "vibration": 2}}', RejectReason.NOT_FINITE, 1),
        (TOPIC, b'{"values": {"flow": Infinity, "vibration": 2}}', RejectReason.NOT_FINITE, 1),
        (TOPIC, b'{"values": {"speed": 1480, "vibration": 2}}', RejectReason.UNKNOWN_SIGNAL, 1),
        (
            "demo/treatment/line-9/P-999/telemetry",
            b'{"values": {"flow": 1}}',
            RejectReason.UNKNOWN_EQUIPMENT,
            0,
        ),
    ],
)
def test_bad_input_is_counted_and_set_aside(
    decoder: JsonDecoder,
    letters: DeadLetters,
    topic: str,
    payload: bytes,
    reason: RejectReason,
    kept: int,
) -> None:
    readings = decoder.decode(topic, payload, 7.0)
    assert len(readings) == kept
    assert letters.counts == {reason: 1}
    [sample] = letters.samples()
    assert (sample.reason, sample.topic, sample.payload, sample.received_at) == (
        reason,
        topic,
        payload,
        7.0,
    )
    assert sample.detail


def test_dead_letters_are_bounded_but_counts_are_not(
    decoder: JsonDecoder, letters: DeadLetters
) -> None:
    for _ in range(20):
        decoder.decode(TOPIC, b"garbage" * 200, 0.0)
    assert letters.counts[RejectReason.PARSE_ERROR] == 20
    assert len(letters.samples()) == 5
    assert all(len(s.payload) == DeadLetters.PAYLOAD_EXCERPT for s in letters.samples())


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(payload=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(demo_plant: Plant, payload: bytes) -> None:
    letters = DeadLetters()
    readings = JsonDecoder(demo_plant, letters.add).decode(TOPIC, payload, 0.0)
    assert readings or letters.total >= 1


@given(
    document=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "ts": json_values,
                "values": st.dictionaries(
                    st.sampled_from(["flow", "vibration", "bogus"]), json_values, max_size=3
                ),
            }
        ),
    )
)
def test_arbitrary_json_is_accepted_or_counted(demo_plant: Plant, document: object) -> None:
    letters = DeadLetters()
    payload = json.dumps(document).encode()
    readings = JsonDecoder(demo_plant, letters.add).decode(TOPIC, payload, 0.0)
    assert all(math.isfinite(r.value) and math.isfinite(r.ts) for r in readings)
    values = document.get("values") if isinstance(document, dict) else None
    if isinstance(values, dict) and values and not readings:
        assert letters.total >= 1
