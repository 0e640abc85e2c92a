"""`forewarn opcua-gen-cert`: a self-signed OPC UA client certificate and key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def gen_cert(
    certificate: Annotated[Path, typer.Option(help="Where to write the certificate (DER).")] = Path(
        "forewarn-client.der"
    ),
    private_key: Annotated[
        Path, typer.Option(help="Where to write the key (PEM, mode 0600).")
    ] = Path("forewarn-client.pem"),
    hostname: Annotated[str | None, typer.Option(help="DNS name in the certificate.")] = None,
    days: Annotated[int, typer.Option(help="Validity in days.", min=1)] = 730,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Generate a self-signed OPC UA client certificate (application URI urn:forewarn:client);
    copy it into the server's trusted certificates and name both files in the plant file."""
    from ingest import APPLICATION_URI, write_self_signed

    existing = [p for p in (certificate, private_key) if p.exists()]
    if existing and not force:
        typer.echo(
            f"error: {', '.join(map(str, existing))} exists; use --force to replace", err=True
        )
        raise typer.Exit(code=2)
    cert = write_self_signed(certificate, private_key, hostname=hostname, days=days)
    typer.echo(
        f"wrote {certificate} (application URI {APPLICATION_URI}, valid until "
        f"{cert.not_valid_after_utc:%Y-%m-%d}) and {private_key}"
    )
