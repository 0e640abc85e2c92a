"""The status state machine and the priority table: pure, no database."""

from __future__ import annotations

import itertools

import pytest

from devices import Criticality, Severity
from ticketing import (
    ACTIVE,
    TRANSITIONS,
    InvalidTransition,
    Priority,
    Status,
    advance,
    allowed_next,
    priority_for,
)
from ticketing.priority import URGENT_WITHIN, more_pressing

S = Status
EXPECTED = {
    S.OPEN: {S.ACKNOWLEDGED, S.IN_PROGRESS, S.CLOSED, S.CANCELLED},
    S.ACKNOWLEDGED: {S.IN_PROGRESS, S.ON_HOLD, S.CLOSED, S.CANCELLED},
    S.IN_PROGRESS: {S.ON_HOLD, S.DONE, S.CLOSED, S.CANCELLED},
    S.ON_HOLD: {S.IN_PROGRESS, S.CLOSED, S.CANCELLED},
    S.DONE: {S.IN_PROGRESS, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
ALLOWED = [(a, b) for a, targets in EXPECTED.items() for b in sorted(targets)]
REFUSED = [(a, b) for a, b in itertools.product(Status, Status) if b not in EXPECTED[a]]


def test_the_table_is_the_documented_lifecycle() -> None:
    assert {status: set(targets) for status, targets in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("current", "requested"), ALLOWED)
def test_allowed_transitions_pass(current: Status, requested: Status) -> None:
    assert advance(current, requested) is requested


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (S.OPEN, S.OPEN),
        (S.OPEN, S.DONE),
        (S.OPEN, S.ON_HOLD),
        (S.ACKNOWLEDGED, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.OPEN),
        (S.IN_PROGRESS, S.ACKNOWLEDGED),
        (S.ON_HOLD, S.DONE),
        (S.DONE, S.CANCELLED),
        (S.DONE, S.OPEN),
        (S.CLOSED, S.OPEN),
        (S.CLOSED, S.CLOSED),
        (S.CANCELLED, S.IN_PROGRESS),
    ],
)
def test_refused_transitions_raise_naming_current_and_allowed(
    current: Status, requested: Status
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        advance(current, requested, subject="WO-000042")
    error = raised.value
    assert (error.current, error.requested) == (current, requested)
    assert set(error.allowed) == EXPECTED[current]
    message = str(error)
    assert message.startswith(f"WO-000042 is {current.value} and cannot become {requested.value}")
    for status in EXPECTED[current]:
        assert status.value in message
    if not EXPECTED[current]:
        assert f"{current.value} is final" in message


def test_every_pair_outside_the_table_is_refused() -> None:
    assert len(ALLOWED) + len(REFUSED) == len(Status) ** 2
    for current, requested in REFUSED:
        with pytest.raises(InvalidTransition):
            advance(current, requested)


def test_active_statuses_are_all_but_closed_and_cancelled_and_each_can_be_resolved() -> None:
    assert frozenset(Status) - ACTIVE == {S.CLOSED, S.CANCELLED}
    for status in ACTIVE:
        assert advance(status, S.CLOSED) is S.CLOSED


def test_allowed_next_lists_targets_in_lifecycle_order() -> None:
    assert allowed_next(S.OPEN) == (S.ACKNOWLEDGED, S.IN_PROGRESS, S.CLOSED, S.CANCELLED)
    assert allowed_next(S.CLOSED) == ()


@pytest.mark.parametrize(
    ("severity", "criticality", "expected"),
    [
        (Severity.CRITICAL, Criticality.HIGH, Priority.URGENT),
        (Severity.CRITICAL, Criticality.MEDIUM, Priority.URGENT),
        (Severity.CRITICAL, Criticality.LOW, Priority.HIGH),
        (Severity.ALARM, Criticality.HIGH, Priority.URGENT),
        (Severity.ALARM, Criticality.MEDIUM, Priority.HIGH),
        (Severity.ALARM, Criticality.LOW, Priority.MEDIUM),
        (Severity.WARNING, Criticality.HIGH, Priority.HIGH),
        (Severity.WARNING, Criticality.MEDIUM, Priority.MEDIUM),
        (Severity.WARNING, Criticality.LOW, Priority.LOW),
    ],
)
def test_priority_table(severity: Severity, criticality: Criticality, expected: Priority) -> None:
    assert priority_for(severity, criticality) is expected
    assert priority_for(severity, criticality, time_to_limit=URGENT_WITHIN + 1) is expected


@pytest.mark.parametrize("hours", [0.0, 1.0, 23.9, 24.0])
def test_a_predicted_crossing_within_a_day_is_urgent(hours: float) -> None:
    assert priority_for(Severity.WARNING, Criticality.LOW, hours * 3600) is Priority.URGENT


def test_more_pressing_picks_the_higher_priority() -> None:
    assert more_pressing(Priority.LOW, Priority.HIGH) is Priority.HIGH
    assert more_pressing(Priority.URGENT, Priority.MEDIUM) is Priority.URGENT
    assert more_pressing(Priority.MEDIUM, Priority.MEDIUM) is Priority.MEDIUM
