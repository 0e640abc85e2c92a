"""`forewarn discover opcua|mqtt`: find equipment and signals on a server or broker and write a
plant file a person then edits (types, teams, limits) and checks with `forewarn plant check`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.markup import escape

from devices import OpcUaServerSpec, SecurityMode, SecurityPolicy, plant_from_dict
from devices.discovery import Discovery, from_opcua, plant_file
from devices.discovery_mqtt import from_mqtt
from devices.errors import DevicesError
from forewarn.console import make_console
from ingest import IngestError
from ingest.broker import BrokerAddress
from ingest.discovery import browse_opcua, listen_mqtt

discover_app = typer.Typer(
    help="Find equipment and signals on an OPC UA server or an MQTT broker; write a plant file.",
    no_args_is_help=True,
)
errors = make_console(stderr=True, soft_wrap=True)

Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the plant file here (default: print it)."),
]
Team = Annotated[str, typer.Option(help="Team written on every equipment (edit it after).")]


@discover_app.command("opcua")
def opcua(
    url: Annotated[
        str, typer.Argument(help="opc.tcp://host:port, with a path if the server has one.")
    ],
    output: Output = None,
    name: Annotated[str, typer.Option(help="Name of the server in the plant file.")] = "plc",
    team: Team = "maintenance",
    security_policy: Annotated[
        SecurityPolicy, typer.Option("--security-policy", help="Basic256Sha256 or None.")
    ] = SecurityPolicy.NONE,
    security_mode: Annotated[
        SecurityMode, typer.Option("--security-mode", help="Sign, SignAndEncrypt or None.")
    ] = SecurityMode.NONE,
    certificate: Annotated[
        Path | None, typer.Option(help="Client certificate (forewarn opcua-gen-cert).")
    ] = None,
    private_key: Annotated[Path | None, typer.Option(help="Client private key.")] = None,
    username: Annotated[str | None, typer.Option(help="User name (default: anonymous).")] = None,
    password_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the password.")
    ] = None,
    max_depth: Annotated[int, typer.Option(help="Folders to descend below Objects.")] = 10,
) -> None:
    """Browse the server's address space: folders become site / area / line, objects equipment,
    numeric variables signals (unit from EngineeringUnits, range from EURange)."""
    if security_policy is not SecurityPolicy.NONE and security_mode is SecurityMode.NONE:
        security_mode = SecurityMode.SIGN_AND_ENCRYPT
    try:
        spec = OpcUaServerSpec(
            url=url,
            security_policy=security_policy,
            security_mode=security_mode,
            certificate=str(certificate.resolve()) if certificate else None,
            private_key=str(private_key.resolve()) if private_key else None,
            username=username,
            password_env=password_env,
            anonymous=username is None,
        )
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise _fail(problems) from exc
    password = os.environ.get(password_env) if password_env else None
    if password_env and password is None:
        raise _fail(f"set the environment variable {password_env} to the password of {username}")

    def progress(nodes: int, variables: int) -> None:
        errors.print(f"browsed {nodes} nodes, {variables} numeric variables", end="\r")

    try:
        variables, namespaces = asyncio.run(
            browse_opcua(spec, password, max_depth=max_depth, progress=progress)
        )
    except IngestError as exc:
        raise _fail(str(exc)) from exc
    errors.print()
    connection = spec.model_dump(mode="json", exclude_defaults=True)
    connection["anonymous"] = spec.anonymous
    discovery = from_opcua(variables, server=name, connection=connection, namespaces=namespaces)
    _write(discovery, output, team, f"forewarn discover opcua {url}")


@discover_app.command("mqtt")
def mqtt(
    url: Annotated[
        str,
        typer.Argument(
            help="mqtt://host:port or mqtts://host:port, user:password@ before the host if needed."
        ),
    ],
    seconds: Annotated[float, typer.Option(help="How long to listen.", min=1)] = 60,
    output: Output = None,
    team: Team = "maintenance",
    topic: Annotated[
        list[str] | None, typer.Option(help="Topic filter to listen to (repeatable; default #).")
    ] = None,
    ca_certs: Annotated[Path | None, typer.Option(help="CA certificates for mqtts://.")] = None,
) -> None:
    """Listen to the broker: JSON telemetry on UNS topics ({site}/{area}/{line}/{equipment}/...)
    and Sparkplug B births give equipment, signals, sample periods and payload formats."""
    try:
        broker = BrokerAddress.parse(url)
    except IngestError as exc:
        raise _fail(str(exc)) from exc

    def progress(count: int, left: float) -> None:
        errors.print(f"heard {count} messages, {left:.0f} s left", end="\r")

    try:
        heard = listen_mqtt(
            broker,
            seconds,
            topics=tuple(topic or ("#",)),
            ca_certs=str(ca_certs) if ca_certs else None,
            progress=progress,
        )
    except IngestError as exc:
        raise _fail(str(exc)) from exc
    errors.print()
    discovery = from_mqtt([(h.topic, h.payload, h.received) for h in heard])
    _write(discovery, output, team, f"forewarn discover mqtt {broker} --seconds {seconds:g}")


def _write(discovery: Discovery, output: Path | None, team: str, command: str) -> None:
    text = plant_file(discovery, team=team, command=command)
    try:
        plant = plant_from_dict(yaml.safe_load(text), source="the discovered plant")
    except DevicesError as exc:  # a bug of ours, not the user's: say so, keep the file
        errors.print(f"[yellow]warning:[/] the written file does not load: {escape(str(exc))}")
        plant = None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    signals = sum(len(eq.signals) for eq in discovery.equipment)
    summary = f"found {len(discovery.equipment)} equipment, {signals} signals"
    if output is not None:
        summary += f"; wrote {output}"
        if plant is not None:
            summary += f"; check it with `forewarn plant check {output}`"
    errors.print(escape(summary))
    for note in discovery.notes:
        errors.print(f"note: {escape(note)}")
    if not discovery.equipment:
        raise typer.Exit(code=1)


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=2)
