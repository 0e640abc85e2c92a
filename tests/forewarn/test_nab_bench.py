"""bench/nab.py end to end on a tiny corpus laid out like NAB's, and its BENCHMARKS.md update."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "nab.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_nab", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


def tiny_corpus(root: Path) -> Path:
    data = root / "data" / "realKnownCause"
    data.mkdir(parents=True)
    lines = ["timestamp,value"]
    for i in range(400):
        minutes = 5 * i
        stamp = f"2014-01-{1 + minutes // 1440:02d} {minutes // 60 % 24:02d}:{minutes % 60:02d}:00"
        lines.append(f"{stamp},{10 + math.sin(i / 7) + (30 if 300 <= i < 320 else 0)}")
    (data / "tiny.csv").write_text("\n".join(lines) + "\n")
    labels = root / "labels"
    labels.mkdir()
    window = [["2014-01-02 01:00:00.000000", "2014-01-02 02:35:00.000000"]]
    (labels / "combined_windows.json").write_text(json.dumps({"realKnownCause/tiny.csv": window}))
    return root


def test_the_bench_scores_a_corpus_and_writes_its_section(
    bench: ModuleType, tmp_path: Path
) -> None:
    root = tiny_corpus(tmp_path / "nab")
    out = tmp_path / "nab.md"
    assert bench.main(["--nab", str(root), "--detectors", "default", "--markdown", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("## NAB (realKnownCause)\n")
    assert "400 rows, 1 anomaly windows" in text
    # The default ensemble raises its alarm on the jump's first row, the window's, and nowhere
    # else: 100 on every profile, by score and by alarm.
    assert "| tiny.csv | 1 | 1 | 0 | 1 | 0 |" in text
    default = next(line for line in text.splitlines() if line.startswith("| default ("))
    assert default.split(" | ")[1:5] == ["100.00"] * 4


def test_the_section_is_replaced_and_the_others_kept(bench: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    before, after = "# Benchmarks\n\n## Before\n\nkept\n\n", "## After\n\nkept too\n"
    path.write_text(f"{before}## NAB (realKnownCause)\n\nold\n\n{after}")
    bench.update_section(path, "## NAB (realKnownCause)\n\nnew\n")
    assert path.read_text() == f"{before}## NAB (realKnownCause)\n\nnew\n\n{after}"
    fresh = tmp_path / "fresh.md"
    bench.update_section(fresh, "## NAB (realKnownCause)\n\nnew\n")
    assert fresh.read_text() == "# Benchmarks\n\n## NAB (realKnownCause)\n\nnew\n"
