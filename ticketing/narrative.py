"""An order's history in sentences ("Alice Martin acknowledged", "priority raised from medium to
urgent: not acknowledged in time"), from its audit events. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ticketing.base import AuditEvent
from ticketing.priority import Priority

SYSTEM_ACTORS = frozenset({"forewarn", "system"})


def sentence(event: AuditEvent, names: Mapping[str, str] | None = None) -> str:
    """One sentence for one audit event; `names` maps people's ids to the names to show."""
    names = names or {}
    who = _name(event.actor, names)
    before, after = dict(event.before or {}), dict(event.after or {})
    write = _SENTENCES.get(event.action)
    text = write(who, before, after, event.note, names) if write else _generic(event, who)
    return text[0].upper() + text[1:] if text else text


def _name(person: str | None, names: Mapping[str, str]) -> str:
    if not person:
        return "nobody"
    return names.get(person, person)


def _automatic(who: str) -> bool:
    return who.lower() in SYSTEM_ACTORS


def _with(note: str, joiner: str = ": ") -> str:
    return f"{joiner}{note}" if note else ""


def _created(
    who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
) -> str:
    opened = "forewarn opened the order" if _automatic(who) else f"{who} reported the problem"
    details = []
    if after.get("priority"):
        details.append(f"{after['priority']} priority")
    if after.get("team"):
        details.append(f"for team {after['team']}")
    return f"{opened}{_with(note)}" + (f" ({', '.join(details)})" if details else "")


def _assigned(
    who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
) -> str:
    assignee = after.get("assignee")
    to = _name(assignee, names) if assignee else "the team"
    moved = ""
    if "team" in after and before and before.get("team") not in (None, after["team"]):
        moved = f", moving it from team {before['team']} to team {after['team']}"
    if _automatic(who):
        reason = note.split(": ", 1)[1] if ": " in note else ""
        return f"assigned to {to} automatically{moved}" + _with(reason)
    return f"{who} assigned the order to {to}{moved}"


def _changed(
    who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
) -> str:
    parts = []
    if before.get("priority") and after.get("priority") != before.get("priority"):
        verb = "raised" if _rank(after["priority"]) < _rank(before["priority"]) else "lowered"
        parts.append(f"priority {verb} from {before['priority']} to {after['priority']}")
    if before.get("severity") and after.get("severity") != before.get("severity"):
        parts.append(f"severity {before['severity']} to {after['severity']}")
    if "finding_count" in after:
        parts.append(f"{after['finding_count']} findings")
    finding = note.split("; ", 1)[1] if "; " in note else note
    head = "a new finding updated the order" if not parts else "a new finding: " + ", ".join(parts)
    return head + _with(finding)


def _escalated(
    who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
) -> str:
    why = note.split(";", 1)[0] if note else "not acknowledged in time"
    if before.get("priority") and after.get("priority") != before.get("priority"):
        head = f"priority raised from {before['priority']} to {after['priority']}: {why}"
    else:
        head = f"escalated: {why}"
    level = after.get("escalation_level")
    told = note.split(": ", 1)[1] if ": " in note else ""
    if level:
        head += f"; escalation level {level}" + (f", told {told}" if told else "")
    return head


def _status(verb: str, resumed: str | None = None) -> Callable[..., str]:
    def write(
        who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
    ) -> str:
        said = resumed if resumed and before.get("status") == "on_hold" else verb
        return f"{who} {said}{_with(note)}"

    return write


def _closed(
    who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
) -> str:
    if _automatic(who):
        return f"forewarn closed the order{_with(note)}"
    outcome = after.get("outcome")
    how = {"confirmed": " as confirmed", "false_alarm": " as a false alarm"}.get(outcome or "", "")
    cause = f", cause: {after['found_cause']}" if after.get("found_cause") else ""
    return f"{who} closed the order{how}{cause}{_with(note, '; ')}"


def _fixed(text: str) -> Callable[..., str]:
    def write(
        who: str, before: dict[str, Any], after: dict[str, Any], note: str, names: Mapping[str, str]
    ) -> str:
        return f"{text}{_with(note)}"

    return write


def _generic(event: AuditEvent, who: str) -> str:
    return f"{who} {event.action.replace('_', ' ')}{_with(event.note)}"


def _rank(priority: str) -> int:
    known = {p.value: p.rank for p in Priority}
    return known.get(priority, len(known))


_SENTENCES: dict[str, Callable[..., str]] = {
    "created": _created,
    "assigned": _assigned,
    "updated": _changed,
    "worsened": _changed,
    "escalated": _escalated,
    "acknowledged": _status("acknowledged"),
    "started": _status("started the work", resumed="resumed the work"),
    "put_on_hold": _status("put the order on hold"),
    "done": _status("finished the work"),
    "cancelled": _status("cancelled the order"),
    "commented": _status("commented"),
    "closed": _closed,
    "condition_cleared": _fixed("the condition cleared"),
    "start_overdue": _fixed("not started in time"),
    "action_queued": _fixed("automatic action queued"),
    "action_mqtt": _fixed("automatic action published"),
    "action_http": _fixed("automatic action called"),
    "action_delivered": _fixed("automatic action delivered"),
}
