"""A Sparkplug B host application (Sparkplug 3.0): births, aliases, sequence numbers, deaths.

`SparkplugHost` is a pure state machine: it takes MQTT messages and the time, and returns readings
(or appends them to a `ColumnSink`) and the messages to publish (rebirth requests, its own
STATE). `ingest.mqtt.MqttSource` runs it on the broker connection, beside the JSON topics.

- NBIRTH / DBIRTH name the metrics and give their aliases; NDATA / DDATA may carry aliases only.
- Every message of an edge node but NDEATH carries `seq`, 0..255 then 0 again. A message that
  arrives early is held until the missing ones come, at most `reorder_timeout` seconds; then the
  gap is counted, the held messages are processed in order, and the node is asked to rebirth
  (NCMD `Node Control/Rebirth`). Data with an unknown alias or from a node or device whose birth
  was not seen also asks for a rebirth (at most once per `rebirth_holdoff` per node).
- NDEATH (whose bdSeq matches the current birth) and DDEATH turn every metric of that node or
  device stale: a BAD-quality reading without value, which detectors never learn from.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from devices import ColumnSink, Plant, Reading, Route, SparkplugAddress
from devices.columns import BAD, GOOD
from devices.sparkplug import (
    BDSEQ,
    NAMESPACE,
    REBIRTH,
    DataType,
    MessageType,
    Metric,
    Payload,
    SparkplugError,
    Topic,
    decode_payload,
    encode_payload,
    encode_state,
    state_topic,
)
from ingest.rejects import Reject, RejectReason

log = logging.getLogger(__name__)
_isfinite = math.isfinite

_SEQ_MODULO = 256
_MAX_HELD = 64
_STATE_PREFIX = f"{NAMESPACE}/STATE/"
_TOPICS_KEPT = 4096
"""Parsed topics kept for the next message on them (cleared when full: the broker's topics are
not bounded by the plant file)."""
_NBIRTH, _NDEATH, _DBIRTH, _DDEATH, _DDATA, _NCMD, _DCMD = (
    MessageType.NBIRTH,
    MessageType.NDEATH,
    MessageType.DBIRTH,
    MessageType.DDEATH,
    MessageType.DDATA,
    MessageType.NCMD,
    MessageType.DCMD,
)
_UNSET = object()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the host publishes."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False


@dataclass
class SparkplugStats:
    births: int = 0
    deaths: int = 0
    sequence_gaps: int = 0
    rebirth_requests: int = 0


@dataclass(slots=True)
class _Held:
    topic: Topic
    payload: Payload
    raw: bytes
    received_at: float


@dataclass
class _Node:
    group: str
    edge_node: str
    bdseq: int | None = None
    seq: int | None = None
    alive: bool = False
    dead: bool = False
    """Its NDEATH (of the current birth) came and no NBIRTH since."""
    dead_devices: set[str] = field(default_factory=set)
    """Devices whose DDEATH came and no DBIRTH since."""
    aliases: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    """alias -> (device or None for the node's own metrics, metric name)."""
    devices: set[str] = field(default_factory=set)
    held: dict[int, _Held] = field(default_factory=dict)
    gap_since: float | None = None
    rebirth_at: float | None = None
    routes: dict[str | None, Mapping[str, Route] | None] = field(default_factory=dict)
    """The plant's metric routes of the node (None) and of each device, as looked up."""


Result = tuple[list[Reading], list[Outgoing]]


class SparkplugHost:
    def __init__(
        self,
        plant: Plant,
        on_reject: Callable[[Reject], None],
        *,
        host_id: str,
        reorder_timeout: float = 2.0,
        rebirth_holdoff: float = 5.0,
        groups: Iterable[str] | None = None,
    ) -> None:
        self.host_id = host_id
        self.stats = SparkplugStats()
        self._plant = plant
        self._on_reject = on_reject
        self._reorder_timeout = reorder_timeout
        self._rebirth_holdoff = rebirth_holdoff
        self._groups = sorted(groups if groups is not None else plant.sparkplug_groups)
        self._nodes: dict[tuple[str, str], _Node] = {}
        self._topics: dict[str, Topic] = {}
        self._state_ts = 0

    # ---- the host's own STATE ----

    def subscriptions(self) -> list[str]:
        """Every group of the plant; for a `partial` plant (a worker's shard), only its edge nodes
        (`spBv1.0/{group}/+/{edge_node}/#`: their N* and D* messages; see forewarn.shards)."""
        if self._plant.partial:
            nodes = sorted(self._plant.sparkplug_edge_nodes)
            filters = [f"{NAMESPACE}/{group}/+/{node}/#" for group, node in nodes]
        else:
            filters = [f"{NAMESPACE}/{group}/#" for group in self._groups]
        return [*filters, state_topic(self.host_id)]

    def will(self, now: float) -> Outgoing:
        """The death certificate to register before connecting (retained STATE offline)."""
        self._state_ts = int(now * 1000)
        return Outgoing(
            state_topic(self.host_id), encode_state(False, self._state_ts), qos=1, retain=True
        )

    def offline(self) -> Outgoing:
        """What the will says, published by the host itself before it disconnects on purpose."""
        return Outgoing(
            state_topic(self.host_id), encode_state(False, self._state_ts), qos=1, retain=True
        )

    def birth(self) -> Outgoing:
        """STATE online, with the timestamp of the will registered for this connection."""
        return Outgoing(
            state_topic(self.host_id), encode_state(True, self._state_ts), qos=1, retain=True
        )

    # ---- messages ----

    def handle(self, topic_name: str, raw: bytes, received_at: float) -> Result:
        """The readings of one message, and what to publish in answer."""
        sink = ColumnSink(self._plant.streams)
        outgoing = self.handle_into(sink, topic_name, raw, received_at)
        return sink.readings(), outgoing

    def handle_into(
        self, sink: ColumnSink, topic_name: str, raw: bytes, received_at: float
    ) -> list[Outgoing]:
        """`handle`, appending the readings to `sink` (numbered by the plant's `streams`):
        what a source does. Returns what to publish."""
        outgoing: list[Outgoing] = []
        if topic_name.startswith(_STATE_PREFIX):
            return outgoing
        topic = self._topics.get(topic_name)
        if topic is None:
            try:
                topic = Topic.parse(topic_name)
            except SparkplugError as exc:
                self._reject(RejectReason.PARSE_ERROR, topic_name, str(exc), raw, received_at)
                return outgoing
            if len(self._topics) >= _TOPICS_KEPT:
                self._topics.clear()
            self._topics[topic_name] = topic
        kind = topic.message_type
        if kind is _NCMD or kind is _DCMD:
            return outgoing
        try:
            payload = decode_payload(raw)
        except SparkplugError as exc:
            self._reject(RejectReason.PARSE_ERROR, topic_name, str(exc), raw, received_at)
            return outgoing
        node = self._nodes.get((topic.group, topic.edge_node))
        if node is None:
            node = self._nodes[(topic.group, topic.edge_node)] = _Node(topic.group, topic.edge_node)
        if kind is _NBIRTH:
            self._node_birth(node, topic, payload, raw, received_at, sink)
        elif kind is _NDEATH:
            self._node_death(node, payload, received_at, sink)
        elif not node.alive:
            self._reject(
                RejectReason.NO_BIRTH,
                topic_name,
                f"{kind} from edge node {node.edge_node!r} before its NBIRTH",
                raw,
                received_at,
            )
            self._request_rebirth(node, received_at, outgoing)
        else:
            self._sequenced(node, _Held(topic, payload, raw, received_at), sink, outgoing)
        return outgoing

    def tick(self, now: float) -> Result:
        """Give up waiting for missing sequence numbers held longer than the reorder timeout."""
        sink = ColumnSink(self._plant.streams)
        outgoing = self.tick_into(sink, now)
        return sink.readings(), outgoing

    def tick_into(self, sink: ColumnSink, now: float) -> list[Outgoing]:
        """`tick`, appending the readings it releases to `sink`."""
        outgoing: list[Outgoing] = []
        for node in self._nodes.values():
            if node.gap_since is not None and now - node.gap_since >= self._reorder_timeout:
                self._give_up_waiting(node, now, sink, outgoing)
        return outgoing

    def dead(self) -> dict[SparkplugAddress, str]:
        """Edge nodes (device None) and devices whose death certificate is the last word: what
        NDEATH or DDEATH they sent, to be told as a communication problem until they are born
        again. Safe to call from another thread (it reads a copy)."""
        dead: dict[SparkplugAddress, str] = {}
        for node in list(self._nodes.values()):
            name = f"{node.group}/{node.edge_node}"
            if node.dead:
                dead[SparkplugAddress(node.group, node.edge_node, None)] = f"NDEATH of {name}"
                continue
            for device in sorted(node.dead_devices):
                address = SparkplugAddress(node.group, node.edge_node, device)
                dead[address] = f"DDEATH of {name}/{device}"
        return dead

    # ---- births and deaths ----

    def _node_birth(
        self,
        node: _Node,
        topic: Topic,
        payload: Payload,
        raw: bytes,
        received_at: float,
        sink: ColumnSink,
    ) -> None:
        self.stats.births += 1
        node.alive = True
        node.dead = False
        node.dead_devices.clear()
        node.seq = payload.seq
        node.bdseq = None
        node.aliases.clear()
        node.devices.clear()
        node.routes.clear()
        node.held.clear()
        node.gap_since = None
        for metric in payload.metrics:
            if metric.name == BDSEQ and isinstance(metric.value, int):
                node.bdseq = metric.value
            if metric.name is not None and metric.alias is not None:
                node.aliases[metric.alias] = (None, metric.name)
        log.info("NBIRTH from %s/%s (bdSeq %s)", node.group, node.edge_node, node.bdseq)
        self._metrics(node, None, topic, payload, raw, received_at, sink, birth=True)

    def _node_death(
        self, node: _Node, payload: Payload, received_at: float, sink: ColumnSink
    ) -> None:
        bdseq = next(
            (m.value for m in payload.metrics if m.name == BDSEQ and isinstance(m.value, int)),
            None,
        )
        if bdseq is not None and node.bdseq is not None and bdseq != node.bdseq:
            log.info(
                "ignoring NDEATH of %s/%s with bdSeq %d (current birth has %d)",
                node.group,
                node.edge_node,
                bdseq,
                node.bdseq,
            )
            return
        self.stats.deaths += 1
        if not node.alive:
            return
        node.alive = False
        node.dead = True
        node.held.clear()
        node.gap_since = None
        ts = _seconds(payload.timestamp, received_at)
        log.warning("NDEATH of %s/%s: its metrics are stale", node.group, node.edge_node)
        for device in [None, *sorted(node.devices)]:
            self._stale(node, device, ts, sink)
        node.devices.clear()

    def _routes(self, node: _Node, device: str | None) -> Mapping[str, Route] | None:
        routes = node.routes.get(device, _UNSET)
        if routes is _UNSET:
            address = SparkplugAddress(node.group, node.edge_node, device)
            routes = node.routes[device] = self._plant.sparkplug_metrics(address)
        assert routes is None or isinstance(routes, Mapping)
        return routes

    def _stale(self, node: _Node, device: str | None, ts: float, sink: ColumnSink) -> None:
        for route in (self._routes(node, device) or {}).values():
            sink.append(route.stream, ts, math.nan, BAD)

    # ---- sequenced messages ----

    def _sequenced(
        self, node: _Node, message: _Held, sink: ColumnSink, outgoing: list[Outgoing]
    ) -> None:
        seq = message.payload.seq
        if seq is None or node.seq is None:
            self._process(node, message, sink, outgoing)
            return
        expected = (node.seq + 1) % _SEQ_MODULO
        if seq == expected:
            self._process(node, message, sink, outgoing)
            self._release_held(node, sink, outgoing)
            return
        ahead = (seq - expected) % _SEQ_MODULO
        if ahead >= _SEQ_MODULO // 2:
            self._reject(
                RejectReason.OUT_OF_ORDER,
                str(message.topic),
                f"seq {seq} arrived after {node.seq} (a duplicate or a late message)",
                message.raw,
                message.received_at,
            )
            return
        node.held[seq] = message
        if node.gap_since is None:
            node.gap_since = message.received_at
        if len(node.held) >= _MAX_HELD:
            self._give_up_waiting(node, message.received_at, sink, outgoing)

    def _release_held(self, node: _Node, sink: ColumnSink, outgoing: list[Outgoing]) -> None:
        while node.seq is not None and (nxt := (node.seq + 1) % _SEQ_MODULO) in node.held:
            self._process(node, node.held.pop(nxt), sink, outgoing)
        if not node.held:
            node.gap_since = None

    def _give_up_waiting(
        self, node: _Node, now: float, sink: ColumnSink, outgoing: list[Outgoing]
    ) -> None:
        last = node.seq if node.seq is not None else _SEQ_MODULO - 1
        order = sorted(node.held, key=lambda s: (s - last) % _SEQ_MODULO)
        missing = (order[0] - last - 1) % _SEQ_MODULO if order else 0
        self.stats.sequence_gaps += 1
        log.warning(
            "edge node %s/%s: %d message(s) after seq %d never arrived; asking for a rebirth",
            node.group,
            node.edge_node,
            missing,
            last,
        )
        held = [node.held[s] for s in order]
        node.held.clear()
        node.gap_since = None
        for message in held:
            self._process(node, message, sink, outgoing)
        self._request_rebirth(node, now, outgoing, force=True)

    def _process(
        self, node: _Node, message: _Held, sink: ColumnSink, outgoing: list[Outgoing]
    ) -> None:
        if message.payload.seq is not None:
            node.seq = message.payload.seq
        topic, payload = message.topic, message.payload
        kind = topic.message_type
        device = topic.device
        if kind is _DBIRTH:
            assert device is not None
            self.stats.births += 1
            node.devices.add(device)
            node.dead_devices.discard(device)
            for metric in payload.metrics:
                if metric.name is not None and metric.alias is not None:
                    node.aliases[metric.alias] = (device, metric.name)
        elif kind is _DDEATH:
            self.stats.deaths += 1
            node.devices.discard(device or "")
            node.dead_devices.add(device or "")
            self._stale(node, device, _seconds(payload.timestamp, message.received_at), sink)
            return
        elif kind is _DDATA and device not in node.devices:
            self._reject(
                RejectReason.NO_BIRTH,
                str(topic),
                f"DDATA from device {device!r} before its DBIRTH",
                message.raw,
                message.received_at,
            )
            self._request_rebirth(node, message.received_at, outgoing)
            return
        unknown = self._metrics(
            node,
            device,
            topic,
            payload,
            message.raw,
            message.received_at,
            sink,
            birth=kind is _DBIRTH,
        )
        if unknown:
            self._request_rebirth(node, message.received_at, outgoing)

    def _metrics(
        self,
        node: _Node,
        device: str | None,
        topic: Topic,
        payload: Payload,
        raw: bytes,
        received_at: float,
        sink: ColumnSink,
        *,
        birth: bool,
    ) -> bool:
        """Readings of the payload's bound metrics; True if an alias was unknown."""
        routes = self._routes(node, device)
        if routes is None:
            if not birth:
                self._reject(
                    RejectReason.UNKNOWN_EQUIPMENT,
                    str(topic),
                    "no equipment of the plant file is bound to this edge node / device",
                    raw,
                    received_at,
                )
            return False
        unknown_alias = False
        default_ts = _seconds(payload.timestamp, received_at)
        aliases = node.aliases
        add_stream, add_ts, add_value = sink.stream.append, sink.ts.append, sink.value.append
        add_quality = sink.quality.append
        for metric in payload.metrics:
            name = metric.name
            if name is None:
                known = aliases.get(metric.alias) if metric.alias is not None else None
                if known is None or known[0] != device:
                    unknown_alias = True
                    self._reject(
                        RejectReason.UNKNOWN_SIGNAL,
                        str(topic),
                        f"alias {metric.alias} was not declared in a birth certificate",
                        raw,
                        received_at,
                    )
                    continue
                name = known[1]
            route = routes.get(name)
            if route is None:
                if not birth and name != BDSEQ and not name.startswith("Node Control/"):
                    self._reject(
                        RejectReason.UNKNOWN_SIGNAL,
                        str(topic),
                        f"metric {name!r} is not bound to a signal",
                        raw,
                        received_at,
                    )
                continue
            value = metric.value
            if (
                type(value) is float
                and metric.timestamp is None
                and not metric.is_null
                and _isfinite(value)
            ):
                add_stream(route.stream)
                add_ts(default_ts)
                add_value(value)
                add_quality(GOOD)
                continue
            self._reading(sink, route, metric, default_ts, topic, raw, received_at)
        return unknown_alias

    def _reading(
        self,
        sink: ColumnSink,
        route: Route,
        metric: Metric,
        default_ts: float,
        topic: Topic,
        raw: bytes,
        received_at: float,
    ) -> None:
        """The reading of one bound metric, unless rejected: any value, any timestamp."""
        ts = _seconds(metric.timestamp, default_ts) if metric.timestamp is not None else default_ts
        value = metric.value
        if metric.is_null or value is None:
            sink.append(route.stream, ts, math.nan, BAD)
            return
        if isinstance(value, str | bytes):
            datatype = metric.datatype
            label = datatype.name if isinstance(datatype, DataType) else str(datatype)
            self._reject(
                RejectReason.WRONG_TYPE,
                str(topic),
                f"metric {metric.name or metric.alias}: {label} {value!r} is not a number",
                raw,
                received_at,
            )
            return
        number = float(value)
        if not math.isfinite(number):
            self._reject(
                RejectReason.NOT_FINITE,
                str(topic),
                f"metric {metric.name or metric.alias}={number}",
                raw,
                received_at,
            )
            return
        sink.append(route.stream, ts, number)

    # ---- rebirth ----

    def _request_rebirth(
        self, node: _Node, now: float, outgoing: list[Outgoing], *, force: bool = False
    ) -> None:
        if (
            not force
            and node.rebirth_at is not None
            and now - node.rebirth_at < self._rebirth_holdoff
        ):
            return
        node.rebirth_at = now
        self.stats.rebirth_requests += 1
        command = Payload(
            timestamp=int(now * 1000),
            metrics=(Metric(REBIRTH, datatype=DataType.BOOLEAN, value=True),),
        )
        topic = Topic(node.group, MessageType.NCMD, node.edge_node)
        log.info("asking edge node %s/%s for a rebirth", node.group, node.edge_node)
        outgoing.append(Outgoing(str(topic), encode_payload(command)))

    def _reject(
        self, reason: RejectReason, topic: str, detail: str, raw: bytes, received_at: float
    ) -> None:
        self._on_reject(Reject(reason, topic, detail, raw, received_at))


def _seconds(timestamp_ms: int | None, default: float) -> float:
    return timestamp_ms / 1000.0 if timestamp_ms is not None else default
