"""The Numenta Anomaly Benchmark: its corpus and its score, to measure detectors against."""

from forewarn.nab.corpus import KNOWN_CAUSE, NabFile, default_root, load_corpus
from forewarn.nab.scoring import (
    PROFILES,
    REWARD_LOW_FN,
    REWARD_LOW_FP,
    STANDARD,
    CorpusScore,
    FileScore,
    LabelledFile,
    NabError,
    Profile,
    corpus_score,
    file_score,
    probation,
    row_weights,
    scaled_sigmoid,
    window_rows,
)

__all__ = [
    "KNOWN_CAUSE",
    "PROFILES",
    "REWARD_LOW_FN",
    "REWARD_LOW_FP",
    "STANDARD",
    "CorpusScore",
    "FileScore",
    "LabelledFile",
    "NabError",
    "NabFile",
    "Profile",
    "corpus_score",
    "default_root",
    "file_score",
    "load_corpus",
    "probation",
    "row_weights",
    "scaled_sigmoid",
    "window_rows",
]
