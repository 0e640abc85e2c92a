"""The msgspec fast path of `JsonDecoder.decode` against its `json.loads` reference path: the same
readings (to the bit) and the same rejects (reason, detail, payload) on every input, hostile or not;
and it really is the path taken for well-formed payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.json import decode as msgspec_decode

from devices import ColumnSink, Plant, Reading, plant_from_dict
from ingest import JsonDecoder, Reject, RejectReason
from ingest.payload import _fast

VALUES_TOPIC = "demo/treatment/line-1/P-101/telemetry"
NESTED_TS_TOPIC = "acme/a/l/P-3/telemetry"
VALUE_TOPIC = "acme/a/l/P-1/flow"
PATHS_TOPIC = "legacy/P-2"
TOPICS = [VALUES_TOPIC, NESTED_TS_TOPIC, VALUE_TOPIC, PATHS_TOPIC, "nobody/home"]


def _equipment(eq_id: str, mqtt: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": eq_id, "type": "centrifugal_pump", "team": "m", **extra}
    if mqtt is not None:
        spec["mqtt"] = mqtt
    return spec


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
                        _equipment("P-1"),
                        _equipment(
                            "P-2",
                            {"format": "paths", "topic": "legacy/{equipment}"},
                            signals={
                                "flow": {"mqtt": {"field": "data.q[1]"}},
                                "vibration": {"mqtt": {"field": "data.vib"}},
                            },
                        ),
                        _equipment(
                            "P-3",
                            {
                                "format": "values",
                                "topic": "{site}/{area}/{line}/{equipment}/telemetry",
                                "timestamp_field": "meta.time[0]",
                                "timestamp_unit": "ms",
                            },
                        ),
                    ],
                }
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def plants(demo_plant: Plant) -> dict[str, Plant]:
    acme = plant_from_dict(PLANT)
    return {VALUES_TOPIC: demo_plant, "nobody/home": demo_plant} | {
        t: acme for t in (NESTED_TS_TOPIC, VALUE_TOPIC, PATHS_TOPIC)
    }


Outcome = tuple[list[tuple[object, ...]], list[Reject]]


def _exact(reading: Reading) -> tuple[object, ...]:
    """Equality that also tells 0.0 from -0.0, an int from a float, and NaN from NaN."""
    fields = (reading.equipment_id, reading.signal, reading.ts, reading.value)
    return (type(reading), *(repr(f) for f in fields), *map(type, fields), reading.quality)


def both(plant: Plant, topic: str, payload: bytes) -> tuple[Outcome, Outcome]:
    fast_rejects: list[Reject] = []
    reference_rejects: list[Reject] = []
    fast = JsonDecoder(plant, fast_rejects.append).decode(topic, payload, 1_764_000_000.5)
    reference = JsonDecoder(plant, reference_rejects.append).decode_reference(
        topic, payload, 1_764_000_000.5
    )
    return ([_exact(r) for r in fast], fast_rejects), (
        [_exact(r) for r in reference],
        reference_rejects,
    )


def assert_same(plants: dict[str, Plant], topic: str, payload: bytes) -> None:
    fast, reference = both(plants[topic], topic, payload)
    assert fast == reference


DEEP = 995
"""Nesting that msgspec reads and `json.loads` (in a pytest stack) refuses as too deep."""
CORPUS = [
    b'{"ts": 1764000000123, "values": {"vibration": 2.5, "flow": 96}}',
    b'[{"ts": 1, "values": {"flow": 1}}, {"ts": 2, "values": {"flow": 2.0}}]',
    b'{"ts": "2025-11-24T17:00:00+01:00", "values": {"flow": -0.0, "vibration": -0}}',
    b'{"ts": "yesterday", "values": {"flow": 1}}',
    b'{"ts": true, "values": {"flow": 1}}',
    b'{"ts": [1], "values": {"flow": 1}}',
    b'{"ts": -5, "values": {"flow": 1}}',
    b'{"ts": 1e400, "values": {"flow": 1}}',
    b'{"ts": 1' + b"0" * 400 + b', "values": {"flow": 1}}',
    b'{"values": {"flow": "high", "vibration": true, "bearing_temp": null, "speed": 3}}',
    b'{"values": {"flow": [1, {"a": [2]}], "vibration": {"x": 1}}}',
    b'{"values": {"flow": NaN, "vibration": 2}}',
    b'{"values": {"flow": Infinity, "vibration": -Infinity}}',
    b'{"values": {"flow": 1e400}}',
    b'{"values": {"vibration": 1' + b"0" * 399 + b', "flow": 2}}',
    b'{"values": {"vibration": -1' + b"0" * 399 + b"}}",
    b'{"values": {"vibration": 18446744073709551615, "flow": -18446744073709551616}}',
    b'{"values": {"vibration": 1' + b"0" * 4400 + b"}}",
    b'{"values": {"flow": 1}, "note": 1' + b"0" * 4400 + b"}",
    b'{"values": {"flow": 1}, "note": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    b'{"values": {"vibration": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
    b'{"values": {"vibration": ' + b"[" * 900 + b"]" * 900 + b"}}",
    b'{"ts": "x", "values": {"flow": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
    b'{"values": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    b"[" * DEEP + b"]" * DEEP,
    b'{"values": {"vibration": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    b'{"values": {"flow": 1, "flow": 2, "vibration": 3}, "values": {"flow": 4}}',
    b'{"values": {"\\ud800": 1, "flow": "\\udfff"}}',
    b'{"values": {"fl\\u006fw": 1.5}}',
    b'\xef\xbb\xbf{"values": {"flow": 1}}',
    '{"values": {"flow": 1}}'.encode("utf-16"),
    '{"values": {"flow": 1}}'.encode("utf-32-le"),
    b'{"values": {"flow": 1}}\n\t ',
    b'{"values": {"flow": 1}} x',
    b'{"values": {"flow": 01}}',
    b'{"values": {"flow": 1.}}',
    b'{"values": {"flow": "\x00"}}',
    b'{"values": {"flow": 0.1000000000000000055511151231257827, "vibration": 4.9e-324}}',
    b'{"values": {"flow": 1.7976931348623157e308, "vibration": 2.2250738585072011e-308}}',
    b'{"values": [1, 2]}',
    b'{"values": null}',
    b'{"ts": 5}',
    b'"just a string"',
    b"[]",
    b"[[]]",
    b"{}",
    b"[1, true, null, {}]",
    b"96.5",
    b"-0",
    b"true",
    b"18446744073709551616",
    b'[1, {"ts": 5, "value": 2}, {"ts": 5, "v": 2}, {"value": "x"}, {"value": [1]}]',
    b'{"ts": 1700000000000, "value": 3, "extra": {"deep": [[[1]]]}}',
    b'{"meta": {"time": [1700000000000]}, "values": {"flow": 1, "vibration": 2}}',
    b'{"meta": {"time": ["1700000000000"]}, "values": {"flow": 1}}',
    b'{"meta": {"time": 5}, "values": {"flow": 1}}',
    b'{"meta": {"time": [1, 2]}, "data": {"q": [0, 97.5], "vib": 2.25}}',
    b'{"data": {"vib": "x", "q": [0, 1]}}',
    b"",
    b" ",
    b"\xff\xfe",
    b"{not json",
]


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _parses(parse: Any, payload: bytes) -> bool:
    try:
        parse(payload)
    except RecursionError:
        return False
    return True


def test_nesting_near_the_recursion_limit_decodes_alike(plants: dict[str, Plant]) -> None:
    """The two parsers give up at slightly different depths, both relative to the caller's stack:
    some depth in this range is read by msgspec and refused by `json.loads`."""
    depths = range(700, 1000)
    assert any(
        _parses(msgspec_decode, _nested(d)) != _parses(json.loads, _nested(d)) for d in depths
    )
    for depth in depths:
        for template in (
            b'{"values": {"flow": 1}, "note": %s}',
            b'{"values": {"flow": 1, "vibration": %s}}',
            b'{"ts": "x", "values": {"flow": %s}}',
            b'[{"values": {"flow": 1}}, %s]',
        ):
            assert_same(plants, VALUES_TOPIC, template % _nested(depth))
        assert_same(plants, VALUE_TOPIC, b'{"value": 1, "note": %s}' % _nested(depth))


@pytest.mark.parametrize("payload", CORPUS, ids=range(len(CORPUS)))
@pytest.mark.parametrize("topic", TOPICS)
def test_the_corpus_decodes_alike(plants: dict[str, Plant], topic: str, payload: bytes) -> None:
    assert_same(plants, topic, payload)


def test_the_corpus_rejects_every_reason_the_decoder_has(plants: dict[str, Plant]) -> None:
    """The corpus is not trivially equal: it makes both paths reject for every JSON reason."""
    reasons: set[RejectReason] = set()
    for topic in TOPICS:
        for payload in CORPUS:
            reasons |= {r.reason for r in both(plants[topic], topic, payload)[1][1]}
    assert reasons == {
        RejectReason.PARSE_ERROR,
        RejectReason.BAD_TIMESTAMP,
        RejectReason.WRONG_TYPE,
        RejectReason.NOT_FINITE,
        RejectReason.NUMBER_OUT_OF_RANGE,
        RejectReason.UNKNOWN_EQUIPMENT,
        RejectReason.UNKNOWN_SIGNAL,
    }


FAST = [
    (VALUES_TOPIC, b'{"ts": 1764000000123, "values": {"vibration": 2.5, "flow": 96}}', 2, 0),
    (VALUES_TOPIC, b'[{"ts": 1, "values": {"flow": 1}}, {"ts": 2, "values": {"flow": 2}}]', 2, 0),
    (VALUES_TOPIC, b'{"values": {"flow": "high", "vibration": 2, "speed": null}}', 1, 2),
    (VALUES_TOPIC, b'{"ts": "yesterday", "values": {"flow": 1}}', 0, 1),
    (VALUES_TOPIC, b'{"values": [1, 2]}', 0, 1),
    (NESTED_TS_TOPIC, b'{"meta": {"time": [1700000000000]}, "values": {"flow": 1}}', 1, 0),
    (VALUE_TOPIC, b"96.5", 1, 0),
    (VALUE_TOPIC, b'[1, {"ts": 5, "value": 2}, {"ts": 5, "v": 2}, true]', 2, 2),
]


@pytest.mark.parametrize(("topic", "payload", "readings", "rejects"), FAST)
def test_well_formed_payloads_and_common_mistakes_take_the_fast_path(
    plants: dict[str, Plant], topic: str, payload: bytes, readings: int, rejects: int
) -> None:
    plant = plants[topic]
    routes = plant.routes(topic)
    assert routes is not None
    sink = ColumnSink(plant.streams)
    decoded = _fast(payload, 0.0, routes, plant.topic_format(topic), sink)
    assert decoded is not None
    assert (len(sink), len(decoded)) == (readings, rejects)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"values": {"flow": NaN}}',
        b'{"values": {"flow": 1e400}}',
        b'{"values": {"flow": 1' + b"0" * 399 + b"}}",
        b'{"values": {"flow": 1}, "note": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b'{"ts": "x", "values": {"flow": ' + b"[" * 40 + b"]" * 40 + b"}}",
        b'\xef\xbb\xbf{"values": {"flow": 1}}',
        b'{"values": {"\\ud800": 1}}',
        b"[]",
        b"{not json",
    ],
)
def test_what_only_json_loads_can_say_goes_to_the_reference_path(
    plants: dict[str, Plant], payload: bytes
) -> None:
    plant = plants[VALUES_TOPIC]
    routes = plant.routes(VALUES_TOPIC)
    assert routes is not None
    sink = ColumnSink(plant.streams)
    sink.append(0, 1.0, 2.0)
    assert _fast(payload, 0.0, routes, plant.topic_format(VALUES_TOPIC), sink) is None
    assert sink.readings() == [Reading(*plant.streams[0], 1.0, 2.0)]  # as it was


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.integers(min_value=-(2**64) - 2, max_value=-(2**63) + 2),
    st.sampled_from([10**399, -(10**399), 2**1024, 1_764_000_000_123, "2025-11-24T16:00:00Z"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
json_doc = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ts", "values", "value", "flow", "vibration", "meta", "time", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
entry = st.fixed_dictionaries(
    {"values": st.dictionaries(st.sampled_from(["flow", "vibration", "bogus"]), json_leaf)},
    optional={"ts": json_leaf, "meta": st.fixed_dictionaries({"time": st.lists(json_leaf)})},
)
documents = st.one_of(json_doc, entry, st.lists(entry, max_size=4))
number_text = st.from_regex(
    r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)


@given(document=documents, topic=st.sampled_from(TOPICS))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_any_document_decodes_alike(plants: dict[str, Plant], document: object, topic: str) -> None:
    assert_same(plants, topic, json.dumps(document).encode())


@given(numbers=st.lists(number_text, min_size=1, max_size=5), ts=number_text)
def test_any_number_text_decodes_to_the_same_float(
    plants: dict[str, Plant], numbers: list[str], ts: str
) -> None:
    values = ", ".join(
        f'"{name}": {text}'
        for name, text in zip(
            ["flow", "vibration", "x", "bearing_temp", "motor_current"], numbers, strict=False
        )
    )
    assert_same(plants, VALUES_TOPIC, f'{{"ts": {ts}, "values": {{{values}}}}}'.encode())
    assert_same(plants, VALUE_TOPIC, numbers[0].encode())


@given(payload=st.binary(max_size=200), topic=st.sampled_from(TOPICS))
def test_any_bytes_decode_alike(plants: dict[str, Plant], payload: bytes, topic: str) -> None:
    assert_same(plants, topic, payload)


@given(
    text=st.text(alphabet=st.sampled_from('{}[]":,.-+eE0123456789 \\u\ud800tnrfalsu'), max_size=60),
    topic=st.sampled_from(TOPICS),
)
def test_any_json_like_text_decodes_alike(plants: dict[str, Plant], text: str, topic: str) -> None:
    assert_same(plants, topic, text.encode("utf-8", "surrogatepass"))
