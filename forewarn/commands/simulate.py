"""`forewarn simulate`: run a scenario (or a CSV recording) standalone, publishing over MQTT (JSON
or Sparkplug B) and/or serving it on an OPC UA server, and write its ground truth."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from devices import DevicesError, Plant, load_plant
from forewarn.console import make_console
from forewarn.errors import ForewarnError
from ingest import BrokerAddress
from simulators import MqttPublisher, Publisher, RunStats, RunTruth, SimClock, SimulatorError, run
from simulators.csv_replay import read_csv
from simulators.ground_truth import MachineTruth
from simulators.opcua_server import BROWSE_PATH_TEMPLATE, NODE_ID_TEMPLATE, OpcUaServer
from simulators.publishers import Tee
from simulators.runner import play
from simulators.scenario import load_scenario
from simulators.scenario_schema import parse_duration
from simulators.scenarios import scenario_path
from simulators.sparkplug_publisher import SparkplugPublisher

console = make_console()
errors = make_console(stderr=True)


class Protocol(enum.StrEnum):
    JSON = "json"
    SPARKPLUG = "sparkplug"
    NONE = "none"


def simulate(
    source: Annotated[
        str,
        typer.Argument(
            help="A scenario file (YAML), the name of a shipped scenario, or a CSV recording.",
            show_default=False,
        ),
    ],
    broker: Annotated[
        str, typer.Option(help="MQTT broker to publish to (mqtt://host:port).")
    ] = "mqtt://127.0.0.1:1883",
    protocol: Annotated[
        Protocol,
        typer.Option(help="json: the plant's topics; sparkplug: Sparkplug B edge nodes; none."),
    ] = Protocol.JSON,
    username: Annotated[str | None, typer.Option(help="MQTT user name.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="MQTT password.", envvar="FOREWARN_SIMULATE_PASSWORD", show_envvar=True),
    ] = None,
    opcua_port: Annotated[
        int | None,
        typer.Option(help="Also serve the plant on an OPC UA server on this port.", min=1),
    ] = None,
    opcua_host: Annotated[str, typer.Option(help="OPC UA server address.")] = "127.0.0.1",
    opcua_cert: Annotated[
        Path | None, typer.Option(help="OPC UA server certificate (DER) for Basic256Sha256.")
    ] = None,
    opcua_key: Annotated[Path | None, typer.Option(help="Its private key (PEM).")] = None,
    opcua_user: Annotated[
        list[str] | None,
        typer.Option(help="USER:PASSWORD that may log in (repeatable); default: anonymous."),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            help="Simulated seconds per real second (default: the scenario's).", min=0.001
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.", min=0)] = None,
    duration: Annotated[
        str | None, typer.Option(help="Override the scenario's duration (e.g. 36h, 2d).")
    ] = None,
    samples_per_message: Annotated[
        int | None, typer.Option(help="Samples packed per MQTT message.", min=1)
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(help="Where to write the ground truth (default: NAME.truth.json)."),
    ] = None,
    plant: Annotated[
        Path | None, typer.Option(help="CSV: the plant file the recorded machine is in.")
    ] = None,
    equipment: Annotated[
        str | None, typer.Option(help="CSV: the machine's id (default: the file name).")
    ] = None,
    equipment_type: Annotated[
        str | None, typer.Option("--type", help="CSV without --plant: an equipment type.")
    ] = None,
    sep: Annotated[str, typer.Option(help="CSV: the column separator.")] = ",",
    time_column: Annotated[str | None, typer.Option(help="CSV: the time column.")] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="CSV: COLUMN=SIGNAL (repeatable).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    """Run a scenario or a recording on its own: the machines publish to a broker (the plant's
    JSON topics or Sparkplug B) and/or an OPC UA server serves them, at the scenario's speed,
    until its end or Ctrl-C. The ground truth is written at the end."""
    logging.basicConfig(
        level="INFO" if verbose else "WARNING",
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if protocol is Protocol.NONE and opcua_port is None:
        raise typer.BadParameter("nothing to publish to: give --opcua-port or a --protocol")
    users: dict[str, str] | None = None
    if opcua_user:
        users = {}
        for pair in opcua_user:
            name, sep_, secret = pair.partition(":")
            if not sep_ or not name:
                raise typer.BadParameter(
                    f"{pair!r} is not USER:PASSWORD", param_hint="--opcua-user"
                )
            users[name] = secret
    try:
        job = _job(
            source,
            seed=seed,
            duration=duration,
            speed=speed,
            samples_per_message=samples_per_message,
            plant_file=plant,
            equipment=equipment,
            equipment_type=equipment_type,
            sep=sep,
            time_column=time_column,
            columns=column or [],
        )
        stats, run_truth = asyncio.run(
            _simulate(
                job,
                broker=broker if protocol is not Protocol.NONE else None,
                protocol=protocol,
                username=username,
                password=password,
                opcua=_OpcUa(opcua_host, opcua_port, opcua_cert, opcua_key, users)
                if opcua_port is not None
                else None,
            )
        )
    except (SimulatorError, DevicesError, ForewarnError) as exc:
        errors.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    path = run_truth.write(truth or Path(f"{job.name}.truth.json"))
    console.print(
        f"simulated {_span(stats.sim_end - stats.sim_start + job.period)} "
        f"({stats.samples:,} samples) in {stats.wall_seconds:.1f} s; ground truth in {path}"
    )


Feed = Callable[[Publisher, SimClock, asyncio.Event], Awaitable[RunStats]]


@dataclass(frozen=True)
class _Job:
    """What to simulate: a scenario's fleet, or a recording's samples."""

    name: str
    plant: Plant
    start: float
    end: float
    period: float
    speed: float
    samples_per_message: int
    feed: Feed
    truth: Callable[[], RunTruth]


@dataclass(frozen=True)
class _OpcUa:
    host: str
    port: int
    certificate: Path | None
    private_key: Path | None
    users: dict[str, str] | None


def _job(
    source: str,
    *,
    seed: int | None,
    duration: str | None,
    speed: float | None,
    samples_per_message: int | None,
    plant_file: Path | None,
    equipment: str | None,
    equipment_type: str | None,
    sep: str,
    time_column: str | None,
    columns: list[str],
) -> _Job:
    if source.lower().endswith(".csv"):
        mapping: dict[str, str] = {}
        for pair in columns:
            csv_name, eq_, signal_name = pair.partition("=")
            if not eq_ or not csv_name or not signal_name:
                raise typer.BadParameter(f"{pair!r} is not COLUMN=SIGNAL", param_hint="--column")
            mapping[csv_name] = signal_name
        recording = read_csv(
            source,
            equipment_id=equipment,
            sep=sep,
            time_column=time_column,
            columns=mapping or None,
        )
        if plant_file is not None:
            machine_plant = load_plant(plant_file)
            if recording.equipment_id not in machine_plant.equipment:
                raise ForewarnError(
                    f"{recording.equipment_id!r} is not in {plant_file}; name it with --equipment"
                )
        else:
            machine_plant = recording.plant(equipment_type)
        eq = machine_plant.equipment[recording.equipment_id]
        recorded = RunTruth(
            scenario=recording.path.name,
            seed=0,
            start=recording.start,
            end=recording.end,
            period=recording.period,
            machines=(MachineTruth(eq.id, eq.type, eq.path, "recorded"),),
            faults=(),
            sensor_faults=(),
        )
        return _Job(
            name=recording.path.stem,
            plant=machine_plant,
            start=recording.start,
            end=recording.end + recording.period,
            period=recording.period,
            speed=speed if speed is not None else 1.0,
            samples_per_message=samples_per_message or 1,
            feed=lambda publisher, clock, stop: play(
                recording.samples, clock, publisher, stop=stop
            ),
            truth=lambda: recorded,
        )
    scenario = load_scenario(scenario_path(source))
    if seed is not None:
        scenario = scenario.replace(seed=seed)
    if duration is not None:
        try:
            scenario = scenario.replace(duration=float(parse_duration(duration)))
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--duration") from exc
    fleet = scenario.fleet()
    return _Job(
        name=scenario.name,
        plant=scenario.plant,
        start=scenario.start,
        end=scenario.end,
        period=scenario.period,
        speed=speed if speed is not None else scenario.speed,
        samples_per_message=samples_per_message or scenario.samples_per_message,
        feed=lambda publisher, clock, stop: run(
            fleet, clock, publisher, period=scenario.period, until=scenario.end, stop=stop
        ),
        truth=lambda: fleet.truth(scenario.name),
    )


async def _simulate(
    job: _Job,
    *,
    broker: str | None,
    protocol: Protocol,
    username: str | None,
    password: str | None,
    opcua: _OpcUa | None,
) -> tuple[RunStats, RunTruth]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tag = uuid.uuid4().hex[:8]
    try:
        async with contextlib.AsyncExitStack() as stack:
            publishers: list[Publisher] = []
            if broker is not None:
                publishers.append(
                    await stack.enter_async_context(
                        _mqtt(job, broker, protocol, username, password, tag)
                    )
                )
            if opcua is not None:
                server = OpcUaServer(
                    job.plant,
                    host=opcua.host,
                    port=opcua.port,
                    certificate=opcua.certificate,
                    private_key=opcua.private_key,
                    users=opcua.users,
                    initial_time=job.start - job.period,
                )
                publishers.append(await stack.enter_async_context(server))
                console.print(
                    f"OPC UA server on {server.endpoint}, namespace {server.namespace} "
                    f"(ns={server.namespace_index}); node ids {NODE_ID_TEMPLATE!r}, browse paths "
                    f"{BROWSE_PATH_TEMPLATE!r}"
                )
            speed = "as fast as possible" if math.isinf(job.speed) else f"x{job.speed:g}"
            console.print(
                f"simulating {job.name}: {len(job.plant)} machines from {_iso(job.start)} for "
                f"{_span(job.end - job.start)} at {speed}; Ctrl-C stops"
            )
            stats = await job.feed(Tee(*publishers), SimClock(job.start, job.speed), stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return stats, job.truth()


def _mqtt(
    job: _Job,
    broker: str,
    protocol: Protocol,
    username: str | None,
    password: str | None,
    tag: str,
) -> MqttPublisher | SparkplugPublisher:
    address = BrokerAddress.parse(broker)
    user = username or address.username
    secret = password or address.password
    if protocol is Protocol.SPARKPLUG:
        sparkplug = SparkplugPublisher(
            job.plant,
            host=address.host,
            port=address.port,
            client_id_prefix=f"forewarn-sim-{tag}",
            username=user,
            password=secret,
            samples_per_message=job.samples_per_message,
        )
        nodes = ", ".join(f"{group}/{node}" for group, node in sparkplug.nodes)
        console.print(f"Sparkplug B edge nodes {nodes} on {broker}")
        return sparkplug
    console.print(f"publishing JSON to {broker} on {', '.join(job.plant.subscriptions())}")
    return MqttPublisher(
        job.plant,
        host=address.host,
        port=address.port,
        client_id=f"forewarn-sim-{tag}",
        username=user,
        password=secret,
        samples_per_message=job.samples_per_message,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:.0f} s"
