"""OPC UA source on asyncua: one server of the plant file, monitored items per signal, and a
supervisor loop that reconnects with backoff and subscribes again.

- Each signal's monitored item has its own sampling interval, queue size and deadband (absolute,
  or percent of the EURange); nodes are addressed by node id or by browse path, `{ns}` standing
  for the index of the server's namespace URI, looked up on every connection. Without a deadband
  every new sample is reported, also when its value repeats the last one (trigger
  StatusValueTimestamp): a sensor stuck at one value must look stuck, not silent.
- A lost connection (server restart, network) ends the session; the supervisor logs and counts
  the gap, waits (1 s, doubling to `reconnect_max_delay`, 5 s by default, so that a server back
  after a 30 s restart is read again well within a signal's stale delay), connects and subscribes
  again. asyncua's own "Publish iteration crashed" traceback on a lost server becomes one WARNING
  line (`PublishLoopLog`).
- A server that refuses subscriptions (or `mode: poll`) is polled instead.
- Status codes become quality (Good / Uncertain / Bad); a Bad value is handed on without a value
  (NaN) and detectors never learn from it.
- Readings wait in a bounded queue; when it is full the subscription's own bounded queue (as long
  as the monitored items' queues together, at least 1000) takes the overflow, and drops its oldest
  notifications (OPC UA servers' queues do the same).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, StatusChangeEvent
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from devices import (
    DeadbandType,
    OpcUaNode,
    OpcUaServerSpec,
    Plant,
    Quality,
    Reading,
    ReadingColumns,
    Route,
    SecurityMode,
    SecurityPolicy,
    SubscriptionMode,
)
from ingest.base import Batch, SourceStats
from ingest.certificates import APPLICATION_URI
from ingest.errors import IngestError
from ingest.rejects import Reject, RejectReason
from ingest.validate import SIMULATED_TIME, IntakeLimits, Validator

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (OSError, TimeoutError, ConnectionError, UaError)
_REFUSED = {
    StatusCodes.BadServiceUnsupported,
    StatusCodes.BadTooManySubscriptions,
    StatusCodes.BadTooManyMonitoredItems,
    StatusCodes.BadMonitoredItemFilterUnsupported,
    StatusCodes.BadNotSupported,
}


RECONNECT_MAX_DELAY = 5.0
"""Seconds; the longest wait between two connection attempts."""


class PublishLoopLog(logging.Filter):
    """Turns asyncua's "Publish iteration crashed" ERROR traceback, which it logs every time the
    server goes away while a publish request is out, into one WARNING line: the source's
    supervisor already reports the lost connection and reconnects."""

    LOGGER = "asyncua.client.ua_session.UaSession"

    @classmethod
    def install(cls) -> None:
        logger = logging.getLogger(cls.LOGGER)
        if not any(isinstance(f, cls) for f in logger.filters):
            logger.addFilter(cls())

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(
            "Publish iteration crashed"
        ):
            error = record.exc_info[1] if record.exc_info else None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "OPC UA publish request failed (%s); the session is being re-established"
            record.args = (_describe(error) if error is not None else "no detail",)
            record.exc_info = record.exc_text = None
        return True


class OpcUaError(IngestError):
    """An OPC UA server entry that cannot be used as configured."""


class _Refused(Exception):
    """The server will not give us monitored items: poll instead."""


@dataclass(frozen=True, slots=True)
class _Item:
    route: Route
    spec: OpcUaNode
    node: Node
    label: str


async def client_for(
    spec: OpcUaServerSpec, password: str | None = None, *, name: str = "server"
) -> Client:
    """An asyncua client (not yet connected) for a plant file's server entry: security policy and
    mode with the client certificate, user name and password."""
    client = Client(spec.url, timeout=spec.timeout)
    client.application_uri = APPLICATION_URI
    client.name = client.description = "forewarn"
    if spec.security_policy is SecurityPolicy.BASIC256SHA256:
        if spec.certificate is None or spec.private_key is None:
            raise OpcUaError(f"OPC UA server {name!r}: give certificate and private_key")
        mode = (
            ua.MessageSecurityMode.Sign
            if spec.security_mode is SecurityMode.SIGN
            else ua.MessageSecurityMode.SignAndEncrypt
        )
        await client.set_security(
            security_policies.SecurityPolicyBasic256Sha256,
            spec.certificate,
            spec.private_key,
            server_certificate=spec.server_certificate,
            mode=mode,
        )
    if spec.username is not None:
        client.set_user(spec.username)
        if password is not None:
            client.set_password(password)
    return client


def quality_of(status: ua.StatusCode | None) -> Quality:
    """OPC UA severity bits: 00 good, 01 uncertain, 10 / 11 bad."""
    if status is None:
        return Quality.GOOD
    severity = (status.value >> 30) & 0b11
    return Quality.GOOD if severity == 0 else Quality.UNCERTAIN if severity == 1 else Quality.BAD


class OpcUaSource:
    """Readings of the signals a plant file binds to one OPC UA server."""

    def __init__(
        self,
        plant: Plant,
        server: str,
        *,
        password: str | None = None,
        limits: IntakeLimits | None = None,
        queue_readings: int = 100_000,
        max_batch: int = 10_000,
        reconnect_max_delay: float = RECONNECT_MAX_DELAY,
        stats: SourceStats | None = None,
    ) -> None:
        PublishLoopLog.install()
        spec = plant.opcua_servers.get(server)
        if spec is None:
            known = ", ".join(sorted(plant.opcua_servers)) or "none"
            raise OpcUaError(f"the plant file has no OPC UA server {server!r} (servers: {known})")
        if spec.username is not None and password is None:
            if spec.password_env is None:
                password = None
            elif (password := os.environ.get(spec.password_env)) is None:
                raise OpcUaError(
                    f"OPC UA server {server!r}: set the environment variable "
                    f"{spec.password_env} to the password of user {spec.username!r}"
                )
        self.name = server
        self.spec = spec
        self.stats = stats or SourceStats()
        self._password = password
        self._signals = plant.opcua_signals(server)
        self._validator = Validator(limits or SIMULATED_TIME, self.stats.dead_letters.add)
        self._queue: asyncio.Queue[Reading] = asyncio.Queue(maxsize=queue_readings)
        self._max_batch = max_batch
        self._reconnect_max_delay = reconnect_max_delay
        self._connected = asyncio.Event()
        self._closing = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._lost_at: float | None = None
        self._position = 0
        self.polling = False

    async def __aenter__(self) -> Self:
        self._supervisor = asyncio.create_task(self._supervise(), name=f"opcua-{self.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close_intake()

    async def close_intake(self) -> None:
        """Stop reading; `batches()` then hands out what is queued and ends."""
        self._closing.set()
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=5.0)
            if not done:
                log.warning("OPC UA server %s: the session did not close within 5 s", self.name)

    async def connected(self) -> None:
        """Wait until connected and subscribed (bound the wait with `asyncio.timeout`)."""
        await self._connected.wait()

    @property
    def position(self) -> int:
        return self._position

    def commit(self, through: int | None = None) -> None:
        """Nothing to acknowledge: an OPC UA server does not keep what it sent."""

    async def batches(self) -> AsyncIterator[Batch]:
        queue = self._queue
        while True:
            if self._closing.is_set() and queue.empty():
                return
            try:
                async with asyncio.timeout(0.2):
                    first = await queue.get()
            except TimeoutError:
                continue
            readings = [first]
            while len(readings) < self._max_batch and not queue.empty():
                readings.append(queue.get_nowait())
            self.stats.queue_depth = queue.qsize()
            batch = ReadingColumns.of(readings)
            self.stats.observe_lag(batch, time.time())
            self._position += 1
            yield batch

    # ---- the supervisor ----

    async def _supervise(self) -> None:
        delay = 1.0
        while not self._closing.is_set():
            try:
                await self._session()
            except _CONNECTION_ERRORS as exc:
                log.warning("OPC UA server %s (%s): %s", self.name, self.spec.url, _describe(exc))
            except asyncio.CancelledError:
                raise
            finally:
                if self.stats.connected:
                    self.stats.connected = False
                    self.stats.disconnects += 1
                    self._lost_at = time.time()
                    delay = 1.0
                self._connected.clear()
            log.info("reconnecting to OPC UA server %s in %.0f s", self.name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max_delay)

    async def _session(self) -> None:
        client = await self._client()
        lost = asyncio.Event()

        async def on_lost(exc: Exception) -> None:
            lost.set()

        client.connection_lost_callback = on_lost
        await client.connect(auto_reconnect=False)
        try:
            items = await self._resolve(client)
            self.stats.connected = True
            self.stats.connects += 1
            if self._lost_at is not None:
                gap = time.time() - self._lost_at
                self.stats.gaps += 1
                self.stats.gap_seconds += gap
                log.warning("OPC UA server %s is back after %.1f s without data", self.name, gap)
                self._lost_at = None
            log.info(
                "connected to OPC UA server %s (%s): %d signals",
                self.name,
                self.spec.url,
                len(items),
            )
            if self.spec.mode is SubscriptionMode.SUBSCRIBE:
                try:
                    await self._subscribe(client, items, lost)
                    return
                except _Refused as exc:
                    log.warning(
                        "OPC UA server %s refuses subscriptions (%s); polling instead",
                        self.name,
                        exc,
                    )
            await self._poll(client, items, lost)
        finally:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                async with asyncio.timeout(2):
                    await client.disconnect()

    async def _client(self) -> Client:
        return await client_for(self.spec, self._password, name=self.name)

    async def _resolve(self, client: Client) -> list[_Item]:
        ns = None
        if self.spec.namespace is not None:
            ns = str(await client.get_namespace_index(self.spec.namespace))
        items: list[_Item] = []
        for route, spec in self._signals:
            label = spec.node_id or spec.browse_path or ""
            if ns is not None:
                label = label.replace("{ns}", ns)
            try:
                if spec.node_id is not None:
                    node = client.get_node(label)
                else:
                    node = await client.nodes.root.get_child(label.split("/"))
            except (UaError, ValueError) as exc:
                self._reject(RejectReason.UNKNOWN_SIGNAL, label, f"no such node: {exc}")
                log.error(
                    "OPC UA server %s has no node %s for %s.%s; fix the plant file",
                    self.name,
                    label,
                    route.equipment_id,
                    route.signal,
                )
                continue
            items.append(_Item(route, spec, node, label))
        return items

    # ---- subscriptions ----

    async def _subscribe(self, client: Client, items: list[_Item], lost: asyncio.Event) -> None:
        try:
            subscription = await client.create_subscription(
                self.spec.publishing_interval * 1000,
                queue_maxsize=max(1000, sum(item.spec.queue_size for item in items)),
                overflow=OverflowPolicy.DROP_OLDEST,
            )
        except UaStatusCodeError as exc:
            if exc.code in _REFUSED:
                raise _Refused(str(exc)) from exc
            raise
        by_handle: dict[int, _Item] = {}
        requests = []
        for handle, item in enumerate(items, start=1):
            by_handle[handle] = item
            requests.append(_monitored_item(item, handle))
        results = await subscription.create_monitored_items(requests) if requests else []
        for handle, result in zip(by_handle, results, strict=True):
            if isinstance(result, ua.StatusCode):
                refused = by_handle.pop(handle)
                if result.value in _REFUSED and not by_handle:
                    raise _Refused(str(result))
                self._reject(RejectReason.UNKNOWN_SIGNAL, refused.label, f"refused: {result.name}")
                log.error("OPC UA server %s refused %s: %s", self.name, refused.label, result.name)
        self.polling = False
        self._connected.set()
        while not lost.is_set():
            if self._closing.is_set():
                return  # asyncua's waits can swallow the cancellation of a close
            event = await subscription.next_event(timeout=0.5)
            if event is None:
                continue
            if isinstance(event, StatusChangeEvent):
                status = event.notification.Status
                if status.is_bad():
                    raise ConnectionError(f"subscription ended: {status.name}")
                continue
            if isinstance(event, DataChangeEvent):
                notification = event.data.monitored_item
                changed = by_handle.get(notification.ClientHandle)
                if changed is not None:
                    await self._put(changed, notification.Value)
        raise ConnectionError("connection lost")

    async def _poll(self, client: Client, items: list[_Item], lost: asyncio.Event) -> None:
        self.polling = True
        self._connected.set()
        interval = self.spec.poll_interval or self.spec.publishing_interval or 1.0
        seen: dict[int, Any] = {}
        nodes = [item.node for item in items]
        while not lost.is_set():
            if self._closing.is_set():
                return
            started = time.monotonic()
            values = await client.read_attributes(nodes) if nodes else []
            for index, (item, value) in enumerate(zip(items, values, strict=True)):
                stamp = value.SourceTimestamp or value.ServerTimestamp
                if stamp is not None and seen.get(index) == stamp:
                    continue
                seen[index] = stamp
                await self._put(item, value)
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
        raise ConnectionError("connection lost")

    # ---- values ----

    async def _put(self, item: _Item, value: ua.DataValue | None) -> None:
        received_at = time.time()
        self.stats.messages += 1
        reading = self._reading(item, value, received_at)
        if reading is None:
            return
        admitted = self._validator.admit([reading], item.label, b"", received_at)
        for r in admitted:
            await self._queue.put(r)
            self.stats.readings += 1
            self.stats.last_reading_at = received_at

    def _reading(
        self, item: _Item, value: ua.DataValue | None, received_at: float
    ) -> Reading | None:
        if value is None:
            return None
        stamp = value.SourceTimestamp or value.ServerTimestamp
        ts = stamp.timestamp() if stamp is not None else received_at
        quality = quality_of(value.StatusCode)
        route = item.route
        raw = value.Value.Value if value.Value is not None else None
        if quality is Quality.BAD or raw is None:
            return Reading(route.equipment_id, route.signal, ts, math.nan, Quality.BAD)
        if isinstance(raw, int | float):  # bool too: a PLC flag reads 0 or 1
            number = float(raw)
        else:
            self._reject(RejectReason.WRONG_TYPE, item.label, f"{raw!r} is not a number")
            return None
        if not math.isfinite(number):
            self._reject(RejectReason.NOT_FINITE, item.label, f"{number}")
            return None
        return Reading(route.equipment_id, route.signal, ts, number, quality)

    def _reject(self, reason: RejectReason, label: str, detail: str) -> None:
        self.stats.dead_letters.add(
            Reject(reason, f"opc.tcp {self.name} {label}", detail, b"", time.time())
        )


def _monitored_item(item: _Item, handle: int) -> ua.MonitoredItemCreateRequest:
    read = ua.ReadValueId()
    read.NodeId = item.node.nodeid
    read.AttributeId = AttributeIds.Value
    params = ua.MonitoringParameters()
    params.ClientHandle = handle
    params.SamplingInterval = item.spec.sampling_interval * 1000
    params.QueueSize = item.spec.queue_size
    params.DiscardOldest = True
    data_filter = ua.DataChangeFilter()
    deadband = item.spec.deadband
    if deadband is None:
        data_filter.Trigger = ua.DataChangeTrigger.StatusValueTimestamp
    else:
        data_filter.Trigger = ua.DataChangeTrigger.StatusValue
        data_filter.DeadbandType = 1 if deadband.type is DeadbandType.ABSOLUTE else 2
        data_filter.DeadbandValue = deadband.value
    params.Filter = data_filter
    request = ua.MonitoredItemCreateRequest()
    request.ItemToMonitor = read
    request.MonitoringMode = ua.MonitoringMode.Reporting
    request.RequestedParameters = params
    return request


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, UaStatusCodeError) and "Bad" in type(exc).__name__:
        hint = {
            "BadUserAccessDenied": "check the username and password",
            "BadIdentityTokenInvalid": "check the username and password",
            "BadIdentityTokenRejected": "the server does not accept this login; check anonymous "
            "/ username settings",
            "BadSecurityChecksFailed": "the server does not trust forewarn's certificate: "
            "copy it into the server's trusted certificates",
            "BadCertificateUntrusted": "the server does not trust forewarn's certificate",
        }.get(type(exc).__name__)
        if hint:
            return f"{text} ({hint})"
    return text
