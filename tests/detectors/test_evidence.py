"""The evidence window: the latest points of a stream, oldest first, through wrap-around."""

from __future__ import annotations

import pytest

from detectors.evidence import Evidence


def test_evidence_keeps_the_latest_points_oldest_first() -> None:
    window = Evidence(size=4)
    assert (len(window), window.points()) == (0, ())
    with pytest.raises(IndexError):
        window.last()
    window.extend([(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)])
    assert window.points() == ((1.0, 10.0), (2.0, 20.0), (3.0, 30.0))
    for ts in (4.0, 5.0, 6.0):
        window.append(ts, ts * 10.0)
    assert len(window) == 4
    assert window.points() == ((3.0, 30.0), (4.0, 40.0), (5.0, 50.0), (6.0, 60.0))
    assert window.last() == (6.0, 60.0)
    window.extend((ts, -ts) for ts in range(7, 11))  # a whole turn more
    assert window.points() == ((7.0, -7.0), (8.0, -8.0), (9.0, -9.0), (10.0, -10.0))
    assert window.last() == (10.0, -10.0)
