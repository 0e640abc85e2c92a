from __future__ import annotations

from pathlib import Path

import pytest

from forewarn.errors import ForewarnError
from forewarn.settings import load_settings


def test_defaults_file_env_and_overrides_in_rising_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "database: sqlite:///from-file.db\n"
        "mqtt: {url: 'mqtt://file-broker:1883', client_id: from-file}\n"
        "api: {port: 9000}\n"
    )
    monkeypatch.setenv("FOREWARN_MQTT__CLIENT_ID", "from-env")
    monkeypatch.setenv("FOREWARN_API__PORT", "9100")
    settings = load_settings(path, database="sqlite:///from-flag.db")
    assert settings.database == "sqlite:///from-flag.db"
    assert settings.mqtt.client_id == "from-env"
    assert settings.mqtt.url == "mqtt://file-broker:1883"
    assert settings.api.port == 9100
    assert settings.mqtt.password is None  # secrets are never defaulted


def test_password_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREWARN_MQTT__PASSWORD", "hunter2")
    settings = load_settings()
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)


def test_bad_settings_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("api: {port: 99999}\nmqtt: {protocl: '5'}\n")
    with pytest.raises(ForewarnError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert "api.port" in message
    assert "mqtt.protocl" in message


def test_missing_settings_file(tmp_path: Path) -> None:
    with pytest.raises(ForewarnError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")
