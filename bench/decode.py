"""Payload decoding on one core: MQTT messages -> `Reading`s, without a broker.

    python bench/decode.py [--rounds 7] [--seconds 0.5] [--json results.json]

For each payload kind the same messages are decoded by forewarn's decoder and, in the same run,
by baselines that build no readings: `json.loads` and `msgspec.json.decode` of the JSON payloads,
`FromString` of the Sparkplug B protobuf (upb) with one pass over the metrics' values. When the
decoder keeps its reference path (`JsonDecoder.decode_reference`), that is measured too. Each
figure is the best of `--rounds` rounds of at least `--seconds` of the process's CPU time each (on
a shared machine, wall-clock time also counts other jobs' time slices; `--wall` times by it).
Prints a Markdown table of readings per second.

Run it against another checkout (e.g. `git worktree add /tmp/base main`) with
`PYTHONPATH=/tmp/base python bench/decode.py` for a before/after on the same machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from devices import Plant, plant_from_dict
from devices.sparkplug import BDSEQ, DataType, Metric, Payload, encode_payload
from devices.sparkplug import sparkplug_b_pb2 as pb
from ingest import DeadLetters, JsonDecoder, SparkplugHost

SITE, AREA, LINE, EQUIPMENT = "bench", "area", "line", "M-1"
SIGNALS = tuple(f"s{i:02d}" for i in range(50))
"""A machine with 50 signals (a PLC's worth of tags)."""
T0 = 1_764_000_000_000
JSON_TOPIC = f"{SITE}/{AREA}/{LINE}/{EQUIPMENT}/telemetry"
SPARKPLUG_DEVICE = f"spBv1.0/{SITE}/{{}}/{AREA}-{LINE}/{EQUIPMENT}"
SPARKPLUG_NODE = f"spBv1.0/{SITE}/{{}}/{AREA}-{LINE}"


def bench_plant(value_per_topic: bool = False) -> Plant:
    mqtt: dict[str, object] = {"topic": "{site}/{area}/{line}/{equipment}/telemetry"}
    if value_per_topic:
        mqtt["format"] = "value"
    return plant_from_dict(
        {
            "site": {"id": SITE},
            "mqtt": mqtt,
            "areas": [
                {
                    "id": AREA,
                    "lines": [
                        {
                            "id": LINE,
                            "equipment": [
                                {
                                    "id": EQUIPMENT,
                                    "type": "induction_motor",
                                    "team": "t",
                                    "signals": {s: {"unit": "mm/s"} for s in SIGNALS},
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )


def value(i: int, k: int) -> float:
    return round(20.0 + (i * 7 + k * 13) % 500 * 0.137, 3)


@dataclass
class Kind:
    name: str
    messages: list[tuple[str, bytes]]
    readings: int
    """Readings the messages decode into (checked before timing)."""


def json_batched(count: int) -> Kind:
    messages = [
        (
            JSON_TOPIC,
            json.dumps(
                {"ts": T0 + i * 1000, "values": {s: value(i, k) for k, s in enumerate(SIGNALS)}}
            ).encode(),
        )
        for i in range(count)
    ]
    return Kind(f"JSON {{ts, values}}, {len(SIGNALS)} values", messages, count * len(SIGNALS))


def json_list(count: int, entries: int = 10) -> Kind:
    messages = [
        (
            JSON_TOPIC,
            json.dumps(
                [
                    {
                        "ts": T0 + (i * entries + e) * 1000,
                        "values": {s: value(i + e, k) for k, s in enumerate(SIGNALS[:5])},
                    }
                    for e in range(entries)
                ]
            ).encode(),
        )
        for i in range(count)
    ]
    return Kind(f"JSON list of {entries} x {{ts, 5 values}}", messages, count * entries * 5)


def json_single(count: int) -> Kind:
    messages = [
        (
            f"{SITE}/{AREA}/{LINE}/{EQUIPMENT}/{SIGNALS[i % len(SIGNALS)]}",
            b'{"ts":%d,"value":%.3f}' % (T0 + i * 1000, value(i, 0)),
        )
        for i in range(count)
    ]
    return Kind("JSON one value per message", messages, count)


def sparkplug_messages(count: int, metrics: int) -> Kind:
    """NBIRTH and DBIRTH, then DDATA by alias with `metrics` metrics each (in seq order)."""
    names = SIGNALS[:metrics]
    births = [
        (
            SPARKPLUG_NODE.format("NBIRTH"),
            encode_payload(Payload(T0, (Metric(BDSEQ, datatype=DataType.INT64, value=0),), seq=0)),
        ),
        (
            SPARKPLUG_DEVICE.format("DBIRTH"),
            encode_payload(
                Payload(
                    T0,
                    tuple(
                        Metric(s, k + 1, datatype=DataType.DOUBLE, value=0.0)
                        for k, s in enumerate(names)
                    ),
                    seq=1,
                )
            ),
        ),
    ]
    data = [
        (
            SPARKPLUG_DEVICE.format("DDATA"),
            encode_payload(
                Payload(
                    T0 + i * 1000,
                    tuple(
                        Metric(alias=k + 1, datatype=DataType.DOUBLE, value=value(i, k))
                        for k in range(metrics)
                    ),
                    seq=(i + 2) % 256,
                )
            ),
        )
        for i in range(count)
    ]
    return Kind(f"Sparkplug B DDATA, {metrics} metrics by alias", births + data, count * metrics)


def best_rate(
    run: Callable[[], int], rounds: int, seconds: float, clock: Callable[[], float]
) -> float:
    """Best readings/s over `rounds` rounds, each repeating `run` for at least `seconds`."""
    best = 0.0
    for _ in range(rounds):
        done = 0
        start = clock()
        while True:
            done += run()
            elapsed = clock() - start
            if elapsed >= seconds:
                break
        best = max(best, done / elapsed)
    return best


def json_runs(kind: Kind, plant: Plant) -> dict[str, Callable[[], int]]:
    letters = DeadLetters()
    decoder = JsonDecoder(plant, letters.add)
    payloads = [payload for _, payload in kind.messages]
    assert sum(len(decoder.decode(t, p, 0.0)) for t, p in kind.messages) == kind.readings
    assert letters.total == 0, letters.counts

    def forewarn() -> int:
        decode = decoder.decode
        return sum(len(decode(t, p, 0.0)) for t, p in kind.messages)

    per_message = kind.readings / len(payloads)

    def plain_json() -> int:
        loads = json.loads
        for p in payloads:
            loads(p)
        return kind.readings

    def plain_msgspec() -> int:
        decode = msgspec.json.Decoder().decode
        for p in payloads:
            decode(p)
        return round(len(payloads) * per_message)

    runs = {"forewarn": forewarn}
    reference = getattr(decoder, "decode_reference", None)
    if reference is not None:

        def before() -> int:
            return sum(len(reference(t, p, 0.0)) for t, p in kind.messages)

        runs["reference path"] = before
    runs["json.loads only"] = plain_json
    runs["msgspec decode only"] = plain_msgspec
    return runs


def sparkplug_runs(kind: Kind, plant: Plant) -> dict[str, Callable[[], int]]:
    births, data = kind.messages[:2], kind.messages[2:]

    def host_after_births() -> SparkplugHost:
        host = SparkplugHost(plant, DeadLetters().add, host_id="bench")
        for topic, payload in births:
            host.handle(topic, payload, 0.0)
        return host

    letters = DeadLetters()
    host = SparkplugHost(plant, letters.add, host_id="bench")
    for topic, payload in births:
        host.handle(topic, payload, 0.0)
    produced = 0
    for topic, payload in data:
        readings, outgoing = host.handle(topic, payload, 0.0)
        produced += len(readings)
        assert not outgoing
    assert produced == kind.readings, produced
    assert letters.total == 0, letters.counts

    def forewarn() -> int:
        host = host_after_births()
        handle = host.handle
        return sum(len(handle(t, p, 0.0)[0]) for t, p in data)

    def protobuf_only() -> int:
        parse = pb.Payload.FromString
        done = 0
        for _, p in data:
            for m in parse(p).metrics:
                m.double_value  # noqa: B018
                done += 1
        return done

    return {"forewarn": forewarn, "protobuf parse + values only": protobuf_only}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--wall",
        action="store_true",
        help="time by the wall clock (default: the process's CPU time, which time slices given "
        "to other jobs on a shared machine do not inflate)",
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.process_time
    count = args.messages
    plant, single_plant = bench_plant(), bench_plant(value_per_topic=True)
    kinds = [
        (json_batched(count), json_runs, plant),
        (json_list(count), json_runs, plant),
        (json_single(count * 10), json_runs, single_plant),
        (sparkplug_messages(count, 50), sparkplug_runs, plant),
        (sparkplug_messages(count * 5, 5), sparkplug_runs, plant),
    ]
    from google.protobuf.internal import api_implementation

    print(
        f"Python {platform.python_version()}, protobuf {api_implementation.Type()}, "
        f"msgspec {msgspec.__version__}; best of {args.rounds} x {args.seconds} s "
        f"of {'wall-clock' if args.wall else 'CPU'} time\n"
    )
    print("| payload | decoder | readings/s | vs forewarn |")
    print("|---|---|---:|---:|")
    results: list[dict[str, object]] = []
    for kind, runs_of, kind_plant in kinds:
        runs = runs_of(kind, kind_plant)
        rates = {
            name: best_rate(run, args.rounds, args.seconds, clock) for name, run in runs.items()
        }
        for name, rate in rates.items():
            ratio = rate / rates["forewarn"]
            print(f"| {kind.name} | {name} | {rate:,.0f} | {ratio:.2f} |")
            results.append({"payload": kind.name, "decoder": name, "readings_per_s": rate})
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"args": vars(args), "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
