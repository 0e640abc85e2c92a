"""`forewarn dead-letters`: what the sources rejected, read from the service's dead-letter file
(it may be running)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ingest import RejectReason, RejectTotal, StoredReject

T = TypeVar("T")

PAYLOAD_SHOWN = 160
"""Characters of a payload shown in the text listing (--json gives the whole stored excerpt)."""


def dead_letters(
    reason: Annotated[
        RejectReason | None, typer.Option(help="Only rejects of this reason.", show_default=False)
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Only rejects of this source: mqtt, or opcua:<server>.", show_default=False
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Show the newest N rejects.", min=1)] = 20,
    counts: Annotated[
        bool, typer.Option("--counts", help="Totals per source and reason instead of rejects.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="The service's state directory (default: from the settings)."),
    ] = None,
    settings_file: Annotated[
        Path | None,
        typer.Option("--settings", help="Settings file (YAML) naming the state directory."),
    ] = None,
) -> None:
    """Show what the sources rejected (unparsable payloads, unknown equipment or signals,
    timestamps out of range, ...), newest first; `--counts` summarises by source and reason."""
    from forewarn.errors import ForewarnError
    from forewarn.intake import DEAD_LETTER_FILE
    from forewarn.settings import load_settings
    from ingest import DeadLetterStore, DeadLetterStoreError

    try:
        if state_dir is None:
            try:
                state_dir = load_settings(settings_file).state_dir
            except ForewarnError as exc:
                raise ForewarnError(f"{exc}\n(or name the state directory: --state-dir)") from exc
        with DeadLetterStore(state_dir / DEAD_LETTER_FILE, read_only=True) as store:
            if counts:
                totals = store.totals(reason=reason, source=source)
                _emit(totals, as_json, _totals_text, _total_json)
            else:
                kept = store.samples(reason=reason, source=source, limit=limit)
                _emit(kept, as_json, _samples_text, _sample_json)
    except (ForewarnError, DeadLetterStoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _emit(
    items: list[T],
    as_json: bool,
    text: Callable[[list[T]], str],
    to_json: Callable[[T], dict[str, Any]],
) -> None:
    if as_json:
        typer.echo(json.dumps([to_json(item) for item in items], indent=2))
    elif items:
        typer.echo(text(items))
    else:
        typer.echo("no dead letters", err=True)


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def _payload_text(payload: bytes) -> str:
    if not payload:
        return "(none)"
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        shown = payload.hex(" ")
        return f"{len(payload)} bytes, hex: {shown[:PAYLOAD_SHOWN]}" + (
            " ..." if len(shown) > PAYLOAD_SHOWN else ""
        )
    text = text.encode("unicode_escape").decode("ascii")
    return text[:PAYLOAD_SHOWN] + (" ..." if len(text) > PAYLOAD_SHOWN else "")


def _samples_text(samples: list[StoredReject]) -> str:
    return "\n".join(
        f"{_time(r.received_at)}  {r.source}  {r.reason.value}  {r.topic}\n"
        f"    {r.detail}\n"
        f"    payload: {_payload_text(r.payload)}"
        for r in samples
    )


def _sample_json(r: StoredReject) -> dict[str, Any]:
    try:
        text: str | None = r.payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "id": r.id,
        "received_at": _time(r.received_at),
        "source": r.source,
        "reason": r.reason.value,
        "topic": r.topic,
        "detail": r.detail,
        "payload": text,
        "payload_hex": r.payload.hex() if text is None else None,
    }


def _totals_text(totals: list[RejectTotal]) -> str:
    header = ("source", "reason", "count", "kept", "last")
    rows = [header] + [
        (t.source, t.reason.value, str(t.count), str(t.kept), _time(t.last_at)) for t in totals
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 3}
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    )


def _total_json(t: RejectTotal) -> dict[str, Any]:
    return {
        "source": t.source,
        "reason": t.reason.value,
        "count": t.count,
        "kept": t.kept,
        "last_at": _time(t.last_at),
    }
