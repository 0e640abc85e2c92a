"""`forewarn api`: the work-order API and web page as a service of its own, without a pipeline.

Stateless: every replica reads and writes the shared database, so several can run behind a load
balancer while the workers (`forewarn run --no-api`) ingest and detect. The event stream
(GET /api/v1/events) reads the audit trail itself, woken on PostgreSQL by the notifications
every writer sends (`ticketing.change_feed`) and polling on SQLite, so a replica streams the
orders the workers open.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from devices import DevicesError, load_plant
from forewarn.console import configure_logging, fail
from forewarn.errors import ForewarnError
from forewarn.interrupts import Interrupts
from ticketing import TicketingError, WorkOrderStore
from ticketing.api import close_streams, create_app

log = logging.getLogger(__name__)


def api(
    config: Annotated[Path, typer.Option("--config", "-c", help="The plant file (YAML).")],
    settings_file: Annotated[
        Path | None,
        typer.Option("--settings", help="Settings file (YAML); FOREWARN_* env overrides it."),
    ] = None,
    db: Annotated[str | None, typer.Option(help="Database URL (overrides settings).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to serve on (overrides settings).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="API port (overrides settings).")] = None,
) -> None:
    """Serve the work-order API and web page over the shared database, without ingesting."""
    from forewarn.service import QuietServer, bind
    from forewarn.settings import load_settings

    try:
        settings = load_settings(settings_file, database=db)
        configure_logging(settings.log_level)
        plant = load_plant(config)
        store = WorkOrderStore(settings.database, plant=plant)
        sock = bind(host or settings.api.host, settings.api.port if port is None else port)
    except (ForewarnError, DevicesError, TicketingError) as exc:
        raise fail(exc) from exc

    async def main() -> None:
        app = create_app(store, plant=plant, event_polling=settings.api.event_polling())
        server = QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
        with Interrupts() as interrupts:
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            address = sock.getsockname()
            log.info(
                "serving the API of %s on http://%s:%d (no pipeline: workers ingest and detect)",
                plant.source,
                address[0],
                address[1],
            )
            await interrupts.stop.wait()
            log.info("stopping the API")
            close_streams(app)
            server.should_exit = True
            await serving

    try:
        asyncio.run(main())
    finally:
        sock.close()
        store.close()
