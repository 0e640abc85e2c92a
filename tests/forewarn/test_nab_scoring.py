"""The NAB score: hand-computed cases, the threshold sweep, and the null and perfect detectors on
the real corpus."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from forewarn.nab import (
    PROFILES,
    REWARD_LOW_FN,
    REWARD_LOW_FP,
    STANDARD,
    LabelledFile,
    NabError,
    corpus_score,
    default_root,
    file_score,
    load_corpus,
    probation,
    row_weights,
    scaled_sigmoid,
    window_rows,
)

# 100 rows: probation is rows 0..14; one window on rows 40..49 (width 10).
FILE = LabelledFile("toy.csv", 100, ((40, 49),))


def detections(*rows: int, n: int = 100) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[list(rows)] = True
    return flags


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation(100) == 15
    assert probation(4032) == 604
    assert probation(22695) == 750


def test_scaled_sigmoid_values() -> None:
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(-1.0) == pytest.approx(math.tanh(2.5))
    assert scaled_sigmoid(3.0) == pytest.approx(-math.tanh(7.5))
    assert scaled_sigmoid(3.01) == -1.0


def test_detection_on_the_first_row_of_a_window_earns_a_tp() -> None:
    score = file_score(FILE, detections(40), STANDARD)
    assert score.score == pytest.approx(1.0)
    assert (score.detected, score.missed, score.false_positives) == (1, 0, 0)


def test_later_detections_in_a_window_earn_less_and_only_the_earliest_counts() -> None:
    last_row = math.tanh(0.25) / math.tanh(2.5)  # s(-1/10) / s(-1)
    assert file_score(FILE, detections(49), STANDARD).score == pytest.approx(last_row)
    assert file_score(FILE, detections(40, 45, 49), STANDARD).score == pytest.approx(1.0)


def test_a_missed_window_costs_a_fn() -> None:
    assert file_score(FILE, detections(), STANDARD).score == pytest.approx(-1.0)
    assert file_score(FILE, detections(), REWARD_LOW_FN).score == pytest.approx(-2.0)


def test_false_positives_before_just_after_and_far_after_a_window() -> None:
    before = file_score(FILE, detections(20, 40), STANDARD)
    assert before.score == pytest.approx(1.0 - 0.11)
    assert before.false_positives == 1
    just_after = 0.11 * scaled_sigmoid(1 / 9)  # (i - R') / (W' - 1)
    assert file_score(FILE, detections(40, 50), STANDARD).score == pytest.approx(1.0 + just_after)
    assert just_after == pytest.approx(-0.11 * math.tanh(5 / 18))
    assert file_score(FILE, detections(40, 90), REWARD_LOW_FP).score == pytest.approx(1.0 - 0.22)


def test_detections_during_probation_are_ignored() -> None:
    assert file_score(FILE, detections(0, 5, 14), STANDARD).score == pytest.approx(-1.0)
    assert math.isnan(row_weights(FILE, STANDARD)[14])
    assert row_weights(FILE, STANDARD)[15] == pytest.approx(-0.11)


def test_the_threshold_maximises_the_corpus_total_and_prefers_the_highest_on_a_tie() -> None:
    other = LabelledFile("other.csv", 100, ((60, 69),))
    scores = {
        "toy.csv": np.where(detections(40), 0.9, 0.1) + np.where(detections(80), 0.5, 0.0),
        "other.csv": np.where(detections(60), 0.7, 0.2),
    }
    result = corpus_score([FILE, other], scores, STANDARD)
    # At 0.7 both windows are caught; 0.6 (the FP at row 80) would cost 0.11; 0.2 costs far more.
    assert result.threshold == pytest.approx(0.7)
    assert result.raw == pytest.approx(2.0)
    assert result.normalised == pytest.approx(100.0)
    assert [f.detected for f in result.files] == [1, 1]

    # A later row of a caught window adds nothing: 0.5 ties with 0.9, and the highest wins.
    tied = {"toy.csv": np.where(detections(40), 0.9, 0.0) + np.where(detections(45), 0.5, 0.0)}
    assert corpus_score([FILE], tied, STANDARD).threshold == pytest.approx(0.9)
    nothing = corpus_score(
        [FILE, other], {"toy.csv": np.zeros(100), "other.csv": np.zeros(100)}, STANDARD
    )
    assert nothing.threshold == 1.1
    assert nothing.normalised == 0.0


def test_normalisation_between_null_and_perfect() -> None:
    # One of two windows caught on its first row, one FP far from any window: S = 1 - 1 - 0.11.
    other = LabelledFile("other.csv", 100, ((60, 69),))
    scores = {"toy.csv": detections(40).astype(float), "other.csv": detections(20).astype(float)}
    result = corpus_score([FILE, other], scores, STANDARD)
    assert result.threshold == 1.0
    assert result.raw == pytest.approx(-0.11)
    assert result.normalised == pytest.approx(100 * (-0.11 + 2) / 4)


def test_window_bounds_match_the_first_row_at_that_time() -> None:
    times = [0.0, 10.0, 20.0, 30.0, 20.0, 30.0, 40.0, 50.0]
    assert window_rows(times, [(20.0, 40.0)]) == [(2, 6)]
    assert window_rows(times, [(15.0, 45.0)]) == [(2, 6)]
    with pytest.raises(NabError, match="no row"):
        window_rows(times, [(51.0, 60.0)])


def test_scores_must_cover_every_row() -> None:
    with pytest.raises(NabError, match="99 anomaly scores for 100 rows"):
        corpus_score([FILE], {"toy.csv": np.zeros(99)}, STANDARD)
    with pytest.raises(NabError, match="not inside"):
        LabelledFile("bad.csv", 10, ((5, 10),))


NAB = default_root()


@pytest.mark.skipif(NAB is None, reason="the NAB corpus is not here (set FOREWARN_NAB)")
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_null_and_perfect_detectors_on_the_real_corpus(profile: object) -> None:
    assert NAB is not None
    files = [f.labels for f in load_corpus(Path(NAB))]
    assert len(files) == 7
    assert sum(len(f.scored_windows) for f in files) == 19
    null = {f.name: np.zeros(f.rows) for f in files}
    perfect = {f.name: detections(*(w[0] for w in f.windows), n=f.rows) for f in files}
    assert corpus_score(files, null, profile).normalised == pytest.approx(0.0)  # type: ignore[arg-type]
    assert corpus_score(files, perfect, profile).normalised == pytest.approx(100.0)  # type: ignore[arg-type]
