"""The running service: sources, engine, store, history, API and reporting, started and stopped
together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn

from detectors import Engine
from devices import Finding, Plant
from forewarn import heap, switching
from forewarn.action_publisher import ActionPublisher
from forewarn.errors import ForewarnError
from forewarn.health import (
    HealthMonitor,
    Thresholds,
    Verdict,
    expected_rates,
    source_sample,
    store_sample,
)
from forewarn.intake import Intake
from forewarn.links import with_links
from forewarn.metrics import PipelineCollector
from forewarn.pipeline import OnProcessed, OnRecorded, Pipeline
from forewarn.settings import Settings
from forewarn.shards import by_edge_node, shard_plant
from forewarn.snapshots import SnapshotStore
from ingest import Batch, MqttSource
from ticketing import FindingSpool, Publish, SpoolingRecorder, Workers, WorkOrderStore
from ticketing.api import close_streams, create_app, create_status_app
from ticketing.spool import SpoolCollector

log = logging.getLogger(__name__)


class QuietServer(uvicorn.Server):
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
    mqtt: MqttSource | None
    """None when the plant file reads nothing over MQTT."""
    store: WorkOrderStore
    api_url: str
    intake: Intake
    """Every source, the dead-letter recorder, the historian."""
    workers: Workers | None = None
    """Escalation timers and outbox deliveries."""
    recorder: SpoolingRecorder | None = None
    """Records findings, spooling them while the database is unreachable."""

    @property
    def source(self) -> MqttSource:
        """The MQTT source; an error for a plant that reads nothing over MQTT."""
        if self.mqtt is None:
            raise ForewarnError("the plant file binds no signal to an MQTT topic or Sparkplug B")
        return self.mqtt


def owned_part(plant: Plant, settings: Settings) -> Plant:
    """The equipment this worker reads, scores and watches: its shard of the plant
    (`forewarn.shards`; by Sparkplug edge node when it is a Sparkplug host), or the whole plant
    when the settings name one shard. Raises `ForewarnError` for a shard that would own nothing."""
    if not settings.sharded:
        return plant
    edge_nodes = by_edge_node(plant, settings.sparkplug.host_id is not None)
    shard = settings.shard_number
    part = shard_plant(plant, shard, settings.shards, edge_nodes=edge_nodes)
    if not len(part):
        raise ForewarnError(
            f"shard {shard} of {settings.shards} owns no equipment of {plant.source} "
            f"({len(plant)} equipment); run fewer shards (`forewarn plant check --shards N` "
            "shows what each one owns)"
        )
    return part


def worker_identity(settings: Settings) -> Settings:
    """A sharded worker's MQTT client id and Sparkplug host id end in `-shard-{i}-of-{n}`: the
    workers of one deployment share their settings but not their broker sessions, and a change of
    `shards` starts new sessions instead of inheriting another shard's subscriptions."""
    if not settings.sharded:
        return settings
    suffix = f"-shard-{settings.shard_number}-of-{settings.shards}"
    mqtt = settings.mqtt.model_copy(update={"client_id": settings.mqtt.client_id + suffix})
    host_id = settings.sparkplug.host_id
    sparkplug = settings.sparkplug.model_copy(
        update={"host_id": None if host_id is None else host_id + suffix}
    )
    return settings.model_copy(update={"mqtt": mqtt, "sparkplug": sparkplug})


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
    on_processed: OnProcessed | None = None,
    on_started: Callable[[Running], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    clock_note: str | None = None,
    snapshot_store: SnapshotStore | None = None,
) -> Running:
    """Run until `stop` is set, then drain what was received and shut down in order.

    Sources (`forewarn.intake`): the MQTT broker and an OPC UA client per server of the plant
    file, merged; rejects go to the dead-letter file in `state_dir`, readings and findings to the
    historian if one is configured; Prometheus metrics at GET /metrics beside the API, or with
    health only when `settings.api.work_orders` is off.
    `clock` (default: the wall clock) is the time the work orders go by; `clock_note` labels it
    on the API and the page when it is not the wall clock (the demo's simulated time).

    With `settings.shards` above one, the sources, detectors and health watch only this worker's
    shard (`owned_part`); the store, the API and recorded findings know the whole plant, whose
    orders all workers share in one database. `snapshot_store` (default: `detectors.json` in
    `state_dir`) keeps the detector state between runs; a claimed shard keeps it in the database.
    """
    owned = owned_part(plant, settings)
    settings = worker_identity(settings)
    intake = Intake.from_settings(owned, settings)
    store = WorkOrderStore(settings.database, plant=plant, clock=clock)
    spool = FindingSpool(
        Path(settings.state_dir) / "finding-spool.sqlite3", max_bytes=settings.finding_spool_bytes
    )
    recorder = SpoolingRecorder(store, plant, spool)
    engine = Engine(owned, settings.detectors)
    pipeline = Pipeline(
        owned,
        intake.merged,
        engine,
        recorder,
        snapshot_file=Path(settings.state_dir) / "detectors.json",
        snapshot_store=snapshot_store,
        snapshot_interval=settings.snapshot_interval,
        snapshot_source_interval=settings.snapshot_source_interval,
        on_recorded=on_recorded,
        on_processed=_both(intake.on_processed, on_processed),
        dead_letters=intake.engine_rejects,
        links=lambda: intake.links_down(owned),
        link_grace=settings.health.link_grace,
    )
    recorder.on_replayed = pipeline.recorded
    sock = bind(settings.api.host, settings.api.port)
    host, port = sock.getsockname()[:2]
    api_url = f"http://{host}:{port}"

    health = settings.health
    monitor = HealthMonitor(
        expected_rates(owned, intake.sources),
        started_at=time.time(),
        window=health.window,
        thresholds=Thresholds(
            stale_after=health.stale_after,
            startup_grace=health.startup_grace,
            min_rate_fraction=health.min_rate_fraction,
        ),
    )

    def verdict() -> Verdict:
        now = time.time()
        judged = monitor.check(
            now,
            {name: source_sample(s.stats, now) for name, s in intake.sources.items()},
            asdict(engine.stats),
            store_sample(recorder.status()),
        )
        return with_links(judged, pipeline.link_watch)

    def status() -> dict[str, Any]:
        return {
            **pipeline.status(),
            **intake.status(),
            "store": recorder.status().to_json(),
            **verdict().as_dict(),
        }

    intake.registry.register(PipelineCollector(pipeline, verdict))

    serves_orders = settings.api.work_orders
    if serves_orders:
        app = create_app(
            store,
            plant=plant,
            extra_status=status,
            clock_note=clock_note,
            event_polling=settings.api.event_polling(),
        )
        app.state.metrics.registry.register(SpoolCollector(recorder))
    else:
        app = create_status_app(store, extra_status=status)
        intake.registry.register(SpoolCollector(recorder))
    intake.mount_metrics(app)
    server = QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
    running = Running(pipeline, intake.mqtt, store, api_url, intake, recorder=recorder)
    try:
        intake.start()
        # The plant's state is built and restored by now.
        with heap.settled(), switching.responsive():
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
                silence = tasks.create_task(pipeline.watch_silence())
                links = tasks.create_task(pipeline.watch_links(settings.health.link_check))
                replays = tasks.create_task(recorder.run())
                if serves_orders:
                    log.info("serving the API on %s (OpenAPI at %s/docs)", api_url, api_url)
                else:
                    log.info(
                        "serving health and metrics only, on %s/api/v1/health and %s/metrics "
                        "(no work-order API: `forewarn api` serves it)",
                        api_url,
                        api_url,
                    )
                if on_started is not None:
                    on_started(running)
                await stop.wait()
                log.info("stopping: no new messages; processing what was received")
                await intake.merged.close_intake()
                await flow
                reporter.cancel()
                silence.cancel()
                links.cancel()
                replays.cancel()
                work.cancel()
                if serves_orders:
                    close_streams(app)
                server.should_exit = True
                await api
    finally:
        sock.close()
        store.close()
        spool.close()
        await intake.close()
    return running


def _both(first: OnProcessed | None, second: OnProcessed | None) -> OnProcessed | None:
    if first is None or second is None:
        return first or second

    def both(batch: Batch, findings: list[Finding]) -> None:
        first(batch, findings)
        second(batch, findings)

    return both
