"""Markdown table of the univariate benchmarks from pytest-benchmark's JSON output.

    python bench/univariate_table.py univariate.json

(`tests/detectors/test_bench_vector.py` says how to produce the JSON.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> None:
    runs = json.loads(Path(path).read_text())["benchmarks"]
    print("| vectorised bank | readings/s | ms per 50,000 readings | bytes per stream |")
    print("|---|---:|---:|---:|")
    for run in runs:
        if run["name"].startswith("test_bank_throughput"):
            info, stats = run["extra_info"], run["stats"]
            label = run["param"] or "family, streams in random order"
            print(
                f"| {label} | {info['readings_per_second'] / 1e6:.2f} M "
                f"| {stats['min'] * 1e3:.1f} | {info['bytes_per_stream']:.0f} |"
            )
    print()
    print("| object detector | µs per reading (score_one + learn_one) |")
    print("|---|---:|")
    for run in runs:
        if run["name"].startswith("test_object_detector_per_reading"):
            print(f"| {run['param']} | {run['extra_info']['microseconds_per_reading']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
