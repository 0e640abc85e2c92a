"""The resolved plant: equipment with their signals, limits and MQTT bindings.

This is what the other packages use; it is built from a validated `PlantSpec` by `devices.loader`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from devices.bindings import (
    FieldPath,
    OpcUaNode,
    OpcUaServerSpec,
    PayloadFormat,
    SparkplugAddress,
    TimestampUnit,
    TopicFormat,
    parse_path,
)
from devices.columns import StreamKey
from devices.errors import DevicesError
from devices.organisation import Organisation
from devices.records import Finding, FindingKind
from devices.schema import Criticality, DetectorSpec, FailureModeSpec, Limits

DEFAULT_FORMAT = TopicFormat(PayloadFormat.VALUES, ("ts",), TimestampUnit.AUTO)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """A detector named in the plant file, with its parameters (checked by the detectors)."""

    name: str
    params: Mapping[str, float | int | bool | str] = field(default_factory=dict)

    @classmethod
    def from_specs(cls, specs: list[DetectorSpec] | None) -> tuple[DetectorConfig, ...] | None:
        if specs is None:
            return None
        return tuple(cls(spec.name, dict(spec.params)) for spec in specs)


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    unit: str
    sample_period: float
    limits: Limits
    topic: str
    field: str
    description: str = ""
    opcua: OpcUaNode | None = None
    """The OPC UA monitored item this signal is read from, if any."""
    metric: str = ""
    """Sparkplug B metric name; empty: the signal name."""
    physical_range: tuple[float | None, float | None] = (None, None)
    """(min, max) the sensor can physically report, as the plant file gives it."""
    detectors: tuple[DetectorConfig, ...] | None = None
    """Detectors of this signal; None: those of its equipment."""

    @property
    def sparkplug_metric(self) -> str:
        return self.metric or self.name


@dataclass(frozen=True, slots=True)
class FailureMode:
    code: str
    name: str
    mechanism: str
    signals: tuple[str, ...]
    kinds: frozenset[FindingKind]
    checks: tuple[str, ...]
    auto_resolve: bool
    skills: tuple[str, ...] = ()
    """Skill tags a technician needs for this failure mode."""

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
            skills=tuple(spec.skills),
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
    skills=("instrumentation",),
)
COMMUNICATION_FAILURE = FailureMode(
    code="COM",
    name="Loss of communication",
    mechanism="Communication failure",
    signals=(),
    kinds=frozenset({FindingKind.COMMUNICATION}),
    checks=(
        "Check the edge node, gateway or OPC UA server the equipment reports through",
        "Check the network path and the MQTT broker between it and forewarn",
        "Confirm the machine itself is running (its data may only be late)",
    ),
    auto_resolve=True,
    skills=("instrumentation",),
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
    sparkplug: SparkplugAddress | None = None
    """The Sparkplug B edge node (and device) that carries this equipment's metrics."""
    regime_signal: str | None = None
    """The load or speed signal whose level tells operating regimes apart."""
    detectors: tuple[DetectorConfig, ...] | None = None
    """Detectors of this equipment and of its signals that name none; None: the default."""
    receive_time: bool = False
    """Its readings are stamped with the time they arrive, not the device's time."""

    @property
    def path(self) -> str:
        """ISA-95 path: site/area/line/equipment."""
        return f"{self.site}/{self.area}/{self.line}/{self.id}"

    def failure_mode_for(self, finding: Finding) -> FailureMode:
        """The first failure mode of this equipment's type that the finding points to."""
        for mode in self.failure_modes:
            if mode.matches(finding):
                return mode
        if finding.kind is FindingKind.SENSOR:
            return INSTRUMENT_FAILURE
        if finding.kind is FindingKind.COMMUNICATION:
            return COMMUNICATION_FAILURE
        return OTHER


@dataclass(frozen=True, slots=True)
class Route:
    """Where the values of one payload field go."""

    equipment_id: str
    signal: str
    stream: int = -1
    """The signal's position in `Plant.streams` (-1: a route of no plant)."""


@dataclass(frozen=True)
class Plant:
    site: str
    topic_template: str
    equipment: Mapping[str, Equipment]
    source: str = "<memory>"
    topic_formats: Mapping[str, TopicFormat] = field(default_factory=dict)
    """Payload format of topics that do not use the default `{"ts", "values"}` shape."""
    opcua_servers: Mapping[str, OpcUaServerSpec] = field(default_factory=dict)
    organisation: Organisation = field(default_factory=Organisation)
    """Teams, people, escalation and automatic actions (see devices.organisation)."""
    sparkplug_configured: bool = False
    """The plant file names Sparkplug B groups, edge nodes, devices or metrics."""
    partial: bool = False
    """A part of the plant file's equipment (a worker's shard, see `subset`): the sources
    subscribe to the exact topics and Sparkplug edge nodes of this equipment only."""
    _routes: dict[str, dict[str, Route]] = field(init=False, repr=False, compare=False)
    _paths: dict[str, tuple[tuple[FieldPath, Route], ...]] = field(
        init=False, repr=False, compare=False
    )
    _sparkplug: dict[SparkplugAddress, dict[str, Route]] = field(
        init=False, repr=False, compare=False
    )
    _streams: list[StreamKey] = field(init=False, repr=False, compare=False)
    """The indexes above are built from `equipment` by each instance (`dataclasses.replace` and
    `subset` included), so a route's stream number is always this plant's."""

    def __post_init__(self) -> None:
        streams: list[StreamKey] = []
        for name in ("_routes", "_paths", "_sparkplug"):
            object.__setattr__(self, name, {})
        object.__setattr__(self, "_streams", streams)
        for eq in self.equipment.values():
            for signal in eq.signals.values():
                route = Route(eq.id, signal.name, len(streams))
                streams.append((eq.id, signal.name))
                self._routes.setdefault(signal.topic, {})[signal.field] = route
                if eq.sparkplug is not None:
                    metrics = self._sparkplug.setdefault(eq.sparkplug, {})
                    metrics[signal.sparkplug_metric] = route
        for topic, fmt in self.topic_formats.items():
            if fmt.format is PayloadFormat.PATHS:
                routes = self._routes.get(topic, {})
                self._paths[topic] = tuple((parse_path(f), r) for f, r in routes.items())

    def __iter__(self) -> Iterator[Equipment]:
        return iter(self.equipment.values())

    def __len__(self) -> int:
        return len(self.equipment)

    def routes(self, topic: str) -> Mapping[str, Route] | None:
        """Payload field -> (equipment, signal) for a topic, or None if no equipment uses it."""
        return self._routes.get(topic)

    def topic_format(self, topic: str) -> TopicFormat:
        return self.topic_formats.get(topic, DEFAULT_FORMAT)

    def field_paths(self, topic: str) -> tuple[tuple[FieldPath, Route], ...]:
        """(field path, route) of each signal on a topic with the `paths` format."""
        return self._paths.get(topic, ())

    @property
    def streams(self) -> Sequence[StreamKey]:
        """Every signal as `(equipment_id, signal)`, equipment by equipment in the plant file's
        order: the table a `Route.stream` and a `ReadingColumns` batch of this plant index."""
        return self._streams

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._routes)

    def subset(self, equipment_ids: Iterable[str]) -> Plant:
        """The plant restricted to these equipment (in the plant's order), `partial`: their
        topics, Sparkplug bindings and OPC UA nodes only, and only the OPC UA servers they are
        read from. The organisation (teams, people, actions) stays whole."""
        wanted = set(equipment_ids)
        unknown = sorted(wanted - set(self.equipment))
        if unknown:
            raise DevicesError(
                f"{self.source} has no equipment {', '.join(unknown)}; its equipment: "
                f"{', '.join(self.equipment)}"
            )
        equipment = {eq_id: eq for eq_id, eq in self.equipment.items() if eq_id in wanted}
        signals = [s for eq in equipment.values() for s in eq.signals.values()]
        topics = {s.topic for s in signals}
        servers = {s.opcua.server for s in signals if s.opcua is not None}
        return replace(
            self,
            equipment=equipment,
            topic_formats={t: f for t, f in self.topic_formats.items() if t in topics},
            opcua_servers={n: s for n, s in self.opcua_servers.items() if n in servers},
            partial=True,
        )

    def sparkplug_metrics(self, address: SparkplugAddress) -> Mapping[str, Route] | None:
        """Metric name -> route for a Sparkplug edge node or device, or None if none is bound."""
        return self._sparkplug.get(address)

    @property
    def sparkplug_groups(self) -> frozenset[str]:
        return frozenset(address.group for address in self._sparkplug)

    @property
    def sparkplug_edge_nodes(self) -> frozenset[tuple[str, str]]:
        """(group, edge node) of every Sparkplug binding."""
        return frozenset((address.group, address.edge_node) for address in self._sparkplug)

    def opcua_signals(self, server: str) -> list[tuple[Route, OpcUaNode]]:
        """The signals read from one OPC UA server, with their monitored items."""
        signals = (signal for eq in self.equipment.values() for signal in eq.signals.values())
        return [
            (Route(*key, stream), signal.opcua)
            for stream, (key, signal) in enumerate(zip(self._streams, signals, strict=True))
            if signal.opcua is not None and signal.opcua.server == server
        ]

    def subscriptions(self) -> list[str]:
        """MQTT filters covering every bound topic, and unknown equipment on the same lines.

        `{equipment}` becomes `+` for each line of the plant: a device not (yet) in the plant file
        is seen, counted and set aside instead of silently ignored. A `partial` plant (a worker's
        shard) subscribes to exactly the topics of its equipment, nothing of the others'.
        """
        if self.partial:
            return sorted(self._routes)
        patterns = {
            self.topic_template.format(site=eq.site, area=eq.area, line=eq.line, equipment="+")
            for eq in self.equipment.values()
        }
        extra = {t for t in self._routes if not any(topic_matches(p, t) for p in patterns)}
        return sorted(patterns | extra)

    def signal(self, equipment_id: str, name: str) -> Signal:
        return self.equipment[equipment_id].signals[name]


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT topic filter matching (`+` one level, `#` the rest)."""
    parts, levels = pattern.split("/"), topic.split("/")
    for i, part in enumerate(parts):
        if part == "#":
            return True
        if i >= len(levels) or (part != "+" and part != levels[i]):
            return False
    return len(parts) == len(levels)
