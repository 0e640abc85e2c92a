"""The GIL switch interval while a process serves."""

import sys

from forewarn.switching import SWITCH_INTERVAL, responsive


def test_responsive_sets_the_interval_and_restores_it() -> None:
    before = sys.getswitchinterval()
    with responsive():
        assert sys.getswitchinterval() == SWITCH_INTERVAL
    assert sys.getswitchinterval() == before
