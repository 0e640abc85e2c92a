"""A worker that claims its shard (`forewarn.leases`): standby until a shard is free, then serve
it while renewing the lease, and release it on a clean stop. A lost lease stops the serving at
once and the worker goes back to standby. A standby answers GET /api/v1/health on the API's
address (200, `"status": "standby"`), so an orchestrator sees it healthy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import uvicorn
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devices import Plant
from forewarn.lease_store import DatabaseSnapshots, ShardLeases
from forewarn.leases import Tenure, standby_poll
from forewarn.service import QuietServer, bind, owned_part, serve
from forewarn.settings import Settings

log = logging.getLogger(__name__)


async def claim_and_serve(
    plant: Plant, settings: Settings, leases: ShardLeases, *, stop: asyncio.Event
) -> None:
    """Until `stop` is set: claim a shard of `settings.shards` and serve it (`serve`), or wait as
    a standby while every shard is held."""
    poll = standby_poll(settings.lease_timeout)
    while not stop.is_set():
        shard, claimed_at = await _claim(leases, poll)
        if shard is None:
            log.info(
                "standby: all %d shards are held; trying to claim one every %.1f s",
                settings.shards,
                poll,
            )
            async with _standby_api(settings, leases):
                while shard is None and not stop.is_set():
                    await _wait(stop, poll)
                    shard, claimed_at = await _claim(leases, poll)
            if shard is None:
                return
        log.info(
            "claimed shard %d of %d as %s (lease of %.1f s, renewed every %.1f s)",
            shard,
            settings.shards,
            leases.owner,
            settings.lease_timeout,
            settings.lease_timeout / 3,
        )
        lost = await _serve_shard(plant, settings, leases, shard, claimed_at, stop)
        if lost:
            continue
        try:
            released = await asyncio.to_thread(leases.release, shard)
        except SQLAlchemyError as exc:
            log.warning(
                "cannot release shard %d (%s); it is free again when its lease expires",
                shard,
                _brief(exc),
            )
        else:
            if released:
                log.info("released shard %d of %d", shard, settings.shards)
            else:
                log.info("shard %d was no longer this worker's to release", shard)


async def _serve_shard(
    plant: Plant,
    settings: Settings,
    leases: ShardLeases,
    shard: int,
    claimed_at: float,
    stop: asyncio.Event,
) -> bool:
    """Serve `shard` until `stop` is set or its lease is lost; returns whether it was lost."""
    held = settings.model_copy(update={"shard": shard})
    owned = owned_part(plant, held)
    log.info(
        "shard %d of %d owns %d of %d equipment, %d signals",
        shard,
        settings.shards,
        len(owned),
        len(plant),
        sum(len(eq.signals) for eq in owned),
    )
    serving = asyncio.Event()
    tenure = Tenure(settings.lease_timeout, claimed_at)
    lost = False

    async def keep() -> None:
        nonlocal lost
        while True:
            await asyncio.sleep(tenure.next_renewal(time.monotonic()))
            sent_at = time.monotonic()
            left = tenure.renewed_at + tenure.timeout - sent_at
            try:
                renewed = await asyncio.wait_for(
                    asyncio.to_thread(leases.renew, shard), max(0.1, left)
                )
            except (SQLAlchemyError, TimeoutError) as exc:
                why = _brief(exc) if isinstance(exc, SQLAlchemyError) else "no answer in time"
                log.warning("renewing the lease of shard %d failed: %s", shard, why)
                if tenure.lapsed(time.monotonic()):
                    log.warning(
                        "lost shard %d: no renewal for %.1f s; stopping it",
                        shard,
                        settings.lease_timeout,
                    )
                    break
                await asyncio.sleep(min(1.0, tenure.renew_every))
                continue
            if not renewed:
                log.warning("lost shard %d: another worker holds its lease; stopping it", shard)
                break
            tenure.renewed(sent_at)
        lost = True
        serving.set()

    async def forward() -> None:
        await stop.wait()
        serving.set()

    tasks = [asyncio.create_task(keep()), asyncio.create_task(forward())]
    try:
        await serve(plant, held, stop=serving, snapshot_store=DatabaseSnapshots(leases, shard))
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return lost


async def _claim(leases: ShardLeases, poll: float) -> tuple[int | None, float]:
    """The shard claimed (None: none was free) and the monotonic time the claim was sent, from
    which its lease is counted."""
    sent_at = time.monotonic()
    try:
        return await asyncio.to_thread(leases.claim), sent_at
    except SQLAlchemyError as exc:
        log.warning("cannot claim a shard (%s); trying again in %.1f s", _brief(exc), poll)
        return None, sent_at


@contextlib.asynccontextmanager
async def _standby_api(settings: Settings, leases: ShardLeases) -> AsyncIterator[None]:
    """While waiting: GET /api/v1/health on the API's address, closed before the shard is served
    there."""

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "standby",
                "shards": settings.shards,
                "owner": leases.owner,
                "lease_timeout": settings.lease_timeout,
            }
        )

    sock = bind(settings.api.host, settings.api.port)
    app = Starlette(routes=[Route("/api/v1/health", health)])
    server = QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _brief(exc: Exception) -> str:
    return " ".join(str(exc).split("\n")[0].split())
