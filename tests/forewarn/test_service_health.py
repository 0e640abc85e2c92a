"""Health tells the truth: the pure verdict over counters, and GET /api/v1/health of a running
service whose only broker goes away (503 failing, with the reasons)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from devices import Plant
from forewarn.health import (
    HealthMonitor,
    SourceSample,
    Status,
    StoreSample,
    assess,
    expected_rates,
)
from forewarn.service import Running, serve
from forewarn.settings import ApiSettings, HealthSettings, MqttSettings, Settings
from forewarn.switching import SWITCH_INTERVAL
from tests.conftest import Mosquitto

FLOWING = SourceSample(connected=True, readings=1000, last_reading_age=0.5)


def verdict(sources: dict[str, SourceSample], **kwargs: object) -> tuple[Status, list[str]]:
    args: dict[str, object] = {
        "rates": {},
        "expected": {},
        "window_readings": 0,
        "window_drops": {},
        "restarts": {},
        "uptime": 600.0,
    }
    args.update(kwargs)
    result = assess(sources, **args)  # type: ignore[arg-type]
    return result.status, list(result.reasons)


def test_flowing_sources_are_ok() -> None:
    assert verdict({"mqtt": FLOWING, "opcua:plc": FLOWING}) == (Status.OK, [])


def test_one_source_down_is_degraded_all_down_is_failing() -> None:
    down = SourceSample(connected=False, readings=10, last_reading_age=300.0)
    assert verdict({"mqtt": FLOWING, "opcua:plc": down}) == (
        Status.DEGRADED,
        ["source opcua:plc: disconnected"],
    )
    status, reasons = verdict({"mqtt": down})
    assert status is Status.FAILING
    assert reasons == ["no source delivers readings", "source mqtt: disconnected"]


def test_connected_but_silent_counts_as_not_delivering() -> None:
    silent = SourceSample(connected=True, readings=10, last_reading_age=120.0)
    status, reasons = verdict({"mqtt": silent})
    assert status is Status.FAILING
    assert "source mqtt: no reading for 120 s" in reasons


def test_nothing_yet_is_only_a_problem_after_the_grace() -> None:
    fresh = SourceSample(connected=True, readings=0, last_reading_age=None)
    assert verdict({"mqtt": fresh}, uptime=5.0) == (Status.OK, [])
    status, reasons = verdict({"mqtt": fresh}, uptime=90.0)
    assert status is Status.FAILING
    assert "source mqtt: no reading since the start 90 s ago" in reasons


def test_a_slow_source_against_the_plant_rate_and_restarts_are_degraded() -> None:
    status, reasons = verdict(
        {"mqtt": FLOWING}, rates={"mqtt": 4.0}, expected={"mqtt": 50.0}, restarts={"mqtt": 2}
    )
    assert status is Status.DEGRADED
    assert reasons == [
        "source mqtt: 4.0 readings/s, the plant file expects 50.0/s",
        "source mqtt: network loop restarted 2 time(s)",
    ]
    assert verdict({"mqtt": FLOWING}, rates={"mqtt": 30.0}, expected={"mqtt": 50.0})[0] is (
        Status.OK
    )


def test_engine_drops_beyond_the_fraction_are_degraded() -> None:
    drops = {"out_of_order": 300, "not_finite": 0}
    status, reasons = verdict({"mqtt": FLOWING}, window_readings=1000, window_drops=drops)
    assert status is Status.DEGRADED
    assert reasons == ["engine dropped 300 of 1000 readings (300 out_of_order)"]
    few = {"out_of_order": 10}
    assert verdict({"mqtt": FLOWING}, window_readings=1000, window_drops=few)[0] is Status.OK


def test_the_store_reports_its_own_state() -> None:
    waiting = StoreSample(Status.DEGRADED, "database unreachable; 12 findings spooled")
    assert verdict({"mqtt": FLOWING}, store=waiting) == (
        Status.DEGRADED,
        ["store: database unreachable; 12 findings spooled"],
    )
    assert verdict({"mqtt": FLOWING}, store=StoreSample(Status.FAILING, "disk full"))[0] is (
        Status.FAILING
    )


def test_the_monitor_measures_rates_and_drops_over_its_window() -> None:
    monitor = HealthMonitor({"mqtt": 10.0}, started_at=0.0, window=10.0)

    def sample(readings: int) -> dict[str, SourceSample]:
        return {"mqtt": SourceSample(connected=True, readings=readings, last_reading_age=0.1)}

    assert monitor.check(100.0, sample(0), {"readings": 0}).status is Status.OK
    assert monitor.check(105.0, sample(20), {"readings": 20}).status is Status.OK  # no window yet
    slow = monitor.check(110.0, sample(30), {"readings": 20, "out_of_order": 10})
    assert slow.status is Status.DEGRADED
    assert slow.reasons == (
        "source mqtt: 3.0 readings/s, the plant file expects 10.0/s",
        "engine dropped 10 of 30 readings (10 out_of_order)",
    )
    assert slow.sources == {"mqtt": Status.DEGRADED}
    fine = monitor.check(120.0, sample(130), {"readings": 120, "out_of_order": 10})
    assert fine.status is Status.OK


def test_expected_rates_follow_the_sample_periods(demo_plant: Plant) -> None:
    rates = expected_rates(demo_plant, ["mqtt"])
    signals = sum(len(eq.signals) for eq in demo_plant.equipment.values())
    periods = {s.sample_period for eq in demo_plant.equipment.values() for s in eq.signals.values()}
    assert periods == {1.0}
    assert rates == {"mqtt": float(signals)}


async def test_the_health_endpoint_fails_with_503_when_the_only_broker_is_gone(
    demo_plant: Plant, private_mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = Settings(
        database=f"sqlite:///{tmp_path / 'orders.db'}",
        state_dir=tmp_path / "state",
        mqtt=MqttSettings(url=private_mosquitto.url, client_id=f"h-{uuid.uuid4().hex[:8]}"),
        api=ApiSettings(port=0),
        health=HealthSettings(stale_after=2.0, startup_grace=1.0, window=1.0, min_rate_fraction=0),
    )
    started: asyncio.Future[Running] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    service = asyncio.create_task(
        serve(demo_plant, settings, stop=stop, on_started=started.set_result)
    )
    running = await asyncio.wait_for(started, 30)
    await asyncio.wait_for(running.source.connected(), 30)
    assert sys.getswitchinterval() == SWITCH_INTERVAL  # the store's thread gets the GIL back soon
    publisher = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"p-{uuid.uuid4().hex[:8]}")
    publisher.connect("127.0.0.1", private_mosquitto.port)
    publisher.loop_start()
    topic = "demo/treatment/line-1/P-101/telemetry"
    try:
        async with httpx.AsyncClient(base_url=running.api_url) as http:
            for _ in range(10):
                payload = {"ts": int(time.time() * 1000), "values": {"flow": 90.0}}
                publisher.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)
                await asyncio.sleep(0.2)
            ok = await http.get("/api/v1/health")
            private_mosquitto.stop()
            async with asyncio.timeout(30):
                while (failing := await http.get("/api/v1/health")).status_code != 503:
                    await asyncio.sleep(0.2)
            metrics = (await http.get("/metrics")).text
    finally:
        publisher.loop_stop()
        stop.set()
        await asyncio.wait_for(service, 60)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "ok"
    assert ok.json()["source_status"] == {"mqtt": "ok"}
    body = failing.json()
    assert body["status"] == "failing"
    assert body["reasons"][:2] == ["no source delivers readings", "source mqtt: disconnected"]
    assert body["source_status"] == {"mqtt": "degraded"}
    assert body["sources"]["mqtt"]["connected"] is False
    assert 'forewarn_health_status{status="failing"} 1.0' in metrics
    assert 'forewarn_engine_dropped_total{reason="out_of_order"} 0.0' in metrics
    assert "forewarn_pipeline_readings_total 10.0" in metrics
    busy = re.search(r'forewarn_pipeline_busy_seconds_total\{stage="engine"\} (\S+)', metrics)
    assert busy is not None, metrics
    assert float(busy.group(1)) > 0.0
