"""The people side of a plant file: teams, technicians with skills and shifts, who is told when
an order escalates, service levels per priority, and automatic actions per failure mode.

```yaml
organisation:
  timezone: Europe/Paris            # shifts are in local time
  teams:
    - {id: mechanical, name: Mechanical, lead: alice, notify: https://chat.example/hooks/mech}
  people:
    - {id: alice, name: Alice Martin, notify: https://pager.example/alice}
    - id: bob
      team: mechanical
      skills: [vibration, bearings]
      shifts: [{days: [mon, tue, wed, thu, fri], start: "06:00", end: "14:00"}]
  contacts: {maintenance_manager: carol, plant_manager: dave}
  escalation:                         # default: team lead, maintenance manager, plant manager
    - {name: team lead, contact: team_lead}
    - {name: maintenance manager, contact: maintenance_manager}
  sla:                                # per priority; these are the defaults for urgent
    urgent: {acknowledge: 15m, start: 1h, due: 1d}
actions:
  - failure_mode: VIB
    when: [opened, escalated]
    mqtt: {topic: "{site}/{area}/{line}/{equipment}/cmd", payload: {command: reduce_load}}
```

The `*Spec` models are what a person writes; `resolve_organisation` turns them into the frozen
records below, adding a located problem for every reference that points nowhere.
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

Loc = tuple[str | int, ...]
At = Callable[[Loc, str], str]
"""Locates a problem in the plant file: `at(("organisation", "people", 0), "message")`."""

TEAM_LEAD = "team_lead"
"""Escalation contact meaning "the lead of the order's team"."""
PRIORITIES = ("urgent", "high", "medium", "low")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTION_EVENTS = ("opened", "escalated")
ACTION_PLACEHOLDERS = frozenset(
    {"site", "area", "line", "equipment", "order", "failure_mode", "priority", "level"}
)


def _duration(value: Any) -> Any:
    from devices.schema import _parse_duration

    return _parse_duration(value)


Seconds = Annotated[float, BeforeValidator(_duration), Field(gt=0)]
PersonId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@\-]*$", max_length=200)]


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL; write e.g. https://host/path")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url), Field(max_length=2000)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ShiftSpec(_Spec):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: time
    end: time
    """A shift ending at or before its start ends the next day."""


class PersonSpec(_Spec):
    id: PersonId
    name: str = ""
    team: str | None = None
    """Technicians belong to a team; managers and leads need not."""
    skills: list[str] = []
    shifts: list[ShiftSpec] = []
    """When the person works; none means always available."""
    notify: HttpUrl | None = None
    """Where notifications for this person are POSTed (a pager or chat gateway)."""


class TeamSpec(_Spec):
    id: str = Field(min_length=1)
    name: str = ""
    lead: str | None = None
    notify: HttpUrl | None = None
    """The team's channel: told of new orders nobody in the team was assigned to."""


class SlaSpec(_Spec):
    acknowledge: Seconds
    """Time to acknowledge; escalation level k fires k times this after the order opens."""
    start: Seconds
    """Time to start work; past it the team lead is told once."""
    due: Seconds
    """Due date of an order whose signal has no predicted alarm-limit crossing."""


DEFAULT_SLA: dict[str, SlaSpec] = {
    "urgent": SlaSpec.model_construct(acknowledge=15 * 60, start=3600, due=86400),
    "high": SlaSpec.model_construct(acknowledge=3600, start=8 * 3600, due=3 * 86400),
    "medium": SlaSpec.model_construct(acknowledge=4 * 3600, start=86400, due=7 * 86400),
    "low": SlaSpec.model_construct(acknowledge=86400, start=7 * 86400, due=30 * 86400),
}


class EscalationLevelSpec(_Spec):
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)
    """`team_lead`, a name under `contacts`, or a person id."""


DEFAULT_ESCALATION = [
    EscalationLevelSpec(name="team lead", contact=TEAM_LEAD),
    EscalationLevelSpec(name="maintenance manager", contact="maintenance_manager"),
    EscalationLevelSpec(name="plant manager", contact="plant_manager"),
]


class OrganisationSpec(_Spec):
    timezone: str = "UTC"
    teams: list[TeamSpec] = []
    people: list[PersonSpec] = []
    contacts: dict[str, str] = {}
    """Named contacts (maintenance_manager, plant_manager, ...) -> person id."""
    escalation: list[EscalationLevelSpec] = Field(default=DEFAULT_ESCALATION, max_length=10)
    sla: dict[str, SlaSpec] = {}
    """Per priority (urgent, high, medium, low); priorities not given keep the defaults."""

    @field_validator("sla")
    @classmethod
    def _priorities(cls, value: dict[str, SlaSpec]) -> dict[str, SlaSpec]:
        unknown = sorted(set(value) - set(PRIORITIES))
        if unknown:
            raise ValueError(f"unknown priority {unknown}; use {', '.join(PRIORITIES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Paris or UTC"
            ) from exc
        return value


class MqttActionSpec(_Spec):
    topic: str = Field(min_length=1)
    payload: dict[str, Any] = {}
    """JSON object; string values may use the same placeholders as the topic."""
    qos: Literal[0, 1, 2] = 1
    retain: bool = False


class WebhookActionSpec(_Spec):
    url: HttpUrl


class ActionSpec(_Spec):
    failure_mode: str = Field(min_length=1)
    equipment_type: str | None = None
    """Only for equipment of this type; default: every type with this failure mode."""
    when: list[Literal["opened", "escalated"]] = ["opened"]
    """When the action runs (not `on`: YAML reads a bare `on` key as true)."""
    mqtt: MqttActionSpec | None = None
    webhook: WebhookActionSpec | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.mqtt is None) == (self.webhook is None):
            raise ValueError("an action either publishes ('mqtt') or calls ('webhook'): give one")
        return self


class ActionEvent(enum.StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class Shift:
    days: frozenset[int]
    """Weekdays the shift starts on, Monday = 0."""
    start: time
    end: time

    def covers(self, local: datetime) -> bool:
        """Whether a local (wall-clock) time falls in this shift."""
        clock = local.time().replace(tzinfo=None)
        weekday = local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= clock < self.end
        if weekday in self.days and clock >= self.start:
            return True
        return (weekday - 1) % 7 in self.days and clock < self.end


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    team: str | None = None
    skills: frozenset[str] = frozenset()
    shifts: tuple[Shift, ...] = ()
    notify: str | None = None

    def on_shift(self, at: datetime, zone: tzinfo) -> bool:
        """Whether the person works at `at`; a person without shifts is always available."""
        if not self.shifts:
            return True
        local = at.astimezone(zone)
        return any(shift.covers(local) for shift in self.shifts)


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    lead: str | None = None
    notify: str | None = None


@dataclass(frozen=True, slots=True)
class Sla:
    acknowledge: float
    start: float
    due: float


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    name: str
    contact: str


@dataclass(frozen=True, slots=True)
class AutomaticAction:
    """Publish an MQTT message or call a URL when an order of a failure mode opens/escalates."""

    failure_mode: str
    on: frozenset[ActionEvent]
    equipment_type: str | None = None
    topic: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    qos: int = 1
    retain: bool = False
    url: str | None = None

    @property
    def kind(self) -> Literal["mqtt", "webhook"]:
        return "mqtt" if self.topic is not None else "webhook"

    def applies(self, failure_mode: str, equipment_type: str, event: ActionEvent) -> bool:
        return (
            failure_mode == self.failure_mode
            and event in self.on
            and self.equipment_type in (None, equipment_type)
        )


@dataclass(frozen=True)
class Organisation:
    """Who does the work and who is told; an empty one (no teams, no people) is valid."""

    timezone: str = "UTC"
    teams: Mapping[str, Team] = field(default_factory=dict)
    people: Mapping[str, Person] = field(default_factory=dict)
    contacts: Mapping[str, str] = field(default_factory=dict)
    escalation: tuple[EscalationLevel, ...] = tuple(
        EscalationLevel(s.name, s.contact) for s in DEFAULT_ESCALATION
    )
    sla: Mapping[str, Sla] = field(
        default_factory=lambda: {
            p: Sla(s.acknowledge, s.start, s.due) for p, s in DEFAULT_SLA.items()
        }
    )
    actions: tuple[AutomaticAction, ...] = ()

    @property
    def zone(self) -> tzinfo:
        return UTC if self.timezone == "UTC" else ZoneInfo(self.timezone)

    def technicians(self, team: str) -> list[Person]:
        """The people of `team`, by id."""
        return sorted((p for p in self.people.values() if p.team == team), key=lambda p: p.id)

    def contact(self, level: EscalationLevel, team: str) -> Person | None:
        """Who escalation `level` reaches for an order of `team`, if anyone is configured."""
        if level.contact == TEAM_LEAD:
            lead = self.teams[team].lead if team in self.teams else None
            return self.people.get(lead) if lead is not None else None
        person_id = self.contacts.get(level.contact, level.contact)
        return self.people.get(person_id)

    def actions_for(
        self, failure_mode: str, equipment_type: str, event: ActionEvent
    ) -> list[AutomaticAction]:
        return [a for a in self.actions if a.applies(failure_mode, equipment_type, event)]


def resolve_organisation(
    spec: OrganisationSpec,
    actions: Iterable[ActionSpec],
    *,
    failure_modes: Mapping[str, frozenset[str]],
    equipment_teams: Mapping[Loc, str],
    at: At,
    problems: list[str],
) -> Organisation:
    """The organisation of a plant file; each reference that points nowhere adds a problem.

    `failure_modes` maps equipment types to their failure-mode codes; `equipment_teams` maps
    where each equipment's `team` is written to its value (checked once teams are declared).
    """
    where: Loc = ("organisation",)
    teams: dict[str, Team] = {}
    for i, team in enumerate(spec.teams):
        if team.id in teams:
            problems.append(at((*where, "teams", i, "id"), f"team {team.id!r} is declared twice"))
        teams[team.id] = Team(team.id, team.name or team.id, team.lead, team.notify)
    people: dict[str, Person] = {}
    for i, person in enumerate(spec.people):
        loc = (*where, "people", i)
        if person.id in people:
            problems.append(at((*loc, "id"), f"person {person.id!r} is declared twice"))
        if person.team is not None and teams and person.team not in teams:
            problems.append(at((*loc, "team"), _unknown("team", person.team, teams)))
        people[person.id] = Person(
            id=person.id,
            name=person.name or person.id,
            team=person.team,
            skills=frozenset(person.skills),
            shifts=tuple(
                Shift(frozenset(WEEKDAYS.index(d) for d in s.days), s.start, s.end)
                for s in person.shifts
            ),
            notify=person.notify,
        )
    for i, team in enumerate(spec.teams):
        if team.lead is not None and team.lead not in people:
            problems.append(at((*where, "teams", i, "lead"), _unknown("person", team.lead, people)))
    for name, person_id in spec.contacts.items():
        if person_id not in people:
            problems.append(at((*where, "contacts", name), _unknown("person", person_id, people)))
    if people:
        for i, level in enumerate(spec.escalation):
            known = level.contact == TEAM_LEAD or level.contact in spec.contacts
            if not known and level.contact not in people:
                problems.append(
                    at(
                        (*where, "escalation", i, "contact"),
                        f"unknown contact {level.contact!r}; write team_lead, a name under "
                        "'contacts' or a person id",
                    )
                )
    if teams:
        for loc, team_id in equipment_teams.items():
            if team_id not in teams:
                problems.append(at((*loc, "team"), _unknown("team", team_id, teams)))
    sla = {
        priority: Sla(s.acknowledge, s.start, s.due)
        for priority, s in {**DEFAULT_SLA, **spec.sla}.items()
    }
    return Organisation(
        timezone=spec.timezone,
        teams=teams,
        people=people,
        contacts=dict(spec.contacts),
        escalation=tuple(EscalationLevel(level.name, level.contact) for level in spec.escalation),
        sla=sla,
        actions=tuple(_actions(actions, failure_modes, at, problems)),
    )


def _actions(
    specs: Iterable[ActionSpec],
    failure_modes: Mapping[str, frozenset[str]],
    at: At,
    problems: list[str],
) -> Iterable[AutomaticAction]:
    every_mode = frozenset[str]().union(*failure_modes.values()) | {"AIR", "OTH"}
    for i, spec in enumerate(specs):
        loc: Loc = ("actions", i)
        if spec.equipment_type is not None and spec.equipment_type not in failure_modes:
            problems.append(
                at(
                    (*loc, "equipment_type"),
                    _unknown("equipment type", spec.equipment_type, failure_modes),
                )
            )
            continue
        modes = (
            failure_modes[spec.equipment_type] | {"AIR", "OTH"}
            if spec.equipment_type is not None
            else every_mode
        )
        if spec.failure_mode not in modes:
            problems.append(
                at((*loc, "failure_mode"), _unknown("failure mode", spec.failure_mode, modes))
            )
            continue
        templates = [spec.mqtt.topic, *_strings(spec.mqtt.payload)] if spec.mqtt else []
        bad = sorted({name for t in templates for name in _placeholders(t)} - ACTION_PLACEHOLDERS)
        if bad:
            problems.append(
                at(
                    (*loc, "mqtt"),
                    f"unknown placeholder(s) {bad}; use "
                    + ", ".join("{" + p + "}" for p in sorted(ACTION_PLACEHOLDERS)),
                )
            )
            continue
        yield AutomaticAction(
            failure_mode=spec.failure_mode,
            on=frozenset(ActionEvent(e) for e in spec.when),
            equipment_type=spec.equipment_type,
            topic=spec.mqtt.topic if spec.mqtt else None,
            payload=dict(spec.mqtt.payload) if spec.mqtt else {},
            qos=spec.mqtt.qos if spec.mqtt else 1,
            retain=spec.mqtt.retain if spec.mqtt else False,
            url=spec.webhook.url if spec.webhook else None,
        )


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _placeholders(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return {template}


def fill_action(template: Any, values: Mapping[str, str]) -> Any:
    """`template` (a string, or JSON made of them) with its placeholders filled in."""
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, Mapping):
        return {key: fill_action(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [fill_action(item, values) for item in template]
    return template


def _unknown(what: str, value: str, known: Iterable[str]) -> str:
    names = ", ".join(sorted(known)) or "none declared"
    return f"unknown {what} {value!r}; known: {names}"
