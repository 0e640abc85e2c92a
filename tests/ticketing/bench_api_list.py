"""Latency of GET /api/v1/work-orders under concurrent load, through a real uvicorn server.

    python -m tests.ticketing.bench_api_list [sqlite|postgresql] [orders] [clients] [seconds]

Fills a store with `orders` work orders across the demo plant (a fifth of them closed), then
`clients` concurrent clients list 50 orders at a time (filters and sorts varied) for `seconds`;
prints p50/p95/p99 and the request rate. Not part of the test run."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import tempfile
import time
import uuid

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devices import load_plant
from tests.conftest import DEMO_PLANT
from tests.ticketing.live_server import serving
from tests.ticketing.workorder_helpers import T0, finding
from ticketing import Role, WorkOrderStore
from ticketing.api import create_app

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUERIES = [
    {"limit": "50"},
    {"limit": "50", "active": "true", "sort": "priority"},
    {"limit": "50", "team": "mechanical", "sort": "-updated_at"},
    {"limit": "50", "priority": "urgent", "offset": "50"},
    {"limit": "50", "q": "P-10"},
]


def fill(store: WorkOrderStore, orders: int) -> None:
    plant = store.plant
    assert plant is not None
    pumps = list(plant)
    signals = itertools.cycle(["vibration", "flow"])
    for k in range(orders):
        pump = pumps[k % len(pumps)]
        recorded = store.orders.record(finding(pump.id, next(signals), ts=T0 + k), pump)
        assert recorded is not None
        if k % 5 != 4:
            store.orders.resolve(recorded.order.number, by="bench")


async def load(url: str, token: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        queries = itertools.cycle(QUERIES[n % len(QUERIES) :] + QUERIES[: n % len(QUERIES)])
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as http:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await http.get("/api/v1/work-orders", params=next(queries))
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    orders = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    else:
        with create_engine(POSTGRES).begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={schema}"})
        url = url.render_as_string(hide_password=False)
    plant = load_plant(DEMO_PLANT)
    try:
        with WorkOrderStore(url, plant=plant) as store:
            started = time.perf_counter()
            fill(store, orders)
            print(f"{backend}: {orders} orders recorded in {time.perf_counter() - started:.1f} s")
            token = store.access.create_token("bench", Role.PLANNER).secret
            with serving(create_app(store)) as api:
                latencies = asyncio.run(load(api, token, clients, seconds))
        q = statistics.quantiles(latencies, n=100)
        print(
            f"GET /api/v1/work-orders (50 per page), {clients} clients, {seconds:.0f} s: "
            f"{len(latencies)} requests, {len(latencies) / seconds:.0f}/s, "
            f"p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms"
        )
    finally:
        if backend != "sqlite":
            with create_engine(POSTGRES).begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
