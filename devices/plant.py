"""The resolved plant: equipment with their signals, limits and MQTT bindings.

This is what the other packages use; it is built from a validated `PlantSpec` by `devices.loader`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from devices.records import Finding, FindingKind
from devices.schema import Criticality, FailureModeSpec, Limits


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    unit: str
    sample_period: float
    limits: Limits
    topic: str
    field: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class FailureMode:
    code: str
    name: str
    mechanism: str
    signals: tuple[str, ...]
    kinds: frozenset[FindingKind]
    checks: tuple[str, ...]
    auto_resolve: bool

    @classmethod
    def from_spec(cls, spec: FailureModeSpec) -> FailureMode:
        return cls(
            code=spec.code,
            name=spec.name,
            mechanism=spec.mechanism,
            signals=tuple(spec.signals),
            kinds=frozenset(spec.kinds),
            checks=tuple(spec.checks),
            auto_resolve=spec.auto_resolve,
        )

    def matches(self, finding: Finding) -> bool:
        if finding.kind not in self.kinds:
            return False
        return not self.signals or any(s in self.signals for s in finding.signals)


INSTRUMENT_FAILURE = FailureMode(
    code="AIR",
    name="Abnormal instrument reading",
    mechanism="Instrument failure",
    signals=(),
    kinds=frozenset({FindingKind.SENSOR}),
    checks=("Check the sensor wiring and mounting", "Compare with a handheld instrument"),
    auto_resolve=True,
)
OTHER = FailureMode(
    code="OTH",
    name="Other",
    mechanism="Unknown",
    signals=(),
    kinds=frozenset(FindingKind),
    checks=("Inspect the equipment and record what was found",),
    auto_resolve=False,
)


@dataclass(frozen=True, slots=True)
class Equipment:
    id: str
    name: str
    type: str
    criticality: Criticality
    team: str
    site: str
    area: str
    line: str
    signals: Mapping[str, Signal]
    failure_modes: tuple[FailureMode, ...] = ()

    @property
    def path(self) -> str:
        """ISA-95 path: site/area/line/equipment."""
        return f"{self.site}/{self.area}/{self.line}/{self.id}"

    def failure_mode_for(self, finding: Finding) -> FailureMode:
        """The first failure mode of this equipment's type that the finding points to."""
        for mode in self.failure_modes:
            if mode.matches(finding):
                return mode
        return INSTRUMENT_FAILURE if finding.kind is FindingKind.SENSOR else OTHER


@dataclass(frozen=True, slots=True)
class Route:
    """Where the values of one payload field go."""

    equipment_id: str
    signal: str


@dataclass(frozen=True)
class Plant:
    site: str
    topic_template: str
    equipment: Mapping[str, Equipment]
    source: str = "<memory>"
    _routes: dict[str, dict[str, Route]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for eq in self.equipment.values():
            for signal in eq.signals.values():
                self._routes.setdefault(signal.topic, {})[signal.field] = Route(eq.id, signal.name)

    def __iter__(self) -> Iterator[Equipment]:
        return iter(self.equipment.values())

    def __len__(self) -> int:
        return len(self.equipment)

    def routes(self, topic: str) -> Mapping[str, Route] | None:
        """Payload field -> (equipment, signal) for a topic, or None if no equipment uses it."""
        return self._routes.get(topic)

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._routes)

    def subscriptions(self) -> list[str]:
        """MQTT filters covering every bound topic, and unknown equipment on the same lines.

        `{equipment}` becomes `+` for each line of the plant: a device not (yet) in the plant file
        is seen, counted and set aside instead of silently ignored, and a worker that owns a shard
        of the plant subscribes only to its own lines.
        """
        patterns = {
            self.topic_template.format(site=eq.site, area=eq.area, line=eq.line, equipment="+")
            for eq in self.equipment.values()
        }
        extra = {t for t in self._routes if not any(_topic_matches(p, t) for p in patterns)}
        return sorted(patterns | extra)

    def signal(self, equipment_id: str, name: str) -> Signal:
        return self.equipment[equipment_id].signals[name]


def _topic_matches(pattern: str, topic: str) -> bool:
    """MQTT topic filter matching (`+` one level, `#` the rest)."""
    parts, levels = pattern.split("/"), topic.split("/")
    for i, part in enumerate(parts):
        if part == "#":
            return True
        if i >= len(levels) or (part != "+" and part != levels[i]):
            return False
    return len(parts) == len(levels)
