"""The history in sentences: what a planner reads instead of raw fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ticketing.base import AuditEvent
from ticketing.narrative import sentence

NAMES = {"alice": "Alice Martin", "bruno": "Bruno Costa"}


def event(
    action: str,
    actor: str = "forewarn",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    return AuditEvent(
        1, at, actor, "planner", "work_order", "WO-1", action, "WO-1", before, after, note
    )


@pytest.mark.parametrize(
    ("audit", "expected"),
    [
        (
            event(
                "created",
                after={"priority": "medium", "team": "mechanical", "resolution_note": ""},
                note="vibration drift on P-103",
            ),
            "Forewarn opened the order: vibration drift on P-103 "
            "(medium priority, for team mechanical)",
        ),
        (
            event(
                "assigned",
                after={"assignee": "alice", "team": "mechanical"},
                note="alice: on shift, skills for vibration, fewest open orders",
            ),
            "Assigned to Alice Martin automatically: on shift, "
            "skills for vibration, fewest open orders",
        ),
        (
            event("acknowledged", "alice", {"status": "open"}, {"status": "acknowledged"}),
            "Alice Martin acknowledged",
        ),
        (
            event(
                "escalated",
                before={"priority": "medium", "escalation_level": 0},
                after={"priority": "urgent", "escalation_level": 1},
                note="not acknowledged in time; escalated to level 1: alice",
            ),
            "Priority raised from medium to urgent: "
            "not acknowledged in time; escalation level 1, told alice",
        ),
        (
            event(
                "worsened",
                before={"priority": "medium", "finding_count": 1},
                after={"priority": "high", "finding_count": 2},
                note="worsened: priority medium -> high; vibration drift on P-103",
            ),
            "A new finding: priority raised from medium to high, "
            "2 findings: vibration drift on P-103",
        ),
        (
            event("assigned", "pat", {"assignee": "alice"}, {"assignee": "bruno"}, "to bruno"),
            "Pat assigned the order to Bruno Costa",
        ),
        (
            event("put_on_hold", "bruno", note="waiting for parts"),
            "Bruno Costa put the order on hold: waiting for parts",
        ),
        (
            event("started", "bruno", {"status": "on_hold"}, {"status": "in_progress"}),
            "Bruno Costa resumed the work",
        ),
        (
            event(
                "closed",
                "pat",
                {"status": "done"},
                {"status": "closed", "outcome": "confirmed", "found_cause": "worn DE bearing"},
            ),
            "Pat closed the order as confirmed, cause: worn DE bearing",
        ),
        (event("closed", note="condition cleared"), "Forewarn closed the order: condition cleared"),
        (event("something_new", "pat", note="why"), "Pat something new: why"),
    ],
)
def test_each_change_reads_as_a_sentence(audit: AuditEvent, expected: str) -> None:
    text = sentence(audit, NAMES)
    assert text == expected
    assert "_at" not in text  # no raw fields
    assert "resolution_note" not in text
