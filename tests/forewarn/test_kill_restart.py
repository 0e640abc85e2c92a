"""Acknowledge after commit: `forewarn run` SIGKILLed at random moments while a private broker
feeds it, then restarted, N cycles (FOREWARN_KILL_CYCLES, 1 by default). Every reading published
reaches the detectors (counted there), and no work order is opened twice. The default single
cycle takes about 20 s; FOREWARN_KILL_SEED picks other kill moments."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from devices import load_plant
from tests.conftest import Mosquitto
from ticketing import WorkOrderStore

CYCLES = int(os.environ.get("FOREWARN_KILL_CYCLES", "1"))
RATE = 300.0
"""Messages per second, per pump."""
MESSAGES = int(RATE * (6 * CYCLES + 3))
"""Enough to keep the service busy through every cycle (a start takes a few seconds)."""
T0 = 1_764_000_000
PUMPS = ("P-1", "P-2")
HEALTHY = {"flow": 90.0, "vibration": 2.0, "bearing_temp": 60.0, "motor_current": 45.0}

PLANT = """\
site: {id: kill}
areas:
  - id: a
    lines:
      - id: l
        equipment:
          - {id: P-1, type: centrifugal_pump, team: mechanical}
          - {id: P-2, type: centrifugal_pump, team: mechanical}
"""


def payload(pump: str, i: int) -> bytes:
    values = dict(HEALTHY, discharge_pressure=6.0 + 0.01 * (i % 7))
    if pump == "P-2" and i >= MESSAGES // 2:
        values["vibration"] = 9.0  # past the 7.1 mm/s alarm: one VIB order
    return json.dumps({"ts": (T0 + i) * 1000, "values": values}).encode()


def publish_all(broker: Mosquitto, done: threading.Event) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"kill-pub-{uuid.uuid4().hex[:6]}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        started = time.monotonic()
        for i in range(MESSAGES):
            infos = [client.publish(f"kill/a/l/{p}/telemetry", payload(p, i), qos=1) for p in PUMPS]
            for info in infos:
                info.wait_for_publish(10)
            time.sleep(max(0.0, started + (i + 1) / RATE - time.monotonic()))
    finally:
        client.loop_stop()
        client.disconnect()
        done.set()


def open_session(broker: Mosquitto, client_id: str, topic: str) -> None:
    """The service's persistent session, subscribed, before anything is published."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.subscribe(topic, qos=1)
    assert subscribed.wait(10)
    client.disconnect()
    client.loop_stop()


def start(tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    with (tmp_path / "service.log").open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.forewarn.kill_target",
                *(str(tmp_path / name) for name in ("plant.yaml", "settings.yaml")),
                str(log),
            ],
            stdout=out,
            stderr=out,
            cwd=Path(__file__).resolve().parents[2],
        )


def wait_until_processing(log: Path, timeout: float = 60) -> None:
    """Until the service (re)started processes readings: its log grows."""
    size = log.stat().st_size if log.exists() else 0
    deadline = time.monotonic() + timeout
    while (log.stat().st_size if log.exists() else 0) == size:
        assert time.monotonic() < deadline, "the service processed nothing"
        time.sleep(0.05)


def processed(log: Path) -> Counter[tuple[str, str, float]]:
    if not log.exists():
        return Counter()
    lines = log.read_text().splitlines()
    return Counter((e, s, float(ts)) for e, s, ts in (line.split() for line in lines))


def test_sigkill_under_load_loses_no_reading_and_duplicates_no_order(
    private_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    (tmp_path / "plant.yaml").write_text(PLANT)
    (tmp_path / "settings.yaml").write_text(
        f"database: sqlite:///{tmp_path / 'orders.db'}\n"
        f"state_dir: {tmp_path / 'state'}\n"
        "snapshot_interval: 2\n"
        "detectors: [limits]\n"
        f"mqtt: {{url: '{private_mosquitto.url}', client_id: kill-test, ack_after_commit: true}}\n"
        "intake: {timestamp_window: false}\n"
        "api: {port: 0}\n"
    )
    open_session(private_mosquitto, "kill-test", "kill/a/l/+/telemetry")
    log = tmp_path / "processed.txt"
    done = threading.Event()
    feeder = threading.Thread(target=publish_all, args=(private_mosquitto, done), daemon=True)
    rng = random.Random(int(os.environ.get("FOREWARN_KILL_SEED", "10")))
    service = start(tmp_path, log)
    feeder.start()
    kills = 0
    try:
        for _ in range(CYCLES):
            wait_until_processing(log)
            time.sleep(rng.uniform(0.0, 1.0))
            service.send_signal(signal.SIGKILL)
            service.wait(timeout=30)
            kills += 1
            service = start(tmp_path, log)
        feeder.join(timeout=MESSAGES / RATE + 120)
        assert done.is_set()
        expected = {(p, s, float(T0 + i)) for i in range(MESSAGES) for p in PUMPS for s in HEALTHY}
        deadline = time.monotonic() + 120
        while not expected <= set(processed(log)) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
    seen = processed(log)
    lost = expected - set(seen)
    redelivered = sum(seen.values()) - len(set(seen))
    print(
        f"kill cycles {kills}: {len(expected)} readings, lost {len(lost)}, seen again {redelivered}"
    )
    assert code == 0, (tmp_path / "service.log").read_text()[-3000:]
    assert not lost, sorted(lost)[:10]

    store = WorkOrderStore(
        f"sqlite:///{tmp_path / 'orders.db'}", plant=load_plant(tmp_path / "plant.yaml")
    )
    try:
        orders = store.orders.list(limit=1000)
    finally:
        store.close()
    keys = Counter((o.equipment_id, o.failure_mode_code) for o in orders)
    print(f"orders: {dict(keys)}")
    assert keys[("P-2", "VIB")] == 1
    assert all(n == 1 for n in keys.values()), keys
