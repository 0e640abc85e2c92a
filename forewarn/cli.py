"""The `forewarn` command line."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from detectors import DetectorError, Engine
from devices import DevicesError, load_plant
from forewarn.commands.api import api
from forewarn.commands.dead_letters import dead_letters
from forewarn.commands.discover import discover_app
from forewarn.commands.learn import learn
from forewarn.commands.opcua import gen_cert as opcua_gen_cert
from forewarn.commands.plant import plant_app
from forewarn.commands.replay import replay
from forewarn.commands.score import score
from forewarn.commands.simulate import simulate
from forewarn.commands.tokens import tokens_app
from forewarn.console import configure_logging, fail, make_console
from forewarn.errors import ForewarnError
from forewarn.interrupts import Interrupts
from forewarn.workers import WorkerSpec, supervise, worker_count, worker_specs
from ingest import IngestError
from ticketing import TicketingError

app = typer.Typer(
    help="Machine telemetry in, preventive maintenance work orders out.",
    no_args_is_help=True,
    add_completion=False,
)

console = make_console()


@app.command()
def demo(
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many wall-clock seconds (default: Ctrl-C)."),
    ] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.", min=1)] = 120,
    port: Annotated[int, typer.Option(help="API port on 127.0.0.1 (0: any free port).")] = 8000,
    db: Annotated[
        Path | None, typer.Option(help="Keep work orders in this SQLite file (default: temporary).")
    ] = None,
    broker: Annotated[
        str | None,
        typer.Option(help="Use this MQTT broker (mqtt://host:port) instead of an embedded one."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the simulated plant.")] = 42,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    """Run everything embedded: a broker, ten simulated pumps with two developing faults, the
    pipeline and the API; print each work order as it opens."""
    from forewarn.demo import DemoOptions, run_demo

    configure_logging("INFO" if verbose else "WARNING")
    options = DemoOptions(
        duration=duration, speed=speed, port=port, db=db, broker=broker, seed=seed
    )
    try:
        asyncio.run(run_demo(options, console))
    except (ForewarnError, DevicesError, IngestError, TicketingError) as exc:
        raise fail(exc) from exc


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="The plant file (YAML).")],
    settings_file: Annotated[
        Path | None,
        typer.Option("--settings", help="Settings file (YAML); FOREWARN_* env overrides it."),
    ] = None,
    broker: Annotated[
        str | None, typer.Option(help="MQTT broker URL (overrides settings).")
    ] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (overrides settings).")] = None,
    port: Annotated[int | None, typer.Option(help="API port (overrides settings).")] = None,
    api: Annotated[
        bool | None,
        typer.Option(
            "--api/--no-api",
            help="Serve the work-order API and web page (default), or only GET /api/v1/health "
            "and GET /metrics on the API's address, leaving the API to `forewarn api` "
            "(FOREWARN_API__WORK_ORDERS).",
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            help="Split the plant's equipment over this many workers, each run with the same "
            "plant file and its own --shard, or without --shard to claim a free shard through a "
            "lease in the shared PostgreSQL database (FOREWARN_SHARDS).",
        ),
    ] = None,
    shard: Annotated[
        int | None,
        typer.Option(
            help="Which shard this worker owns, 0..shards-1: it subscribes to and watches only "
            "that equipment (FOREWARN_SHARD). Without it, a worker of --shards N claims one.",
        ),
    ] = None,
    workers: Annotated[
        str | None,
        typer.Option(
            help="Run this many worker processes on this machine (auto: one per core), worker i "
            "as --shards N --shard i --no-api with its health and metrics on --port + i, "
            "supervised and restarted when one dies; `forewarn api` serves the API.",
        ),
    ] = None,
) -> None:
    """Run the pipeline against a real broker: ingest, detect, open work orders, serve the API
    (or, with --no-api, only health and metrics)."""
    from forewarn.lease_store import ShardLeases
    from forewarn.service import owned_part, serve
    from forewarn.settings import load_settings
    from forewarn.takeover import claim_and_serve

    try:
        count = worker_count(workers) if workers is not None else 1
        if workers is not None and (shard is not None or shards not in (None, count)):
            raise ForewarnError(
                f"--workers {workers} runs {count} workers and gives each its shard: leave "
                "out --shard (and --shards, or make it the same number)"
            )
        overrides: dict[str, object] = {"database": db, "shards": shards, "shard": shard}
        settings = load_settings(settings_file, **overrides)
        if broker is not None:
            settings.mqtt.url = broker
        if port is not None:
            settings.api.port = port
        if api is not None:
            settings.api.work_orders = api
        configure_logging(settings.log_level)
        plant = load_plant(config)
        Engine(plant, settings.detectors)  # a detector the plant file or settings misname
        if workers is not None:
            if count > 1:
                run_args = ["--config", str(config)]
                for option, value in (("--settings", settings_file), ("--broker", broker)):
                    if value is not None:
                        run_args += [option, str(value)]
                if db is not None:
                    run_args += ["--db", db]
                specs = worker_specs(count, run_args, settings.api.port, Path(settings.state_dir))
                _supervise(specs, len(plant))
                return
            settings = settings.model_copy(update={"shards": 1, "shard": None})
        if settings.claims_shards:
            for each in range(settings.shards):  # whichever it claims must own something
                owned = owned_part(plant, settings.model_copy(update={"shard": each}))
            leases = ShardLeases(settings.database, settings.shards, settings.lease_timeout)
        else:
            owned = owned_part(plant, settings)
    except (ForewarnError, DevicesError, DetectorError, TicketingError) as exc:
        raise fail(exc) from exc

    async def main() -> None:
        with Interrupts() as interrupts:
            if settings.claims_shards:
                try:
                    await claim_and_serve(plant, settings, leases, stop=interrupts.stop)
                finally:
                    leases.close()
            else:
                await serve(plant, settings, stop=interrupts.stop)

    log = logging.getLogger(__name__)
    signals = sum(len(eq.signals) for eq in owned)
    if settings.claims_shards:
        log.info(
            "plant %s, %d shards claimed through leases (%.1f s) as %s: %d equipment",
            config,
            settings.shards,
            settings.lease_timeout,
            leases.owner,
            len(plant),
        )
    elif settings.sharded:
        log.info(
            "plant %s, shard %d of %d (0..%d): owns %d of %d equipment, %d signals",
            config,
            settings.shard_number,
            settings.shards,
            settings.shards - 1,
            len(owned),
            len(plant),
            signals,
        )
    else:
        log.info("plant %s: %d equipment, %d signals", config, len(plant), signals)
    try:
        asyncio.run(main())
    except (ForewarnError, IngestError, TicketingError) as exc:
        raise fail(exc) from exc


def _supervise(specs: list[WorkerSpec], equipment: int) -> None:
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    logging.getLogger(__name__).info(
        "running %d workers over %d equipment, one shard each", len(specs), equipment
    )
    try:
        supervise(specs, stop.is_set)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


app.command("api")(api)
app.command("opcua-gen-cert")(opcua_gen_cert)
app.command("dead-letters")(dead_letters)
app.command("replay")(replay)
app.command("score")(score)
app.command("learn")(learn)
app.command("simulate")(simulate)
app.add_typer(tokens_app, name="tokens")
app.add_typer(plant_app, name="plant")
app.add_typer(discover_app, name="discover")


def _summaries_in_whole_sentences(typer_app: typer.Typer) -> None:
    """The commands list shows each command's first paragraph reflowed, not cut at the line
    breaks of its docstring's source."""
    for info in typer_app.registered_commands:
        doc = info.help or (info.callback.__doc__ if info.callback else None) or ""
        if info.short_help is None and doc:
            info.short_help = " ".join(doc.strip().split("\n\n")[0].split())
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _summaries_in_whole_sentences(group.typer_instance)


_summaries_in_whole_sentences(app)
