"""`forewarn.heap.settled`: the state built before serving is out of the collector's reach while
serving, and the collector is as it was afterwards."""

from __future__ import annotations

import gc

from forewarn import heap


def test_settled_freezes_what_exists_and_restores_the_collector() -> None:
    before = gc.get_threshold()
    state = [{"stream": i} for i in range(1000)]
    with heap.settled():
        assert gc.get_freeze_count() >= len(state)
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
