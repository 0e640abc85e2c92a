"""The service's way in, from the settings: the MQTT source (JSON topics, and Sparkplug B as a host
application when it has a host id), an OPC UA source per server of the plant file, merged into one
stream of batches; the dead-letter file every reject goes to; the historian that keeps readings
and findings; and the Prometheus metrics of them all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from devices import Finding, Plant
from forewarn.errors import ForewarnError
from forewarn.links import unreachable
from forewarn.settings import IntakeSettings, Settings
from ingest import (
    Batch,
    DeadLetterRecorder,
    DeadLetters,
    FanIn,
    Historian,
    IntakeLimits,
    MqttSource,
    OpcUaSource,
    Source,
    SourceStats,
)
from ingest.metrics import CONTENT_TYPE, exposition, ingest_registry

log = logging.getLogger(__name__)

DEAD_LETTER_FILE = "dead-letters.sqlite3"
"""In `state_dir`; `forewarn dead-letters` reads it."""


def intake_limits(
    intake: IntakeSettings, plant: Plant | None = None, source: str = "mqtt"
) -> IntakeLimits:
    """What `source` accepts, and which readings it stamps with their receive time."""
    window = intake.timestamp_window
    return IntakeLimits(
        max_payload_bytes=intake.max_payload_bytes,
        max_future=intake.max_future if window else None,
        max_past=intake.max_past if window else None,
        out_of_order_tolerance=intake.out_of_order_tolerance,
        receive_time=source in intake.receive_time_sources,
        receive_time_equipment=frozenset(eq.id for eq in (plant or ()) if eq.receive_time),
    )


@dataclass
class Intake:
    """What the service reads from, and where what it reads goes besides the pipeline."""

    mqtt: MqttSource | None
    """None when the plant file binds no signal to an MQTT topic or to Sparkplug B."""
    sources: dict[str, Source]
    """Every source by name: "mqtt" (if any), and "opcua:{server}" per OPC UA server of the plant
    file."""
    merged: FanIn
    """What the pipeline consumes."""
    dead_letters: DeadLetterRecorder
    historian: Historian | None
    registry: CollectorRegistry
    engine_rejects: DeadLetters
    """Where the pipeline puts the readings the engine rejects (source "engine" in the file)."""

    @classmethod
    def from_settings(cls, plant: Plant, settings: Settings) -> Intake:
        """Build everything; nothing connects or opens a file until `start` and `merged` is
        entered. Raises `IngestError` for a source that cannot be used as configured, and
        `ForewarnError` for a plant file the settings cannot serve."""
        check_sources(plant, settings)
        recorder = DeadLetterRecorder(
            Path(settings.state_dir) / DEAD_LETTER_FILE,
            capacity=settings.intake.dead_letters_kept,
        )

        def stats(name: str) -> SourceStats:
            return SourceStats(dead_letters=DeadLetters(sink=recorder.sink(name)))

        mqtt = (
            _mqtt_source(plant, settings, intake_limits(settings.intake, plant), stats("mqtt"))
            if reads_mqtt(plant, settings)
            else None
        )
        sources: dict[str, Source] = {"mqtt": mqtt} if mqtt is not None else {}
        for server in plant.opcua_servers:
            name = f"opcua:{server}"
            limits = intake_limits(settings.intake, plant, name)
            sources[name] = OpcUaSource(plant, server, limits=limits, stats=stats(name))
        unknown = sorted(set(settings.intake.receive_time_sources) - set(sources))
        if unknown:
            raise ForewarnError(
                f"intake.receive_time_sources: no source {', '.join(unknown)}; the sources are "
                f"{', '.join(sources)}"
            )
        merged = FanIn(
            sources,
            queue_batches=settings.intake.merged_queue_batches,
            queue_bytes=settings.intake.merged_queue_bytes,
        )
        historian = _historian(settings)
        registry = ingest_registry(
            {name: source.stats for name, source in sources.items()},
            fanin=merged,
            historian=historian,
            recorder=recorder,
        )
        engine = DeadLetters(sink=recorder.sink("engine"))
        return cls(mqtt, sources, merged, recorder, historian, registry, engine)

    def start(self) -> None:
        """Start writing dead letters and history (each from its own thread)."""
        self.dead_letters.start()
        if self.historian is not None:
            self.historian.start()
            log.info("writing history to %s (bucket %s)", self.historian.url, self.historian.bucket)

    async def close(self) -> None:
        """Write what the historian and the dead-letter recorder still hold, and stop them."""
        if self.historian is not None:
            await asyncio.to_thread(self.historian.close)
        await asyncio.to_thread(self.dead_letters.close)

    def links_down(self, plant: Plant) -> dict[str, str]:
        """Equipment id -> why its data cannot arrive now (`forewarn.links.unreachable`)."""
        connected = {name: source.stats.connected for name, source in self.sources.items()}
        sparkplug = self.mqtt.sparkplug if self.mqtt is not None else None
        dead = sparkplug.dead() if sparkplug is not None else {}
        return unreachable(plant, connected, dead)

    @property
    def on_processed(self) -> Callable[[Batch, list[Finding]], None] | None:
        """What the pipeline hands every batch and its findings to: the historian, if any."""
        historian = self.historian
        if historian is None:
            return None

        def write(batch: Batch, findings: list[Finding]) -> None:
            historian.write_readings(batch)
            if findings:
                historian.write_findings(findings)

        return write

    def status(self) -> dict[str, Any]:
        """Per-source counters (and the historian's) for the health endpoint."""
        report: dict[str, Any] = {
            "sources": {name: _source_status(s.stats) for name, s in self.sources.items()}
        }
        if self.historian is not None:
            report["historian"] = {
                "written": self.historian.written,
                "spooled": self.historian.spooled,
                "buffered": self.historian.buffered,
            }
        return report

    def mount_metrics(self, app: Starlette) -> None:
        """GET /metrics on `app`: one Prometheus scrape with the intake's metrics and, when the app
        is the ticketing API, its work-order and request metrics (also at /api/v1/metrics)."""
        registry = self.registry
        ticketing = getattr(app.state, "metrics", None)

        async def metrics(request: Request) -> Response:
            text = exposition(registry)
            if ticketing is not None:
                text += await asyncio.to_thread(ticketing.exposition)
            return Response(text, media_type=CONTENT_TYPE)

        app.add_route("/metrics", metrics, include_in_schema=False)


def reads_mqtt(plant: Plant, settings: Settings) -> bool:
    """Whether any signal of the plant comes over MQTT: one not read from an OPC UA server (its
    JSON topic), or Sparkplug B when the settings make forewarn a host application."""
    return settings.sparkplug.host_id is not None or any(
        signal.opcua is None for eq in plant.equipment.values() for signal in eq.signals.values()
    )


def check_sources(plant: Plant, settings: Settings) -> None:
    """Refuse settings that would leave what the plant file binds unread, saying what to set."""
    if plant.sparkplug_configured and settings.sparkplug.host_id is None:
        raise ForewarnError(
            f"{plant.source} has a sparkplug: section, but the settings name no Sparkplug B host "
            "application id, so nothing would be read from it: set sparkplug.host_id in the "
            "settings file (or FOREWARN_SPARKPLUG__HOST_ID), one per worker"
        )


def _mqtt_source(
    plant: Plant, settings: Settings, limits: IntakeLimits, stats: SourceStats
) -> MqttSource:
    mqtt = settings.mqtt
    return MqttSource(
        plant,
        mqtt.broker(),
        client_id=mqtt.client_id,
        protocol=mqtt.protocol,
        ca_certs=str(mqtt.ca_certs) if mqtt.ca_certs else None,
        certfile=str(mqtt.certfile) if mqtt.certfile else None,
        keyfile=str(mqtt.keyfile) if mqtt.keyfile else None,
        queue_bytes=mqtt.queue_bytes,
        limits=limits,
        sparkplug_host_id=settings.sparkplug.host_id,
        reorder_timeout=settings.sparkplug.reorder_timeout,
        stats=stats,
        ack_after_commit=mqtt.ack_after_commit,
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


def _source_status(stats: SourceStats) -> dict[str, Any]:
    return {
        "connected": stats.connected,
        "messages": stats.messages,
        "readings": stats.readings,
        "queue_depth": stats.queue_depth,
        "gaps": stats.gaps,
        "rejected": {r.value: n for r, n in stats.dead_letters.counts.items()},
    }
