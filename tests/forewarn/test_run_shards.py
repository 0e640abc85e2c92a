"""Two `forewarn run --shards 2 --shard 0/1` workers on one plant file, one private mosquitto and
one shared SQLite database, the simulated demo plant with a developing bearing fault in each
shard: each fault gets exactly one work order, opened by the worker that owns it; each worker
receives exactly its own equipment's messages (its /metrics) and nothing else."""

from __future__ import annotations

import asyncio
import math
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx

from devices import load_plant
from forewarn.shards import assignment
from simulators import BearingWear, FaultInjection, Fleet, MqttPublisher, SimClock
from simulators import run as run_simulation
from tests.conftest import DEMO_PLANT, Mosquitto, free_port
from tests.forewarn.run_helpers import metric_samples, start_forewarn, subscribed_health, wait_until
from ticketing import Role, WorkOrderStore

START = 1_764_000_000.0
MINUTE = 60.0
UNTIL = START + 40 * MINUTE
SIGNALS = 5
"""Of each demo pump."""


async def test_two_shards_split_the_plant_its_messages_and_its_orders(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    plant = load_plant(DEMO_PLANT)
    owners = assignment(plant, 2)
    owned = {shard: [eq.id for eq in plant if owners[eq.id] == shard] for shard in (0, 1)}
    assert all(owned.values())
    faulty = {shard: ids[0] for shard, ids in owned.items()}

    database = tmp_path / "orders.db"
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"database: sqlite:///{database}\n"
        "detectors: [limits]\n"
        f"mqtt: {{url: '{mosquitto.url}', client_id: shards-{uuid.uuid4().hex[:8]}}}\n"
        "intake: {timestamp_window: false}\n"  # simulated time runs ahead of the wall clock
    )
    ports = {shard: free_port() for shard in (0, 1)}
    logs = {shard: tmp_path / f"worker-{shard}.log" for shard in (0, 1)}
    workers = {
        shard: await start_forewarn(
            "run",
            "--config",
            str(DEMO_PLANT),
            "--settings",
            str(settings),
            "--shards",
            "2",
            "--shard",
            str(shard),
            "--port",
            str(ports[shard]),
            log=logs[shard],
            env={"FOREWARN_STATE_DIR": str(tmp_path / f"state-{shard}")},
        )
        for shard in (0, 1)
    }
    apis = {
        shard: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)
        for shard, port in ports.items()
    }
    try:

        async def status(shard: int) -> dict[str, Any] | None:
            return await subscribed_health(apis[shard], workers[shard], logs[shard])

        for shard in (0, 1):
            await wait_until(lambda shard=shard: status(shard), f"worker {shard} subscribed")

        faults = [
            FaultInjection(eq_id, BearingWear(onset=START + 10 * MINUTE, time_to_failure=1200))
            for eq_id in faulty.values()
        ]
        async with MqttPublisher(
            plant, host="127.0.0.1", port=mosquitto.port, client_id=f"shards-sim-{uuid.uuid4()}"
        ) as publisher:
            await run_simulation(
                Fleet(plant, seed=3, faults=faults),
                SimClock(start=START, speed=math.inf),
                publisher,
                until=UNTIL,
            )
        ticks = int((UNTIL - START) / 1.0)
        messages = {shard: ticks * len(ids) for shard, ids in owned.items()}

        async def processed(shard: int) -> dict[str, Any] | None:
            found = await status(shard)
            readings = messages[shard] * SIGNALS
            return found if found and found["pipeline"]["readings"] >= readings else None

        for shard in (0, 1):
            await wait_until(lambda shard=shard: processed(shard), f"worker {shard} processed")

        for shard in (0, 1):
            metrics = metric_samples((await apis[shard].get("/metrics")).text)
            mqtt = (("source", "mqtt"),)
            assert metrics[("forewarn_ingest_messages_total", mqtt)] == messages[shard]
            assert metrics[("forewarn_ingest_readings_total", mqtt)] == messages[shard] * SIGNALS
            rejected = [
                v for (name, _), v in metrics.items() if name.startswith("forewarn_ingest_rejected")
            ]
            assert sum(rejected) == 0, rejected
            assert metrics[("forewarn_pipeline_orders_opened_total", ())] == 1

        store = WorkOrderStore(f"sqlite:///{database}", plant=plant)
        with store:
            token = store.access.create_token("shards test", Role.PLANNER).secret
        for shard in (0, 1):  # one database: each worker's API shows both shards' orders
            response = await apis[shard].get(
                "/api/v1/work-orders", headers={"Authorization": f"Bearer {token}"}
            )
            orders = sorted((o["equipment_id"], o["failure_mode_code"]) for o in response.json())
            assert orders == sorted((eq_id, "VIB") for eq_id in faulty.values())
    finally:
        for api in apis.values():
            await api.aclose()
        for worker in workers.values():
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(w.wait(), 60) for w in workers.values()]
    assert codes == [0, 0], [log.read_text()[-3000:] for log in logs.values()]
    for shard in (0, 1):
        text = logs[shard].read_text()
        assert (
            f"shard {shard} of 2 (0..1): owns {len(owned[shard])} of {len(plant)} equipment, "
            f"{len(owned[shard]) * SIGNALS} signals"
        ) in text
        opened = [line for line in text.splitlines() if "forewarn.pipeline: opened" in line]
        assert len(opened) == 1, opened
        assert opened[0].split(" for ")[1].startswith(plant.equipment[faulty[shard]].path + ":")
