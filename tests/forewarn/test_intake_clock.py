"""Devices with wrong clocks: an out-of-range timestamp's reject names the settings that change
it, and `receive_time` as the timestamp source, per equipment (plant file) or per source
(settings), lets such a device's readings in, stamped with their arrival time."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from devices import Reading, plant_from_dict
from devices.plant import Plant
from forewarn.errors import ForewarnError
from forewarn.intake import Intake, intake_limits
from forewarn.settings import IntakeSettings, Settings
from ingest import BrokerAddress, DeadLetters, MqttSource, RejectReason, SourceStats, Validator
from tests.conftest import Mosquitto
from tests.ingest.test_mqtt_source import publish, publisher

NINETY_DAYS = 90 * 86400.0


def plant(site: str) -> Plant:
    return plant_from_dict(
        {
            "site": {"id": site},
            "areas": [
                {
                    "id": "a",
                    "lines": [
                        {
                            "id": "l",
                            "equipment": [
                                {
                                    "id": "OLD-CLOCK",
                                    "type": "centrifugal_pump",
                                    "team": "m",
                                    "timestamp_source": "receive_time",
                                },
                                {"id": "P-2", "type": "centrifugal_pump", "team": "m"},
                            ],
                        }
                    ],
                }
            ],
        }
    )


def test_the_reject_names_the_settings_to_change() -> None:
    letters = DeadLetters()
    validator = Validator(intake_limits(IntakeSettings()), letters.add)
    now = 2_000_000_000.0
    assert validator.admit([Reading("P-2", "flow", now - NINETY_DAYS, 1.0)], "t", b"", now) == []
    [reject] = letters.samples()
    assert reject.reason is RejectReason.TIMESTAMP_OUT_OF_RANGE
    assert "7776000 s behind the receive time" in reject.detail
    assert "'timestamp_source: receive_time' in the plant file" in reject.detail
    assert "intake.receive_time_sources" in reject.detail
    assert "raise intake.max_past (now 2592000 s; FOREWARN_INTAKE__MAX_PAST)" in reject.detail
    validator.admit([Reading("P-2", "flow", now + 3600, 1.0)], "t", b"", now)
    assert "raise intake.max_future (now 300 s; FOREWARN_INTAKE__MAX_FUTURE)" in (
        letters.samples()[-1].detail
    )


def test_receive_time_per_source_and_unknown_sources_refused() -> None:
    settings = IntakeSettings(receive_time_sources=["mqtt"])
    limits = intake_limits(settings, plant("s"), "mqtt")
    assert limits.receive_time
    assert limits.receive_time_equipment == {"OLD-CLOCK"}
    assert not intake_limits(settings, plant("s"), "opcua:plc").receive_time
    wrong = Settings(intake=IntakeSettings(receive_time_sources=["opcua:plc1"]))
    with pytest.raises(ForewarnError, match="no source opcua:plc1; the sources are mqtt"):
        Intake.from_settings(plant("s"), wrong)


async def test_an_equipment_without_a_good_clock_is_read_at_receive_time(
    mosquitto: Mosquitto,
) -> None:
    site = f"c{uuid.uuid4().hex[:6]}"
    limits = intake_limits(IntakeSettings(), plant(site), "mqtt")
    letters = DeadLetters()
    source = MqttSource(
        plant(site),
        BrokerAddress("127.0.0.1", mosquitto.port),
        client_id=f"clock-{site}",
        limits=limits,
        stats=SourceStats(dead_letters=letters),
    )
    stale_ms = int((time.time() - NINETY_DAYS) * 1000)
    payload = json.dumps({"ts": stale_ms, "values": {"flow": 42.0}}).encode()
    async with source:
        await asyncio.wait_for(source.connected(), 10)
        before = time.time()
        client = publisher(mosquitto)
        publish(client, [(f"{site}/a/l/{eq}/telemetry", payload) for eq in ("P-2", "OLD-CLOCK")])
        client.disconnect()
        async with asyncio.timeout(20):
            async for batch in source.batches():
                readings = list(batch)
                break
        async with asyncio.timeout(10):
            while letters.total < 1:
                await asyncio.sleep(0.05)
    [reading] = readings
    assert (reading.equipment_id, reading.value) == ("OLD-CLOCK", 42.0)
    assert before - 1 <= reading.ts <= time.time()  # the arrival time, not the device's 1990s
    assert letters.counts == {RejectReason.TIMESTAMP_OUT_OF_RANGE: 1}
    assert "P-2.flow" in letters.samples()[0].detail
