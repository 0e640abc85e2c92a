"""A stream's clock going back: late readings, rejected jumps, and re-anchoring."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devices import ClockPolicy, ClockVerdict, ClockWatch

POLICY = ClockPolicy(tolerance=10.0, readings=5, seconds=4.0)


def test_late_readings_within_the_tolerance_are_out_of_order() -> None:
    watch = ClockWatch(POLICY)
    assert watch.judge("s", 100.0, 101.0) is ClockVerdict.ACCEPT
    assert watch.judge("s", 100.0, 100.0) is ClockVerdict.OUT_OF_ORDER
    assert watch.judge("s", 100.0, 90.0) is ClockVerdict.OUT_OF_ORDER
    assert watch.behind("s") == 0


def test_a_sustained_jump_back_is_rejected_then_reanchored() -> None:
    watch = ClockWatch(POLICY)
    verdicts = [watch.judge("s", 1000.0, 10.0 + k) for k in range(6)]
    assert verdicts == [ClockVerdict.CLOCK_WENT_BACK] * 4 + [ClockVerdict.REANCHOR] + [
        ClockVerdict.CLOCK_WENT_BACK
    ]


def test_the_jump_must_advance_and_span_the_seconds() -> None:
    watch = ClockWatch(POLICY)
    fast = [watch.judge("s", 1000.0, 10.0 + 0.1 * k) for k in range(10)]
    assert ClockVerdict.REANCHOR not in fast  # 10 readings over 0.9 s: not yet
    assert watch.behind("s") == 10
    assert watch.judge("s", 1000.0, 5.0) is ClockVerdict.CLOCK_WENT_BACK  # went back again
    assert watch.behind("s") == 1


def test_the_old_clock_returning_cancels_the_jump() -> None:
    watch = ClockWatch(POLICY)
    for k in range(3):
        watch.judge("s", 1000.0, 10.0 + k)
    assert watch.judge("s", 1000.0, 1001.0) is ClockVerdict.ACCEPT
    assert watch.behind("s") == 0
    assert watch.judge("other", 50.0, 10.0) is ClockVerdict.CLOCK_WENT_BACK


@given(st.lists(st.floats(0, 2000, allow_nan=False), max_size=200))
def test_a_reanchor_needs_enough_consistent_readings(stamps: list[float]) -> None:
    watch = ClockWatch(POLICY)
    last = 1000.0
    run: list[float] = []
    for ts in stamps:
        verdict = watch.judge("s", last, ts)
        if verdict in (ClockVerdict.ACCEPT, ClockVerdict.REANCHOR):
            if verdict is ClockVerdict.REANCHOR:
                assert len(run) + 1 >= POLICY.readings
                assert ts - run[0] >= POLICY.seconds
                assert ts < last - POLICY.tolerance
            last, run = ts, []
        elif verdict is ClockVerdict.CLOCK_WENT_BACK:
            run = [*run, ts] if run and ts > run[-1] else [ts]
