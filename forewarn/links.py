"""Communication findings: equipment whose data cannot arrive because its link is down.

A source says which equipment it cannot reach (`unreachable`): an MQTT broker that is not
connected, an OPC UA server whose session is lost, a Sparkplug B edge node whose NDEATH or a
device whose DDEATH is the last word. `LinkWatch` turns that, judged on a timer, into condition
episodes of kind `communication`: one active finding per equipment once the link has been down
for `grace` seconds (a reconnect sooner opens nothing), and a clearing finding when it is back.
While an equipment's link is down its stale-sensor findings are masked: the sensors are not
suspect, the link is, and its communication order says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from devices import Finding, FindingKind, Plant, Severity, SparkplugAddress
from forewarn.health import Status, Verdict

DETECTOR = "communication"
STALE = "stale"
"""The detector whose findings an outage explains (`detectors.health.StaleSensor`)."""


@dataclass(frozen=True, slots=True)
class Outage:
    reason: str
    since: float
    reported: bool = False
    """Its active finding was given (the grace had passed)."""


def unreachable(
    plant: Plant,
    connected: Mapping[str, bool],
    dead: Mapping[SparkplugAddress, str],
) -> dict[str, str]:
    """Equipment id -> why its data cannot arrive, from each source's connection (`connected`
    by source name: "mqtt", "opcua:{server}") and the Sparkplug nodes and devices that are dead."""
    down: dict[str, str] = {}
    for equipment in plant:
        reasons: list[str] = []
        servers = sorted({s.opcua.server for s in equipment.signals.values() if s.opcua})
        for server in servers:
            if not connected.get(f"opcua:{server}", True):
                reasons.append(f"OPC UA server {server} unreachable (session lost)")
        # Its JSON topics or its Sparkplug B metrics; signals read from OPC UA are neither.
        over_mqtt = any(s.opcua is None for s in equipment.signals.values())
        if over_mqtt and not connected.get("mqtt", True):
            reasons.append("MQTT broker unreachable")
        elif over_mqtt and equipment.sparkplug is not None:
            address = equipment.sparkplug
            node = SparkplugAddress(address.group, address.edge_node, None)
            death = dead.get(node) or dead.get(address)
            if death is not None:
                reasons.append(death)
        if reasons:
            down[equipment.id] = "; ".join(reasons)
    return down


class LinkWatch:
    """The communication state of every equipment; `update` it on a timer, ask it whether a
    finding is explained by an outage (`masks`)."""

    def __init__(self, plant: Plant, grace: float) -> None:
        self.plant = plant
        self.grace = grace
        self.outages: dict[str, Outage] = {}
        self._masked: set[tuple[str, tuple[str, ...]]] = set()

    def update(self, down: Mapping[str, str], now: float) -> list[Finding]:
        """The findings of the links now `down` (equipment id -> reason, see `unreachable`) at
        wall-clock time `now`: an outage past the grace starts an episode, a recovered link
        ends it."""
        findings: list[Finding] = []
        for equipment_id, reason in down.items():
            if equipment_id not in self.plant.equipment:
                continue
            outage = self.outages.get(equipment_id)
            if outage is None:
                outage = Outage(reason, now)
            elif outage.reason != reason and not outage.reported:
                outage = Outage(reason, outage.since)
            if not outage.reported and now - outage.since >= self.grace:
                outage = Outage(outage.reason, outage.since, reported=True)
                findings.append(self._finding(equipment_id, outage, now, active=True))
            self.outages[equipment_id] = outage
        for equipment_id in [e for e in self.outages if e not in down]:
            outage = self.outages.pop(equipment_id)
            if outage.reported:
                findings.append(self._finding(equipment_id, outage, now, active=False))
        return findings

    def masks(self, finding: Finding) -> bool:
        """Whether `finding` is a stale-sensor episode an outage explains (it started while the
        equipment's link was down): such episodes open no sensor order, and their end is not
        recorded either."""
        if finding.kind is not FindingKind.SENSOR or finding.detector != STALE:
            return False
        key = (finding.equipment_id, finding.signals)
        if not finding.active:
            if key in self._masked:
                self._masked.discard(key)
                return True
            return False
        if key in self._masked:
            return True
        if finding.equipment_id in self.outages:
            self._masked.add(key)
            return True
        return False

    def _finding(self, equipment_id: str, outage: Outage, now: float, *, active: bool) -> Finding:
        equipment = self.plant.equipment[equipment_id]
        seconds = now - outage.since
        if active:
            summary = (
                f"no data for {seconds:.0f} s: {outage.reason}; the link, not the machine, "
                "is suspect"
            )
        else:
            summary = f"data returns: {outage.reason} is over after {seconds:.0f} s"
        return Finding(
            equipment_id=equipment_id,
            signals=tuple(equipment.signals),
            kind=FindingKind.COMMUNICATION,
            severity=Severity.ALARM,
            score=1.0 if active else 0.0,
            ts=now,
            detector=DETECTOR,
            summary=summary,
            active=active,
        )


def with_links(verdict: Verdict, watch: LinkWatch) -> Verdict:
    """`verdict`, degraded (if it was ok) by each equipment whose link is down past the grace."""
    lost = sorted((e, o.reason) for e, o in watch.outages.items() if o.reported)
    if not lost:
        return verdict
    reasons = (*verdict.reasons, *(f"no data from {e}: {why}" for e, why in lost))
    status = Status.DEGRADED if verdict.status is Status.OK else verdict.status
    return replace(verdict, status=status, reasons=reasons)
