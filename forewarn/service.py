"""The running service: sources, engine, store, history, API and reporting, started and stopped
together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import Response

from detectors import Engine
from devices import Finding, Plant
from forewarn.errors import ForewarnError
from forewarn.pipeline import OnProcessed, OnRecorded, Pipeline
from forewarn.settings import IntakeSettings, Settings
from ingest import (
    Batch,
    BrokerAddress,
    DeadLetterRecorder,
    DeadLetters,
    DeadLetterStore,
    FanIn,
    Historian,
    IntakeLimits,
    MqttSource,
    OpcUaSource,
    Source,
    SourceStats,
)
from ingest.metrics import CONTENT_TYPE, exposition, ingest_registry
from ticketing import WorkOrderStore
from ticketing.api import create_app

log = logging.getLogger(__name__)

DEAD_LETTER_FILE = "dead-letters.sqlite3"
"""In `state_dir`; `forewarn dead-letters` reads it."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket for the API; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ForewarnError(
            f"cannot serve the API on {host}:{port} ({exc.strerror}); choose another with --port"
        ) from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass
class Running:
    """What a started service exposes to whoever started it."""

    pipeline: Pipeline
    source: MqttSource
    store: WorkOrderStore
    api_url: str
    sources: dict[str, Source] = field(default_factory=dict)
    """Every source by name: "mqtt", and "opcua:{server}" per OPC UA server of the plant file."""
    historian: Historian | None = None
    dead_letters: Path | None = None
    """The dead-letter file."""


def intake_limits(intake: IntakeSettings) -> IntakeLimits:
    window = intake.timestamp_window
    return IntakeLimits(
        max_payload_bytes=intake.max_payload_bytes,
        max_future=intake.max_future if window else None,
        max_past=intake.max_past if window else None,
        out_of_order_tolerance=intake.out_of_order_tolerance,
    )


def _mqtt_source(
    plant: Plant, settings: Settings, limits: IntakeLimits, stats: SourceStats
) -> MqttSource:
    broker = BrokerAddress.parse(settings.mqtt.url)
    mqtt = settings.mqtt
    if mqtt.username is not None:
        password = mqtt.password.get_secret_value() if mqtt.password else None
        broker = BrokerAddress(broker.host, broker.port, broker.tls, mqtt.username, password)
    return MqttSource(
        plant,
        broker,
        client_id=mqtt.client_id,
        protocol=mqtt.protocol,
        ca_certs=str(mqtt.ca_certs) if mqtt.ca_certs else None,
        certfile=str(mqtt.certfile) if mqtt.certfile else None,
        keyfile=str(mqtt.keyfile) if mqtt.keyfile else None,
        queue_messages=mqtt.queue_messages,
        limits=limits,
        sparkplug_host_id=settings.sparkplug.host_id,
        reorder_timeout=settings.sparkplug.reorder_timeout,
        stats=stats,
    )


def _historian(settings: Settings) -> Historian | None:
    history = settings.historian
    if history.url is None or history.token is None:
        return None
    return Historian(
        history.url,
        token=history.token.get_secret_value(),
        org=history.org,
        bucket=history.bucket,
        spool_dir=history.spool_dir or Path(settings.state_dir) / "historian-spool",
        max_buffer=history.max_buffer,
    )


def _to_history(historian: Historian) -> OnProcessed:
    def write(batch: Batch, findings: list[Finding]) -> None:
        historian.write_readings(batch)
        if findings:
            historian.write_findings(findings)

    return write


def _metrics_endpoint(registry: CollectorRegistry) -> Callable[[Request], Response]:
    def metrics(request: Request) -> Response:
        return Response(exposition(registry), media_type=CONTENT_TYPE)

    return metrics


def _source_status(stats: SourceStats) -> dict[str, Any]:
    return {
        "connected": stats.connected,
        "messages": stats.messages,
        "readings": stats.readings,
        "queue_depth": stats.queue_depth,
        "gaps": stats.gaps,
        "rejected": {r.value: n for r, n in stats.dead_letters.counts.items()},
    }


async def serve(
    plant: Plant,
    settings: Settings,
    *,
    stop: asyncio.Event,
    on_recorded: OnRecorded | None = None,
    on_started: Callable[[Running], None] | None = None,
) -> Running:
    """Run until `stop` is set, then drain what was received and shut down in order.

    Sources: the MQTT broker (JSON topics, and Sparkplug B when `settings.sparkplug.host_id` is
    set) and one OPC UA client per server of the plant file, merged into one pipeline. Rejects go
    to the dead-letter file in `state_dir`; readings and findings to the historian when one is
    configured; Prometheus metrics are served at GET /metrics beside the API.
    """
    limits = intake_limits(settings.intake)
    state_dir = Path(settings.state_dir)
    async with contextlib.AsyncExitStack() as resources:
        dead_letter_file = state_dir / DEAD_LETTER_FILE
        recorder = DeadLetterRecorder(
            DeadLetterStore(dead_letter_file, capacity=settings.intake.dead_letters_kept)
        )
        resources.push_async_callback(asyncio.to_thread, recorder.close)

        def stats(name: str) -> SourceStats:
            return SourceStats(dead_letters=DeadLetters(sink=recorder.sink(name)))

        source = _mqtt_source(plant, settings, limits, stats("mqtt"))
        sources: dict[str, Source] = {"mqtt": source}
        for opcua_server in plant.opcua_servers:
            name = f"opcua:{opcua_server}"
            sources[name] = OpcUaSource(plant, opcua_server, limits=limits, stats=stats(name))
        fanin = FanIn(sources, queue_batches=settings.intake.merged_queue_batches)
        store = WorkOrderStore(settings.database)
        resources.callback(store.close)
        sock = bind(settings.api.host, settings.api.port)
        resources.callback(sock.close)
        historian = _historian(settings)
        engine = Engine(plant, settings.detectors)
        pipeline = Pipeline(
            plant,
            fanin,
            engine,
            store,
            snapshot_file=state_dir / "detectors.json",
            snapshot_interval=settings.snapshot_interval,
            on_recorded=on_recorded,
            on_processed=_to_history(historian) if historian is not None else None,
        )

        def status() -> dict[str, Any]:
            report = pipeline.status()
            report["sources"] = {name: _source_status(s.stats) for name, s in sources.items()}
            if historian is not None:
                report["historian"] = {
                    "written": historian.written,
                    "spooled": historian.spooled,
                    "buffered": historian.buffered,
                }
            return report

        host, port = sock.getsockname()[:2]
        api_url = f"http://{host}:{port}"
        app = create_app(store, extra_status=status)
        registry = ingest_registry(
            {name: s.stats for name, s in sources.items()},
            fanin=fanin,
            historian=historian,
            recorder=recorder,
        )
        app.add_route("/metrics", _metrics_endpoint(registry), include_in_schema=False)
        server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        running = Running(
            pipeline, source, store, api_url, sources, historian, dead_letters=dead_letter_file
        )
        recorder.start()
        if historian is not None:
            historian.start()
            resources.push_async_callback(asyncio.to_thread, historian.close)
            log.info("writing history to %s (bucket %s)", historian.url, historian.bucket)
        async with fanin, asyncio.TaskGroup() as tasks:
            api = tasks.create_task(server.serve(sockets=[sock]))
            flow = tasks.create_task(pipeline.run())
            reporter = tasks.create_task(pipeline.report_every(10.0))
            log.info("serving the API on %s (OpenAPI at %s/docs)", api_url, api_url)
            if on_started is not None:
                on_started(running)
            await stop.wait()
            log.info("stopping: no new messages; processing what was received")
            await fanin.close_intake()
            await flow
            reporter.cancel()
            server.should_exit = True
            await api
    return running
