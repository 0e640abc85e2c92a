"""Settings of the intake, the Sparkplug host and the historian, as `forewarn run` reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from forewarn.errors import ForewarnError
from forewarn.intake import intake_limits
from forewarn.settings import IntakeSettings, load_settings


def test_a_real_plant_gets_a_timestamp_window_by_default() -> None:
    settings = load_settings()
    limits = intake_limits(settings.intake)
    assert limits.max_future == 300.0
    assert limits.max_past == 30 * 86400.0
    assert settings.sparkplug.host_id is None
    assert settings.historian.url is None

    simulated = intake_limits(IntakeSettings(timestamp_window=False, out_of_order_tolerance=2))
    assert (simulated.max_future, simulated.max_past) == (None, None)
    assert simulated.out_of_order_tolerance == 2


def test_intake_and_sparkplug_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "intake: {max_future: 5, out_of_order_tolerance: 0.5, dead_letters_kept: 100}\n"
        "sparkplug: {host_id: scada-1, reorder_timeout: 1}\n"
    )
    settings = load_settings(path)
    limits = intake_limits(settings.intake)
    assert (limits.max_future, limits.out_of_order_tolerance) == (5, 0.5)
    assert settings.intake.dead_letters_kept == 100
    assert (settings.sparkplug.host_id, settings.sparkplug.reorder_timeout) == ("scada-1", 1)

    path.write_text("sparkplug: {host_id: 'a/b'}\nintake: {max_future: 0}\n")
    with pytest.raises(ForewarnError) as info:
        load_settings(path)
    assert "sparkplug.host_id" in str(info.value)
    assert "intake.max_future" in str(info.value)


def test_the_historian_token_comes_from_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("historian: {url: 'http://influx:8086', token: s3cret}\n")
    with pytest.raises(ForewarnError, match="FOREWARN_HISTORIAN__TOKEN"):
        load_settings(path)

    path.write_text("historian: {url: 'http://influx:8086', bucket: plant}\n")
    with pytest.raises(ForewarnError, match="set FOREWARN_HISTORIAN__TOKEN"):
        load_settings(path)

    monkeypatch.setenv("FOREWARN_HISTORIAN__TOKEN", "s3cret")
    settings = load_settings(path)
    assert settings.historian.token is not None
    assert settings.historian.token.get_secret_value() == "s3cret"
    assert settings.historian.bucket == "plant"
    assert "s3cret" not in repr(settings)
