"""Who gets a new order: a technician of the equipment's team, preferring those on shift, then
those whose skills cover the failure mode's, then those with the fewest open orders. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo

from devices import Person


def choose_assignee(
    candidates: Iterable[Person],
    skills: Iterable[str],
    loads: Mapping[str, int],
    *,
    at: datetime,
    zone: tzinfo,
) -> Person | None:
    """The best technician for an order needing `skills`, or None without candidates.

    Ranking, most important first: on shift at `at`; more of the needed skills; fewer active
    orders (`loads`); then the id, so that the choice is deterministic.
    """
    needed = frozenset(skills)

    def rank(person: Person) -> tuple[bool, int, int, str]:
        return (
            not person.on_shift(at, zone),
            -len(needed & person.skills),
            loads.get(person.id, 0),
            person.id,
        )

    return min(candidates, key=rank, default=None)
