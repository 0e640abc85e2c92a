"""`forewarn tokens create|list|revoke`: API tokens for people and systems, stored hashed in the
work-order database (the secret is printed once, at creation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ticketing import Role, TicketingError, WorkOrderStore

tokens_app = typer.Typer(
    help="API tokens (roles: technician, planner, admin).", no_args_is_help=True
)

Database = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: from --settings / FOREWARN_DATABASE)."),
]
SettingsFile = Annotated[
    Path | None, typer.Option("--settings", help="Settings file (YAML) naming the database.")
]


def _open(db: str | None, settings_file: Path | None, plant_file: Path | None) -> WorkOrderStore:
    from devices import DevicesError, load_plant
    from forewarn.errors import ForewarnError
    from forewarn.settings import load_settings

    try:
        url = db or load_settings(settings_file).database
        plant = load_plant(plant_file) if plant_file is not None else None
        return WorkOrderStore(url, plant=plant)
    except (ForewarnError, DevicesError, TicketingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who uses it: a technician's person id, a name.")],
    role: Annotated[Role, typer.Option(help="technician, planner or admin.")],
    team: Annotated[
        str | None, typer.Option(help="A technician's team (default: from the plant file).")
    ] = None,
    days: Annotated[
        float | None, typer.Option(help="Expire after this many days (default: never).", min=0.01)
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="The plant file (for technicians' teams).")
    ] = None,
    db: Database = None,
    settings_file: SettingsFile = None,
) -> None:
    """Create a token and print its secret (once: only its hash is stored)."""
    with _open(db, settings_file, config) as store:
        expires = datetime.now(UTC) + timedelta(days=days) if days is not None else None
        try:
            issued = store.access.create_token(name, role, team=team, expires_at=expires, by="cli")
        except TicketingError as exc:
            raise _fail(exc) from exc
    token = issued.token
    typer.echo(
        f"token {token.id} for {token.name} ({token.role.value}"
        f"{', team ' + token.team if token.team else ''}"
        f"{', expires ' + f'{token.expires_at:%Y-%m-%d %H:%M} UTC' if token.expires_at else ''}):"
    )
    typer.echo(issued.secret)


@tokens_app.command("list")
def list_tokens(db: Database = None, settings_file: SettingsFile = None) -> None:
    """List tokens (never their secrets)."""
    with _open(db, settings_file, None) as store:
        tokens = store.access.tokens()
    if not tokens:
        typer.echo("no tokens; create one with `forewarn tokens create`")
    for t in tokens:
        state = "revoked" if t.revoked_at else "active"
        if t.expires_at and not t.revoked_at and t.expires_at <= datetime.now(UTC):
            state = "expired"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        typer.echo(
            f"{t.id:>4}  {t.prefix}…  {t.role.value:<10} {t.name:<20} {t.team or '-':<20} "
            f"{state:<8} last used {used}"
        )


@tokens_app.command("revoke")
def revoke(
    token: Annotated[str, typer.Argument(help="The token's id or the prefix `list` shows.")],
    db: Database = None,
    settings_file: SettingsFile = None,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    with _open(db, settings_file, None) as store:
        try:
            key: int | str = int(token) if token.isdigit() else token.rstrip("…")
            revoked = store.access.revoke_token(key, by="cli")
        except TicketingError as exc:
            raise _fail(exc) from exc
    typer.echo(f"revoked token {revoked.id} of {revoked.name} ({revoked.role.value})")
