"""The pure core of communication findings: which equipment a down link hides, the grace before
an episode, its end, and the stale-sensor findings it explains."""

from __future__ import annotations

from devices import Finding, FindingKind, Plant, Severity, SparkplugAddress, plant_from_dict
from forewarn.links import LinkWatch, unreachable


def plant() -> Plant:
    return plant_from_dict(
        {
            "site": {"id": "works"},
            "sparkplug": {"group": "works", "edge_node": "{line}", "device": "{equipment}"},
            "opcua": {"servers": {"sim": {"url": "opc.tcp://127.0.0.1:4840", "anonymous": True}}},
            "areas": [
                {
                    "id": "a",
                    "lines": [
                        {
                            "id": "line-1",
                            "equipment": [
                                {"id": "P-1", "type": "centrifugal_pump", "team": "mechanical"},
                                {"id": "P-2", "type": "centrifugal_pump", "team": "mechanical"},
                            ],
                        },
                        {
                            "id": "line-2",
                            "equipment": [
                                {
                                    "id": "M-1",
                                    "type": "induction_motor",
                                    "team": "electrical",
                                    "opcua": {"server": "sim", "node": "ns=2;s={signal}"},
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    )


def stale(equipment: str, *, active: bool = True) -> Finding:
    return Finding(
        equipment, ("vibration",), FindingKind.SENSOR, Severity.WARNING, 0.6, 0.0, "stale", "",
        active=active,
    )  # fmt: skip


def test_an_ndeath_hides_every_device_of_its_node_a_ddeath_only_its_own() -> None:
    machines = plant()
    node = SparkplugAddress("works", "line-1", None)
    assert unreachable(machines, {}, {node: "NDEATH of works/line-1"}) == {
        "P-1": "NDEATH of works/line-1",
        "P-2": "NDEATH of works/line-1",
    }
    device = SparkplugAddress("works", "line-1", "P-2")
    assert unreachable(machines, {}, {device: "DDEATH"}) == {"P-2": "DDEATH"}


def test_a_source_that_is_not_connected_hides_the_equipment_it_reads() -> None:
    machines = plant()
    assert set(unreachable(machines, {"mqtt": False, "opcua:sim": True}, {})) == {"P-1", "P-2"}
    down = unreachable(machines, {"mqtt": True, "opcua:sim": False}, {})
    assert list(down) == ["M-1"]
    assert "OPC UA server sim" in down["M-1"]


def test_an_episode_starts_after_the_grace_and_ends_when_the_link_is_back() -> None:
    watch = LinkWatch(plant(), grace=60)
    assert watch.update({"P-1": "NDEATH"}, 100) == []
    assert watch.update({"P-1": "NDEATH"}, 159) == []
    [opened] = watch.update({"P-1": "NDEATH"}, 160)
    assert (opened.kind, opened.active, opened.detector) == (
        FindingKind.COMMUNICATION,
        True,
        "communication",
    )
    assert set(opened.signals) == set(plant().equipment["P-1"].signals)
    assert watch.update({"P-1": "NDEATH"}, 200) == []  # one episode, not one finding a look
    [cleared] = watch.update({}, 210)
    assert not cleared.active
    assert "after 110 s" in cleared.summary


def test_a_link_back_within_the_grace_opens_nothing() -> None:
    watch = LinkWatch(plant(), grace=60)
    watch.update({"P-1": "MQTT broker unreachable"}, 100)
    assert watch.update({}, 150) == []
    assert watch.update({"P-1": "MQTT broker unreachable"}, 151) == []  # a new outage, new grace
    assert watch.update({"P-1": "MQTT broker unreachable"}, 200) == []


def test_stale_sensors_during_an_outage_are_masked_with_their_end() -> None:
    watch = LinkWatch(plant(), grace=60)
    assert not watch.masks(stale("P-1"))  # no outage: a sensor finding as ever
    watch.update({"P-2": "NDEATH"}, 100)
    assert watch.masks(stale("P-2"))  # already within the grace
    assert not watch.masks(stale("P-1"))
    watch.update({}, 120)
    assert watch.masks(stale("P-2", active=False))  # its end after the link is back
    assert not watch.masks(stale("P-2", active=False))  # only once


def test_a_communication_finding_maps_to_the_com_failure_mode() -> None:
    machines = plant()
    watch = LinkWatch(machines, grace=0)
    [finding] = watch.update({"M-1": "down"}, 1.0)
    mode = machines.equipment["M-1"].failure_mode_for(finding)
    assert (mode.code, mode.auto_resolve) == ("COM", True)
