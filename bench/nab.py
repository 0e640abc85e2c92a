"""The Numenta Anomaly Benchmark on its seven realKnownCause files, as `forewarn score` scores them.

    python bench/nab.py [--nab DIR] [--detectors default,ewma_drift] [--ensemble a,b ...]
                        [--markdown FILE] [--update BENCHMARKS.md]

Each configuration (the default ensemble, then every univariate detector of the registry that
applies to a signal without limits, then each `--ensemble`) streams every file through a fresh
engine exactly as `forewarn score FILE` does: one equipment, one signal, each row scored before it
is learned. The anomaly scores are scored under NAB's three profiles, and the detector's own
alarms (`is_anomaly`, what would open a work order) under the standard profile. One threshold
per configuration and profile over the seven files, as NAB does; no parameter is tuned per file
or to these labels.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table as RichTable

from detectors import DEFAULT, REGISTRY, Detector
from devices import Limits, Signal
from forewarn.nab import (
    PROFILES,
    STANDARD,
    CorpusScore,
    NabFile,
    corpus_score,
    default_root,
    load_corpus,
)
from forewarn.offline import score_table

SECTION = "## NAB (realKnownCause)"
PUBLISHED = (
    ("ARTime", 66.45, 57.84, 72.37),
    ("Numenta HTM", 57.78, 50.43, 65.87),
    ("Random Cut Forest (AWS)", 50.33, 36.23, 58.39),
    ("Windowed Gaussian", 13.36, 9.86, 15.92),
)
"""From the NAB corpus notes (SCORING.md), computed the same way on the same seven files."""


@dataclass(frozen=True)
class Result:
    name: str
    detectors: tuple[str, ...]
    scores: tuple[CorpusScore, ...]
    """One per profile, of the anomaly scores."""
    alarms: CorpusScore
    """The standard profile, of the alarms."""
    seconds: float
    rows: int


def univariate_detectors() -> list[str]:
    """Registered per-signal detectors that apply to a signal with no limits (a bare CSV column)."""
    bare = Signal(name="value", unit="", sample_period=300.0, limits=Limits(), topic="", field="")
    return [
        name
        for name, cls in REGISTRY.items()
        if issubclass(cls, Detector) and cls.for_signal(bare) is not None
    ]


def run(
    name: str,
    detectors: tuple[str, ...],
    files: Sequence[NabFile],
    progress: Progress,
    task: TaskID,
) -> Result:
    scores, alarms = {}, {}
    started = time.perf_counter()
    for file in files:
        progress.update(task, description=f"{name}: {file.table.path.name}")
        result = score_table(
            file.table, detectors, on_progress=lambda rows: progress.advance(task, rows)
        )
        scores[file.labels.name] = result.scores
        alarms[file.labels.name] = result.raised.astype(float)
    seconds = time.perf_counter() - started
    labels = [f.labels for f in files]
    return Result(
        name=name,
        detectors=detectors,
        scores=tuple(corpus_score(labels, scores, profile) for profile in PROFILES),
        alarms=corpus_score(labels, alarms, STANDARD),
        seconds=seconds,
        rows=sum(len(f.table) for f in files),
    )


def markdown(results: Sequence[Result], command: str, revision: str) -> str:
    windows = sum(f.detected + f.missed for f in results[0].alarms.files)
    left_out = sorted(set(REGISTRY) - set(univariate_detectors()))
    intro = (
        f"Measured with `{command}` at {revision}. The seven `realKnownCause` files of the "
        f"Numenta Anomaly Benchmark ({results[0].rows:,} rows, {windows} anomaly windows), each "
        "streamed through a fresh engine exactly as `forewarn score FILE` does (one equipment, "
        "one signal, every row scored before it is learned). Scores are NAB's (reimplemented in "
        "`forewarn.nab` from `shared/datasets/nab/SCORING.md`): 0 never fires, 100 fires on the "
        "first row of every window and nowhere else; one threshold per detector and profile over "
        "the seven files. *alarms* scores the detector's own alarm decisions (`is_anomaly`, what "
        "would open a work order) under the standard profile. One configuration for all files, "
        "nothing tuned to these labels. NAB counts every row at or above the threshold as a "
        "detection, so a row's anomaly score is the engine's: the highest of its detectors' "
        "scores on one scale (each detector's own onset at 0.5), leaving out detectors whose "
        "condition is already active, so that an episode ranks at its start as its alarm is "
        "raised there. The default ensemble's `onset` (notices on signals without limits, "
        "`detectors/onset.py`) ranks the starts of unusual behaviour, each burst of evidence "
        "once (at its onset, or at its peak if it stays below the onset level); `ewma_drift` "
        "the slow departures. Re-run with "
        "`python bench/nab.py --update BENCHMARKS.md` (the NAB directory: `--nab DIR`, "
        "$FOREWARN_NAB, or `shared/datasets/nab` above the working directory)."
    )
    lines = [
        SECTION,
        "",
        textwrap.fill(intro, width=100, break_on_hyphens=False),
        "",
        *(
            [
                f"Not run alone: {', '.join(left_out)} (equipment-level, or needs what a bare "
                "CSV column lacks, such as limits).",
                "",
            ]
            if left_out
            else []
        ),
        "| detector | standard | reward low FP | reward low FN | alarms (standard) | "
        "windows caught by alarms | false alarms | rows/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        standard, low_fp, low_fn = (s.normalised for s in r.scores)
        caught = sum(f.detected for f in r.alarms.files)
        false = sum(f.false_positives for f in r.alarms.files)
        label = f"{r.name} ({', '.join(r.detectors)})" if r.name == "default" else r.name
        lines.append(
            f"| {label} | {standard:.2f} | {low_fp:.2f} | {low_fn:.2f} | "
            f"{r.alarms.normalised:.2f} | {caught}/{windows} | {false} | "
            f"{r.rows / max(r.seconds, 1e-9):,.0f} |"
        )
    lines += [
        "",
        "Per file, the default ensemble (anomaly score at its standard-profile threshold "
        f"{results[0].scores[0].threshold:.4g}; alarms):",
        "",
        "| file | windows | caught (score) | false positives (score) | caught (alarms) | "
        "false alarms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for by_score, by_alarm in zip(results[0].scores[0].files, results[0].alarms.files, strict=True):
        total = by_score.detected + by_score.missed
        lines.append(
            f"| {by_score.name.split('/')[-1]} | {total} | {by_score.detected} | "
            f"{by_score.false_positives} | {by_alarm.detected} | {by_alarm.false_positives} |"
        )
    published = (
        "Published detectors on the same files, scored the same way (SCORING.md): "
        + "; ".join(f"{n} {s:.2f} / {fp:.2f} / {fn:.2f}" for n, s, fp, fn in PUBLISHED)
        + " (standard / low FP / low FN). The target for forewarn's default ensemble is a "
        "standard score above 66.5."
    )
    lines += ["", textwrap.fill(published, width=100, break_on_hyphens=False), ""]
    return "\n".join(lines)


def update_section(path: Path, section: str) -> None:
    """Replace the NAB section of `path` (up to the next `## ` heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def print_table(console: Console, results: Sequence[Result]) -> None:
    table = RichTable(
        "detector",
        "standard",
        "low FP",
        "low FN",
        "alarms",
        "threshold",
        "seconds",
        title="NAB realKnownCause (normalised: 0 null, 100 perfect)",
    )
    for r in results:
        table.add_row(
            r.name,
            *(f"{s.normalised:.2f}" for s in r.scores),
            f"{r.alarms.normalised:.2f}",
            f"{r.scores[0].threshold:.4g}",
            f"{r.seconds:.1f}",
        )
    console.print(table)


def revision() -> str:
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "an unknown revision"
    return f"commit {described.stdout.strip()}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nab", type=Path, default=None, help="The NAB directory.")
    parser.add_argument(
        "--detectors",
        default=None,
        help="Comma-separated configurations: 'default' and registry names (default: all).",
    )
    parser.add_argument(
        "--ensemble",
        action="append",
        default=[],
        help="A comma-separated ensemble of registry names to run as one configuration "
        "(repeatable), e.g. likelihood,ewma_drift.",
    )
    parser.add_argument("--markdown", type=Path, help="Write the Markdown section here.")
    parser.add_argument("--update", type=Path, help="Replace the NAB section of this file.")
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    root = args.nab or default_root()
    if root is None:
        console.print("no NAB directory: pass --nab or set FOREWARN_NAB")
        return 2
    files = load_corpus(root)
    names = args.detectors.split(",") if args.detectors else ["default", *univariate_detectors()]
    configurations = [(n, DEFAULT if n == "default" else (n,)) for n in names]
    for ensemble in args.ensemble:
        members = tuple(ensemble.split(","))
        configurations.append(("+".join(members), members))
    rows = sum(len(f.table) for f in files)
    results = []
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("scoring", total=rows * len(configurations))
        for name, detectors in configurations:
            results.append(run(name, tuple(detectors), files, progress, task))
    print_table(console, results)
    command = "python bench/nab.py" + (f" --detectors {args.detectors}" if args.detectors else "")
    command += "".join(f" --ensemble {e}" for e in args.ensemble)
    section = markdown(results, command, revision())
    if args.markdown:
        args.markdown.write_text(section, encoding="utf-8")
    if args.update:
        update_section(args.update, section)
        console.print(f"updated {args.update}")
    if not args.markdown and not args.update:
        console.print(section, markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
