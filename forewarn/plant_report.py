"""What `forewarn plant check` prints: where each signal comes from, its limits, its detectors and
how long each watches before it judges; the sources the plant needs; and what looks unbound."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors import DEFAULT as DEFAULT_DETECTORS
from detectors.registry import build_for_equipment, build_for_signal, is_equipment_detector
from devices import DetectorConfig, Equipment, Limits, Plant, Signal
from devices.plant import topic_matches
from forewarn.shards import assignment, by_edge_node

_WARMUP_FIELDS = ("warmup", "scale_warmup")


@dataclass(frozen=True, slots=True)
class SignalReport:
    name: str
    binding: str
    limits: str
    detectors: str


@dataclass(frozen=True, slots=True)
class EquipmentReport:
    equipment: Equipment
    signals: tuple[SignalReport, ...]
    detectors: str
    """Detectors scoring the equipment's signals together."""


@dataclass(frozen=True, slots=True)
class PlantReport:
    summary: str
    sources: tuple[str, ...]
    equipment: tuple[EquipmentReport, ...]
    warnings: tuple[str, ...]


def plant_report(
    plant: Plant, *, sparkplug: bool = False, detectors: Sequence[str] | None = None
) -> PlantReport:
    """`sparkplug`: the settings run forewarn as a Sparkplug B host, so signals not read over
    OPC UA come from Sparkplug metrics (and JSON topics); `detectors`: the settings' default."""
    default = tuple(DetectorConfig(name) for name in (detectors or DEFAULT_DETECTORS))
    sparkplug = sparkplug or plant.sparkplug_configured
    reports = tuple(_equipment(eq, default, sparkplug) for eq in plant)
    signals = [(eq, s) for eq in plant for s in eq.signals.values()]
    on_mqtt = [(eq, s) for eq, s in signals if s.opcua is None]
    sources = [
        f"OPC UA {name} ({server.url}): "
        f"{sum(1 for _, s in signals if s.opcua and s.opcua.server == name)} signals"
        for name, server in plant.opcua_servers.items()
    ]
    if on_mqtt:
        topics = {s.topic for _, s in on_mqtt}
        filters = [f for f in plant.subscriptions() if any(topic_matches(f, t) for t in topics)]
        sources.append(f"MQTT JSON: {len(on_mqtt)} signals on {', '.join(filters)}")
        if sparkplug:
            groups = sorted({eq.sparkplug.group for eq, _ in on_mqtt if eq.sparkplug})
            sources.append(
                f"Sparkplug B: {len(on_mqtt)} metrics in group(s) {', '.join(groups)} "
                "(read only when the settings give sparkplug.host_id)"
            )
    lines = {(eq.area, eq.line) for eq in plant}
    summary = (
        f"{plant.source}: site {plant.site}, {len(lines)} lines, {len(plant)} equipment, "
        f"{len(signals)} signals"
    )
    return PlantReport(summary, tuple(sources), reports, tuple(_warnings(plant)))


@dataclass(frozen=True, slots=True)
class ShardReport:
    shard: int
    equipment: tuple[str, ...]
    signals: int


def shard_report(plant: Plant, shards: int, *, sparkplug: bool = False) -> tuple[ShardReport, ...]:
    """What each of `shards` workers owns (`forewarn.shards`; by Sparkplug edge node when
    `sparkplug` or the plant file names Sparkplug)."""
    owners = assignment(plant, shards, edge_nodes=by_edge_node(plant, sparkplug))
    return tuple(
        ShardReport(
            shard,
            tuple(eq.id for eq in plant if owners[eq.id] == shard),
            sum(len(eq.signals) for eq in plant if owners[eq.id] == shard),
        )
        for shard in range(shards)
    )


def _equipment(
    eq: Equipment, default: tuple[DetectorConfig, ...], sparkplug: bool
) -> EquipmentReport:
    configs = eq.detectors or default
    together = []
    for config in configs:
        if is_equipment_detector(config.name):
            detector = build_for_equipment(config, eq)
            if detector is not None:
                period = min(s.sample_period for s in eq.signals.values())
                together.append(_with_warmup(config.name, detector, period))
    signals = tuple(
        SignalReport(
            name=s.name,
            binding=_binding(eq, s, sparkplug),
            limits=_limits(s.limits, s.unit),
            detectors=", ".join(_signal_detectors(s, s.detectors or configs)) or "none",
        )
        for s in eq.signals.values()
    )
    return EquipmentReport(eq, signals, ", ".join(together) or "none")


def _binding(eq: Equipment, signal: Signal, sparkplug: bool) -> str:
    node = signal.opcua
    if node is not None:
        where = node.node_id or node.browse_path
        return f"OPC UA {node.server} {where} (sampling {node.sampling_interval:g}s)"
    text = f"MQTT {signal.topic} field {signal.field}"
    if sparkplug and eq.sparkplug is not None:
        address = eq.sparkplug
        device = f"/{address.device}" if address.device else ""
        text += (
            f"; Sparkplug {address.group}/{address.edge_node}{device} "
            f"metric {signal.sparkplug_metric}"
        )
    return text


def _limits(limits: Limits, unit: str) -> str:
    parts = [
        f"{name} {value:g}"
        for name in ("alarm_low", "warn_low", "warn_high", "alarm_high")
        if (value := getattr(limits, name)) is not None
    ]
    return (", ".join(parts) + (f" {unit}" if unit else "")) if parts else "none"


def _signal_detectors(signal: Signal, configs: Sequence[DetectorConfig]) -> list[str]:
    names = []
    for config in configs:
        if is_equipment_detector(config.name):
            continue
        detector = build_for_signal(config, signal)
        if detector is not None:
            names.append(_with_warmup(config.name, detector, signal.sample_period))
    return names


def _with_warmup(name: str, detector: object, period: float) -> str:
    for field in _WARMUP_FIELDS:
        samples = getattr(detector, field, None)
        if isinstance(samples, int) and samples > 0:
            least = getattr(detector, "warmup_duration", 0.0)  # samples and time, as `noise`
            seconds = max(samples * period, least if isinstance(least, float) else 0.0)
            return f"{name} (warm-up {samples} samples, {_duration(seconds)})"
    return name


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _warnings(plant: Plant) -> list[str]:
    warnings = []
    for eq in plant:
        on_opcua = [s.name for s in eq.signals.values() if s.opcua is not None]
        if not on_opcua:
            continue
        for signal in eq.signals.values():
            if signal.opcua is None:
                warnings.append(
                    f"{eq.id}.{signal.name} has no OPC UA node while {', '.join(on_opcua)} do: "
                    f"it would come only from MQTT {signal.topic}. Bind it "
                    f"(signals: {{{signal.name}: {{opcua: {{node: ...}}}}}}) or remove it "
                    f"(signals: {{{signal.name}: null}})"
                )
    if plant.sparkplug_configured and not any(
        s.opcua is None for eq in plant for s in eq.signals.values()
    ):
        warnings.append("the plant names Sparkplug metrics but every signal is read over OPC UA")
    return warnings
