"""What the intake checks cost a reading: a decoder's appends to a sink and
`Validator.admit_columns` on them, one message at a time, as the MQTT source runs them.

    python bench/intake_checks.py [--plant PLANT] [--messages 2000] [--per-message 50] [--rounds 5]

`--messages` messages of `--per-message` readings, spread over the plant's streams, each
stamped later than the last of its stream (nothing is rejected), with the real time window of
`IntakeLimits()`; best of `--rounds`. Compare another checkout with `PYTHONPATH=that/checkout
python bench/intake_checks.py`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from devices import ColumnSink, load_plant
from ingest.validate import IntakeLimits, Validator

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plant", type=Path, default=ROOT / "simulators/scenarios/plants/benchmark-50.yaml"
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--per-message", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    keys = load_plant(args.plant).streams
    streams = len(keys)
    readings = args.messages * args.per_message
    best = float("inf")
    for round_ in range(args.rounds):
        validator = Validator(IntakeLimits(), lambda reject: None)
        began = time.perf_counter()
        for m in range(args.messages):
            sink = ColumnSink(keys)
            sent = 1.7e9 + m * 10.0
            for i in range(args.per_message):
                sink.append((m * 7 + i) % streams, sent + i * 0.1, 1.0)
            validator.admit_columns(sink, 0, "bench", b"", sent + 5.0)
            assert len(sink) == args.per_message
        took = time.perf_counter() - began
        best = min(best, took)
        print(f"round {round_ + 1}/{args.rounds}: {took / readings * 1e9:.0f} ns a reading")
    print(
        f"{readings:,} readings of {streams} streams, {args.per_message} a message: "
        f"best {best / readings * 1e9:.0f} ns a reading (append + admit_columns)"
    )


if __name__ == "__main__":
    main()
