"""Latency from a reading's arrival to its work order committed, at half the peak rate.

    python bench/latency.py [--pumps 200] [--seconds 20] [--database URL]
    python bench/latency.py --peak-only --backlog 20000   # the sustained peak alone

A private mosquitto with forewarn's deployment settings; a plant of `--pumps` pumps (the demo's
pump type on two lines); `forewarn run` with the default ensemble and SQLite (or `--database`, a
store that starts empty). First the peak: a backlog of batched JSON (10 samples of the 5 signals
a message, readings of the last minutes) published as fast as the broker takes it, timed through
the pipeline's counters. Then half that rate for `--seconds`, each pump in turn sending once a
message whose vibration is past its alarm limit among healthy samples. A pump's latency is its
order's `created_at` (written in the transaction that commits the order) minus the moment its
message was handed to the broker, both on this machine's clock: the broker's hop is inside it,
so the figure is conservative. Prints the peak, the offered rate and the latency's percentiles.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import sqlalchemy
import yaml
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).parent))

from ingest_throughput import (
    BATCH_SAMPLES,
    SIGNALS,
    Mosquitto,
    batched_samples,
    free_port,
    publish,
    pump_plant_file,
)
from workers_scaling import health, readings, stop, wait_ports

STAGES = ("engine", "record", "snapshot")


def start(workdir: Path, plant: Path, settings: Path, port: int) -> subprocess.Popen[bytes]:
    log = (workdir / "run.log").open("ab")
    command = [sys.executable, "-m", "forewarn", "run", "--config", str(plant)]
    command += ["--settings", str(settings), "--port", str(port)]
    return subprocess.Popen(command, stdout=log, stderr=log)


def wait_for(port: int, total: int, process: subprocess.Popen[bytes], workdir: Path) -> None:
    while readings(port) < total:
        if process.poll() is not None:
            raise SystemExit((workdir / "run.log").read_text()[-3000:])
        time.sleep(0.05)


def peak(
    broker: Mosquitto,
    topics: list[str],
    messages: int,
    port: int,
    process: subprocess.Popen[bytes],
    workdir: Path,
) -> float:
    """Readings/s through the pipeline while a backlog of `messages` is published at once."""
    rounds = -(-messages // len(topics))
    first_ms = int(time.time() * 1000) - rounds * BATCH_SAMPLES * 1000  # ends now: no gap
    backlog = [
        (
            topics[i % len(topics)],
            batched_samples(first_ms + (i // len(topics)) * BATCH_SAMPLES * 1000),
        )
        for i in range(messages)
    ]
    total = messages * BATCH_SAMPLES * len(SIGNALS)
    before = readings(port)
    began = time.perf_counter()
    publish(broker, backlog)
    wait_for(port, before + total, process, workdir)
    return total / (time.perf_counter() - began)


def paced(
    broker: Mosquitto, topics: list[str], rate: float, seconds: float
) -> tuple[dict[str, float], float]:
    """`rate` readings/s for `seconds`, each pump's alarm message once, spread evenly; the
    wall time each alarm message was handed to the broker, by pump topic, and the readings/s
    published."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"lat-pub-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    interval = BATCH_SAMPLES * len(SIGNALS) / rate
    alarm_every = seconds / len(topics)
    sent: dict[str, float] = {}
    began = time.monotonic()
    i = 0
    try:
        while (elapsed := time.monotonic() - began) < seconds:
            now_ms = int(time.time() * 1000)
            alarmed = len(sent)
            if alarmed < len(topics) and elapsed >= alarmed * alarm_every:
                topic = topics[alarmed]
                sent[topic] = time.time()
                client.publish(topic, batched_samples(now_ms, alarm=True), qos=1)
            else:
                client.publish(topics[i % len(topics)], batched_samples(now_ms), qos=1)
                i += 1
            time.sleep(max(0.0, began + (i + len(sent)) * interval - time.monotonic()))
    finally:
        client.loop_stop()
        client.disconnect()
    return sent, (i + len(sent)) * BATCH_SAMPLES * len(SIGNALS) / (time.monotonic() - began)


def pipeline_stats(port: int) -> dict[str, float]:
    found = health(port)
    stats = found.get("pipeline") if found else None
    if not isinstance(stats, dict):
        raise SystemExit(f"the health endpoint on port {port} gave no pipeline counters")
    return {k: float(v) for k, v in stats.items()}


def committed(database: str) -> dict[str, float]:
    """Each equipment's first order for a machine problem (not a sensor's), its `created_at` as
    a Unix time."""
    engine = sqlalchemy.create_engine(database)
    try:
        with engine.connect() as db:
            rows = db.execute(
                sqlalchemy.text(
                    "SELECT equipment_id, MIN(created_at) FROM work_orders "
                    "WHERE failure_mode_code != 'AIR' GROUP BY equipment_id"
                )
            )
            return {equipment: _unix(at) for equipment, at in rows}
    finally:
        engine.dispose()


def _unix(at: datetime | str) -> float:
    """A UTC timestamp as SQLite (text) or PostgreSQL (a datetime) gives it back."""
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pumps", type=int, default=200, help="one alarm (an order) each")
    parser.add_argument("--seconds", type=float, default=20.0, help="of the half-peak phase")
    parser.add_argument("--backlog", type=int, default=4_000, help="messages timed for the peak")
    parser.add_argument(
        "--rate", type=float, help="readings/s to offer instead of half the peak measured"
    )
    parser.add_argument(
        "--database", help="the store's URL, e.g. postgresql+psycopg://... (default: SQLite)"
    )
    parser.add_argument(
        "--peak-only", action="store_true", help="measure the peak and stop (no paced phase)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir)
        plant = workdir / "plant.yaml"
        topics = pump_plant_file(plant, args.pumps)
        database = args.database or f"sqlite:///{workdir / 'orders.db'}"
        settings = workdir / "settings.yaml"
        settings.write_text(
            yaml.safe_dump(
                {
                    "database": database,
                    "state_dir": str(workdir / "state"),
                    "mqtt": {"url": f"mqtt://127.0.0.1:{broker.port}", "client_id": "latency"},
                    "log_level": "WARNING",
                }
            )
        )
        port = free_port()
        process = start(workdir, plant, settings, port)
        try:
            wait_ports([port])
            time.sleep(2.0)  # subscribed
            top = peak(broker, topics, args.backlog, port, process, workdir)
            if args.peak_only:
                busy = pipeline_stats(port)
                print(
                    f"peak {top:,.0f} readings/s over {args.backlog:,} messages "
                    f"({args.backlog * BATCH_SAMPLES * len(SIGNALS):,} readings); pipeline busy "
                    + ", ".join(f"{k} {busy[f'{k}_seconds']:.1f} s" for k in STAGES)
                )
                return
            before = pipeline_stats(port)
            sent, offered = paced(broker, topics, args.rate or top / 2, args.seconds)
            time.sleep(5.0)  # the last orders
            after = pipeline_stats(port)
            processed = (after["readings"] - before["readings"]) / args.seconds
            orders = committed(database)
        finally:
            stop(process)
            broker.stop()
    equipment = {topic: topic.split("/")[-2] for topic in sent}
    latencies = [orders[equipment[t]] - at for t, at in sent.items() if equipment[t] in orders]
    if not latencies:
        raise SystemExit("no order was opened: see the run's log")
    ms = np.array(latencies) * 1000.0
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    print(
        f"peak {top:,.0f} readings/s; offered {offered:,.0f} readings/s "
        f"({'half the peak' if args.rate is None else '--rate'}), processed "
        f"{processed:,.0f}; "
        f"{len(ms)}/{len(sent)} alarms became orders; latency p50 {p50:.0f} ms, "
        f"p90 {p90:.0f} ms, p99 {p99:.0f} ms, max {ms.max():.0f} ms"
    )
    # Where the pipeline's time went while paced (and the 5 s after): its stages' busy time.
    span = args.seconds + 5.0
    busy = {k: after[f"{k}_seconds"] - before[f"{k}_seconds"] for k in STAGES}
    findings = after["findings"] - before["findings"]
    print(
        "pipeline busy: "
        + ", ".join(f"{k} {v / span:.0%}" for k, v in busy.items())
        + f" of the wall time; {busy['record'] / max(findings, 1) * 1000:.1f} ms per finding "
        f"recorded ({findings:.0f} findings)"
    )


if __name__ == "__main__":
    main()
