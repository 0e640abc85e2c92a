"""The people side of a plant file: teams, technicians with skills and shifts, contacts,
escalation, service levels and automatic actions, with located errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices import ActionEvent, PlantFileError, load_plant

HEAD = """\
site: {id: acme}
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
          - {id: P-1, type: centrifugal_pump, criticality: high, team: mech}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(HEAD + text)
    return path


def test_organisation_resolves_people_shifts_contacts_sla_and_actions(tmp_path: Path) -> None:
    plant = load_plant(
        write(
            tmp_path,
            """\
organisation:
  timezone: Europe/Paris
  teams: [{id: mech, lead: lea, notify: "http://chat/mech"}]
  people:
    - {id: lea, name: Lea, team: mech, skills: [vibration]}
    - id: tom
      team: mech
      skills: [hydraulics]
      shifts: [{days: [mon, tue], start: "22:00", end: "06:00"}]
    - {id: max, notify: "https://pager/max"}
  contacts: {maintenance_manager: max, plant_manager: max}
  sla:
    urgent: {acknowledge: 5m, start: 30m, due: 12h}
actions:
  - failure_mode: VIB
    when: [opened, escalated]
    mqtt: {topic: "{site}/{line}/{equipment}/cmd", payload: {do: slow, order: "{order}"}}
  - {failure_mode: PDE, equipment_type: centrifugal_pump, webhook: {url: "http://plc/hook"}}
""",
        )
    )
    org = plant.organisation
    assert [p.id for p in org.technicians("mech")] == ["lea", "tom"]
    assert org.sla["urgent"].acknowledge == 300
    assert org.sla["low"].acknowledge == 86400  # defaults for priorities not given
    assert org.contact(org.escalation[0], "mech").id == "lea"  # type: ignore[union-attr]
    assert org.contact(org.escalation[1], "mech").notify == "https://pager/max"  # type: ignore[union-attr]
    tom = org.people["tom"]
    zone = org.zone
    assert tom.on_shift(datetime(2026, 3, 2, 22, 30, tzinfo=zone), zone)  # Monday night
    assert tom.on_shift(datetime(2026, 3, 4, 5, 0, tzinfo=zone), zone)  # Tuesday's night
    assert not tom.on_shift(datetime(2026, 3, 4, 22, 30, tzinfo=zone), zone)  # Wednesday
    assert org.people["lea"].on_shift(datetime(2026, 3, 8, 3, 0, tzinfo=UTC), zone)
    [vib] = org.actions_for("VIB", "centrifugal_pump", ActionEvent.ESCALATED)
    assert vib.topic == "{site}/{line}/{equipment}/cmd"
    assert org.actions_for("PDE", "centrifugal_pump", ActionEvent.ESCALATED) == []
    assert plant.equipment["P-1"].failure_modes[0].skills == ("vibration", "bearings")


def test_a_plant_without_organisation_gets_the_defaults(tmp_path: Path) -> None:
    org = load_plant(write(tmp_path, "")).organisation
    assert [level.name for level in org.escalation] == [
        "team lead",
        "maintenance manager",
        "plant manager",
    ]
    assert org.technicians("mech") == []
    assert org.contact(org.escalation[0], "mech") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "organisation: {teams: [{id: other}]}\n",
            "line 7: areas[0].lines[0].equipment[0].team: unknown team 'mech'; known: other",
        ),
        (
            "organisation: {teams: [{id: mech, lead: ghost}]}\n",
            "organisation.teams[0].lead: unknown person 'ghost'; known: none declared",
        ),
        (
            "organisation: {people: [{id: a}], contacts: {plant_manager: b}}\n",
            "organisation.contacts.plant_manager: unknown person 'b'; known: a",
        ),
        (
            "organisation: {people: [{id: a}], escalation: [{name: x, contact: boss}]}\n",
            "organisation.escalation[0].contact: unknown contact 'boss'",
        ),
        ("organisation: {timezone: Mars/Base}\n", "unknown time zone 'Mars/Base'"),
        (
            "organisation: {sla: {soon: {acknowledge: 1m, start: 1h, due: 1d}}}\n",
            "unknown priority",
        ),
        (
            "organisation: {people: [{id: a, shifts: [{start: '25:00', end: '06:00'}]}]}\n",
            "organisation.people[0].shifts[0].start",
        ),
        (
            "organisation: {people: [{id: a, notify: 'ftp://x'}]}\n",
            "is not an http(s) URL",
        ),
        (
            "actions: [{failure_mode: XYZ, webhook: {url: 'http://x'}}]\n",
            "actions[0].failure_mode: unknown failure mode 'XYZ'",
        ),
        ("actions: [{failure_mode: VIB}]\n", "either publishes ('mqtt') or calls ('webhook')"),
        (
            "actions: [{failure_mode: VIB, mqtt: {topic: '{nope}/cmd'}}]\n",
            "actions[0].mqtt: unknown placeholder(s) ['nope']",
        ),
        (
            "actions: [{failure_mode: VIB, equipment_type: windmill, webhook: {url: 'http://x'}}]\n",
            "unknown equipment type 'windmill'",
        ),
    ],
)
def test_organisation_problems_are_located(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(PlantFileError) as error:
        load_plant(write(tmp_path, text))
    assert problem in str(error.value)
