"""MQTT source on paho-mqtt 2.x: QoS 1, persistent session, reconnects by itself, never loses a
message it has acknowledged. JSON topics of the plant file, and Sparkplug B as a host application
(`ingest.sparkplug`) when given a host id.

Without `limits`, timestamps are not checked against the wall clock (simulated and replayed time
runs ahead of it); `forewarn run` passes the real-plant `IntakeLimits`.

paho runs its network loop in its own thread and reconnects there with exponential backoff
(`reconnect_delay_set`); should the loop die anyway (an error in paho or in a callback), the thread
logs it, counts it in `SourceStats.loop_restarts` and starts the loop again. Its callbacks only
decode and put batches into a bounded queue; the asyncio side takes them out. A message whose
handling raises is dead-lettered as `handler_error` and acknowledged: no payload can stop the
stream, and none is redelivered forever.

Messages are acknowledged to the broker (manual ack) only once their readings are in the queue or,
with `ack_after_commit` (what `forewarn run` uses), only once the consumer calls `commit` for the
batches they went into, after it stored what they produced: a crash before that and the broker
delivers them again. When the pipeline falls behind the queue fills, the callback waits, and the
broker keeps the rest in our persistent session instead of anyone dropping them (overflow policy:
block). On close, whatever is already queued is still handed out and can be committed until the
source is exited; a message that could not be queued is left unacknowledged and the broker
delivers it again on the next connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import queue
import select
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from devices import ColumnSink, Plant, ReadingColumns
from ingest.base import Batch, SourceStats
from ingest.broker import BrokerAddress
from ingest.payload import JsonDecoder
from ingest.queues import DEFAULT_MAX_BYTES, ByteQueue
from ingest.rejects import Reject, RejectReason
from ingest.sparkplug import Outgoing, SparkplugHost
from ingest.validate import SIMULATED_TIME, IntakeLimits, Validator

log = logging.getLogger(__name__)

FULL_WARNING_INTERVAL = 60.0
"""Seconds between two warnings that the queue is full (a replay or a backlog keeps it full)."""

ProtocolName = Literal["3.1.1", "5"]


class MqttSource:
    """Readings from the plant's MQTT topics, in batches of up to `max_batch` readings."""

    def __init__(
        self,
        plant: Plant,
        broker: BrokerAddress,
        *,
        client_id: str,
        protocol: ProtocolName = "3.1.1",
        qos: int = 1,
        keepalive: int = 30,
        session_expiry: int = 7 * 24 * 3600,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        subscriptions: Sequence[str] | None = None,
        queue_bytes: int = DEFAULT_MAX_BYTES,
        max_batch: int = 10_000,
        reconnect_max_delay: int = 5,
        limits: IntakeLimits | None = None,
        json_topics: bool = True,
        sparkplug_host_id: str | None = None,
        reorder_timeout: float = 2.0,
        stats: SourceStats | None = None,
        ack_after_commit: bool = False,
    ) -> None:
        self.broker = broker
        self.client_id = client_id
        self.stats = stats or SourceStats()
        reject = self.stats.dead_letters.add
        self.sparkplug = (
            SparkplugHost(plant, reject, host_id=sparkplug_host_id, reorder_timeout=reorder_timeout)
            if sparkplug_host_id is not None
            else None
        )
        json_subscriptions = list(subscriptions or plant.subscriptions()) if json_topics else []
        self._subscriptions = json_subscriptions + (
            self.sparkplug.subscriptions() if self.sparkplug is not None else []
        )
        self._qos = qos
        self._keepalive = keepalive
        self._max_batch = max_batch
        self._decoder = JsonDecoder(plant, reject)
        self._validator = Validator(limits or SIMULATED_TIME, reject)
        self._handler_lock = threading.Lock()
        self._streams = plant.streams
        self._sink = ColumnSink(plant.streams)
        """What the network thread decoded since it last handed a batch on."""
        self._held: list[tuple[int, int]] = []
        """(mid, qos) of the messages whose readings are in `_sink`."""
        self._queue: ByteQueue[_Queued] = ByteQueue(queue_bytes)
        self._warned_full = -math.inf
        """When the network thread last said the queue was full (`FULL_WARNING_INTERVAL`)."""
        self._ack_after_commit = ack_after_commit
        self._position = 0
        self._pending: collections.deque[tuple[int, list[tuple[int, int]]]] = collections.deque()
        self._closing = False
        self._intake_closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqtt-take")
        self._v5 = protocol == "5"
        self._connect_properties: Properties | None = None
        self._connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

        self._client = _SupervisedClient(
            self.stats,
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if self._v5 else False,
            protocol=MQTTProtocolVersion.MQTTv5 if self._v5 else MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        if self._v5:
            self._connect_properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            self._connect_properties.SessionExpiryInterval = session_expiry
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls or ca_certs or certfile:
            self._client.tls_set(
                ca_certs=ca_certs,
                certfile=certfile,
                keyfile=keyfile,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        self._set_will()
        self._client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_delay)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.after_read = self._flush

    async def __aenter__(self) -> Self:
        log.info(
            "connecting to %s as %r (persistent session, QoS %d)",
            self.broker,
            self.client_id,
            self._qos,
        )
        self._client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self._keepalive,
            clean_start=False if self._v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
            properties=self._connect_properties,
        )
        self._loop = asyncio.get_running_loop()
        self._client.loop_start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close_intake()
        if self.sparkplug is not None and self.stats.connected:
            offline = self.sparkplug.offline()
            info = self._client.publish(
                offline.topic, offline.payload, qos=offline.qos, retain=offline.retain
            )
            with contextlib.suppress(RuntimeError, ValueError):
                await asyncio.to_thread(info.wait_for_publish, 5.0)
        # Acknowledgements committed just before are still in paho's queue: let its network
        # thread write them, or the broker delivers those messages again to the next session.
        for _ in range(200):
            if not self._client.want_write():
                break
            await asyncio.sleep(0.01)
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)
        self.stats.connected = False
        self._executor.shutdown(wait=False, cancel_futures=True)
        log.info(
            "disconnected from %s; %d messages left unacknowledged for the next session",
            self.broker,
            self._queue.qsize() + sum(len(acks) for _, acks in self._pending),
        )

    async def close_intake(self) -> None:
        """Stop taking messages in; `batches()` then hands out what is queued and ends. The
        connection stays up until the source is exited, so that what is handed out can still be
        committed (acknowledged); messages arriving meanwhile are left for the next session."""
        self._closing = True
        self._intake_closed = True

    async def connected(self) -> None:
        """Wait until connected and subscribed (bound the wait with `asyncio.timeout`)."""
        await self._connected.wait()

    @property
    def position(self) -> int:
        """How many batches `batches()` has handed out: the token `commit` takes."""
        return self._position

    def commit(self, through: int | None = None) -> None:
        """The batches handed out up to `through` (default: all so far) are processed and what
        they produced is stored: acknowledge their messages to the broker (with
        `ack_after_commit`; otherwise they were acknowledged when queued)."""
        through = self._position if through is None else through
        pending = self._pending
        while pending and pending[0][0] <= through:
            for mid, qos in pending.popleft()[1]:
                self._client.ack(mid, qos)

    async def batches(self) -> AsyncIterator[Batch]:
        loop = asyncio.get_running_loop()
        while True:
            taken = await loop.run_in_executor(self._executor, self._take)
            if taken is None:
                return
            batch, acks = taken
            if len(batch):
                self._position += 1
                if acks:
                    self._pending.append((self._position, acks))
                self.stats.observe_lag(batch, time.time())
                yield batch

    def _take(self) -> tuple[Batch, list[tuple[int, int]]] | None:
        """Up to about `max_batch` readings and the acknowledgements their messages wait for:
        waits briefly for a first network read's batch, then takes what is there.

        An empty batch when nothing came in time; None once the intake is closed and the queue
        is empty.
        """
        closed = self._intake_closed
        ticked = self._tick()
        parts = [ticked] if len(ticked) else []
        acks: list[tuple[int, int]] = []
        try:
            queued = self._queue.get(timeout=0.2)
        except queue.Empty:
            if parts or not closed:
                return ReadingColumns.concat(parts) if parts else ticked, acks
            return None
        size = len(ticked)
        while True:
            parts.append(queued.columns)
            acks.extend(queued.acks)
            size += len(queued.columns)
            if size >= self._max_batch:
                break
            try:
                queued = self._queue.get_nowait()
            except queue.Empty:
                break
        self.stats.queue_depth = self._queue.qsize()
        self.stats.queue_bytes = self._queue.bytes
        return ReadingColumns.concat(parts), acks

    # paho callbacks: they run in the network thread.

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("broker %s refused the connection: %s", self.broker, reason_code)
            return
        self.stats.connected = True
        self.stats.connects += 1
        log.info(
            "connected to %s (session present: %s); subscribing to %s",
            self.broker,
            flags.session_present,
            ", ".join(self._subscriptions),
        )
        client.subscribe([(topic, self._qos) for topic in self._subscriptions])

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [
            topic
            for topic, code in zip(self._subscriptions, reason_codes, strict=False)
            if code.is_failure
        ]
        if refused:
            log.error(
                "broker %s refused the subscription to %s (check its ACL)",
                self.broker,
                ", ".join(refused),
            )
        if self.sparkplug is not None:
            self._publish([self.sparkplug.birth()])
        self._set_connected(True)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        log.warning("cannot reach broker %s; retrying with backoff", self.broker)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.stats.connected = False
        self._set_connected(False)
        if self._closing:
            return
        self._set_will()
        self.stats.disconnects += 1
        log.warning(
            "lost the connection to %s (%s); reconnecting with backoff", self.broker, reason_code
        )

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self.stats.messages += 1
        topic, payload, now = message.topic, bytes(message.payload), time.time()
        sink = self._sink
        start = len(sink)
        try:
            self._decode_into(sink, topic, payload, now)
        except Exception as exc:
            sink.truncate(start)
            log.exception("handling a message on %s failed; set aside as handler_error", topic)
            self.stats.dead_letters.add(
                Reject(
                    RejectReason.HANDLER_ERROR, topic, f"{type(exc).__name__}: {exc}", payload, now
                )
            )
        if self._closing:
            sink.truncate(start)
            return  # not acknowledged: the broker delivers it again next session
        if len(sink) > start:
            self._held.append((message.mid, message.qos))  # acknowledged once queued
            if len(sink) >= self._max_batch:
                self._flush()
        elif message.qos > 0:
            client.ack(message.mid, message.qos)

    def _decode_into(self, sink: ColumnSink, topic: str, payload: bytes, now: float) -> None:
        start = len(sink)
        if self._validator.too_large(topic, payload, now):
            return
        if self.sparkplug is not None and topic.startswith("spBv1.0/"):
            with self._handler_lock:
                outgoing = self.sparkplug.handle_into(sink, topic, payload, now)
                self._validator.admit_columns(sink, start, topic, payload, now)
            self._publish(outgoing)
        else:
            self._decoder.decode_into(sink, topic, payload, now)
            self._validator.admit_columns(sink, start, topic, payload, now)

    def _flush(self) -> None:
        """Queue what the network thread decoded since the last time, as one batch (at the end
        of each network read, or when it reaches `max_batch` readings), and acknowledge its
        messages unless they wait for `commit`."""
        if not len(self._sink):
            return
        columns, held = self._sink.take(), self._held
        self._held = []
        if self._closing:
            return  # not acknowledged: the broker delivers them again next session
        if not self._enqueue(_Queued(columns, held if self._ack_after_commit else [])):
            return
        self.stats.readings += len(columns)
        self.stats.last_reading_at = time.time()
        if not self._ack_after_commit:
            for mid, qos in held:
                if qos > 0:
                    self._client.ack(mid, qos)

    def _tick(self) -> ReadingColumns:
        """Readings the Sparkplug host releases after its reorder timeout (taker thread)."""
        sink = ColumnSink(self._streams)
        if self.sparkplug is None:
            return sink.take()
        now = time.time()
        with self._handler_lock:
            outgoing = self.sparkplug.tick_into(sink, now)
            self._validator.admit_columns(sink, 0, "spBv1.0/(reorder timeout)", b"", now)
        self._publish(outgoing)
        if len(sink):
            self.stats.readings += len(sink)
            self.stats.last_reading_at = now
        return sink.take()

    def _publish(self, messages: list[Outgoing]) -> None:
        for out in messages:
            self._client.publish(out.topic, out.payload, qos=out.qos, retain=out.retain)

    def _set_will(self) -> None:
        """Sparkplug: register a fresh STATE death certificate before each (re)connection."""
        if self.sparkplug is not None:
            will = self.sparkplug.will(time.time())
            self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)

    def _set_connected(self, connected: bool) -> None:
        if self._loop is not None and not self._loop.is_closed():
            event = self._connected
            self._loop.call_soon_threadsafe(event.set if connected else event.clear)

    def _enqueue(self, queued: _Queued) -> bool:
        waited = 0.0
        size = queued.columns.nbytes
        while not self._closing:
            if self._queue.put(queued, size, timeout=1.0):
                self.stats.queue_bytes = self._queue.bytes
                return True
            waited += 1.0
            self.stats.queue_full_seconds += 1.0
            now = time.monotonic()
            if now - self._warned_full >= FULL_WARNING_INTERVAL:
                self._warned_full = now
                log.warning(
                    "pipeline is behind: queue full (%d MB) for %.0f s now, %.0f s in all; the "
                    "broker holds the rest of the messages (a replay or a backlog goes as fast "
                    "as the detectors)",
                    self._queue.max_bytes >> 20,
                    waited,
                    self.stats.queue_full_seconds,
                )
        return False


@dataclass(frozen=True, slots=True)
class _Queued:
    """A network read's readings, and (mid, qos) of the messages they came in that wait for
    `commit` to be acknowledged."""

    columns: ReadingColumns
    acks: list[tuple[int, int]]


class _SupervisedClient(paho.Client):
    """A paho client whose network thread starts the loop again when it dies of an error, and
    that takes the packets the socket holds at each wake-up of its loop (up to `WRITE_EVERY`)
    before it calls `after_read`. paho reads one packet per wake-up, a few bytes per system
    call (the packet type, each byte of its length, then the rest): here the socket is read
    `READ_SIZE` bytes at a time into a buffer the packets are cut from, so a burst of messages
    costs a few system calls and the source hands them on together."""

    restart_delay = 1.0
    READ_SIZE = 1 << 16
    WRITE_EVERY = 50
    """Packets read in one go before the acknowledgements owed are written. A broker
    counts what it has sent and not had acknowledged against its queue for the client (mosquitto's
    `max_queued_messages`) and drops the newest messages beyond it: a long burst of reads with
    the acknowledgements held back would make it drop messages while the source keeps up."""

    def __init__(self, stats: SourceStats, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._source_stats = stats
        self.after_read: Callable[[], None] = _nothing
        self._read: bytes = b""
        self._read_at = 0
        self._read_from: Any = None
        """The socket `_read` came from (a new connection starts a new buffer)."""

    def _loop(self, timeout: float = 1.0) -> MQTTErrorCode:
        if self._buffered():  # left by an error or `WRITE_EVERY`: the socket may stay silent
            rc = self.loop_read()
            if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        return super()._loop(timeout)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        try:
            for _ in range(self.WRITE_EVERY):
                rc = super().loop_read(max_packets)
                if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS or not self._holds_data():
                    break
            return rc
        finally:
            self.after_read()
            if self._sock is not None and self.want_write():
                self.loop_write()  # the acknowledgements `after_read` queued, now

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._read_from is not self._sock:
            self._read, self._read_at, self._read_from = b"", 0, self._sock
        at = self._read_at
        if at >= len(self._read):
            self._read = super()._sock_recv(self.READ_SIZE)  # raises when there is nothing
            at = 0
        self._read_at = at + bufsize
        return self._read[at : at + bufsize]

    def _buffered(self) -> bool:
        return self._read_from is self._sock is not None and self._read_at < len(self._read)

    def _holds_data(self) -> bool:
        """Whether a packet's bytes wait in the buffer or the socket (decrypted SSL ones too)."""
        sock = self._sock
        if sock is None:
            return False
        if self._buffered():
            return True
        pending = getattr(sock, "pending", None)
        if pending is not None and pending() > 0:
            return True
        return bool(select.select([sock], [], [], 0)[0])

    def _thread_main(self) -> None:
        try:
            while not self._thread_terminate:
                try:
                    self.loop_forever(retry_first_connection=True)
                except Exception:
                    if self._thread_terminate:
                        break
                    self._source_stats.loop_restarts += 1
                    log.exception(
                        "the MQTT network loop died (restart %d); starting it again",
                        self._source_stats.loop_restarts,
                    )
                    time.sleep(self.restart_delay)
                else:
                    if not self._thread_terminate:
                        time.sleep(self.restart_delay)
        finally:
            self._thread = None


def _nothing() -> None:
    pass
