"""The running service: sources, engine, store, history, API and reporting, started and stopped
together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from detectors import Engine
from devices import Plant
from forewarn.action_publisher import ActionPublisher
from forewarn.errors import ForewarnError
from forewarn.intake import Intake
from forewarn.pipeline import OnRecorded, Pipeline
from forewarn.settings import Settings
from ingest import MqttSource
from ticketing import FindingSpool, Publish, SpoolingRecorder, Workers, WorkOrderStore
from ticketing.api import close_streams, create_app
from ticketing.spool import SpoolCollector

log = logging.getLogger(__name__)


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
    intake: Intake
    """Every source, the dead-letter recorder, the historian."""
    workers: Workers | None = None
    """Escalation timers and outbox deliveries."""
    recorder: SpoolingRecorder | None = None
    """Records findings, spooling them while the database is unreachable."""


@contextlib.asynccontextmanager
async def _action_publisher(plant: Plant, settings: Settings) -> AsyncIterator[Publish | None]:
    """An MQTT publisher for the plant's automatic actions, if any of them publishes."""
    if not any(action.topic is not None for action in plant.organisation.actions):
        yield None
        return
    mqtt = settings.mqtt
    async with ActionPublisher(
        mqtt.broker(),
        client_id=f"{mqtt.client_id}-actions",
        ca_certs=str(mqtt.ca_certs) if mqtt.ca_certs else None,
        certfile=str(mqtt.certfile) if mqtt.certfile else None,
        keyfile=str(mqtt.keyfile) if mqtt.keyfile else None,
    ) as publisher:
        yield publisher.publish


async def serve(
    plant: Plant,
    settings: Settings,
    *,
    stop: asyncio.Event,
    on_recorded: OnRecorded | None = None,
    on_started: Callable[[Running], None] | None = None,
) -> Running:
    """Run until `stop` is set, then drain what was received and shut down in order.

    Sources (`forewarn.intake`): the MQTT broker and an OPC UA client per server of the plant
    file, merged; rejects go to the dead-letter file in `state_dir`, readings and findings to the
    historian if one is configured; Prometheus metrics at GET /metrics beside the API.
    """
    intake = Intake.from_settings(plant, settings)
    store = WorkOrderStore(settings.database, plant=plant)
    spool = FindingSpool(
        Path(settings.state_dir) / "finding-spool.sqlite3", max_bytes=settings.finding_spool_bytes
    )
    recorder = SpoolingRecorder(store, plant, spool)
    engine = Engine(plant, settings.detectors)
    pipeline = Pipeline(
        plant,
        intake.merged,
        engine,
        recorder,
        snapshot_file=Path(settings.state_dir) / "detectors.json",
        snapshot_interval=settings.snapshot_interval,
        on_recorded=on_recorded,
        on_processed=intake.on_processed,
    )
    recorder.on_replayed = pipeline.recorded
    sock = bind(settings.api.host, settings.api.port)
    host, port = sock.getsockname()[:2]
    api_url = f"http://{host}:{port}"

    def status() -> dict[str, Any]:
        return {**pipeline.status(), **intake.status(), "store": recorder.status().to_json()}

    app = create_app(store, plant=plant, extra_status=status)
    app.state.metrics.registry.register(SpoolCollector(recorder))
    intake.mount_metrics(app)
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    running = Running(pipeline, intake.mqtt, store, api_url, intake, recorder=recorder)
    try:
        intake.start()
        async with (
            intake.merged,
            _action_publisher(plant, settings) as publish,
            asyncio.TaskGroup() as tasks,
        ):
            running.workers = Workers(store, publish=publish)
            work = tasks.create_task(running.workers.run())
            api = tasks.create_task(server.serve(sockets=[sock]))
            flow = tasks.create_task(pipeline.run())
            reporter = tasks.create_task(pipeline.report_every(10.0))
            replays = tasks.create_task(recorder.run())
            log.info("serving the API on %s (OpenAPI at %s/docs)", api_url, api_url)
            if on_started is not None:
                on_started(running)
            await stop.wait()
            log.info("stopping: no new messages; processing what was received")
            await intake.merged.close_intake()
            await flow
            reporter.cancel()
            replays.cancel()
            work.cancel()
            close_streams(app)
            server.should_exit = True
            await api
    finally:
        sock.close()
        store.close()
        spool.close()
        await intake.close()
    return running
