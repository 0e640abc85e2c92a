"""EWMA rates from half-lives, shared by the object detectors and their vectorised twins."""

from __future__ import annotations


def halflife_rate(halflife: float) -> float:
    """The EWMA weight of a new sample that halves an old one's weight every `halflife` samples."""
    return float(1.0 - 0.5 ** (1.0 / halflife))
