"""Process settings: one validated class, from a YAML file, FOREWARN_* environment variables and
command-line flags (in rising order of precedence). Secrets have no defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from detectors import DEFAULT as DEFAULT_DETECTORS
from forewarn.errors import ForewarnError


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "mqtt://127.0.0.1:1883"
    """mqtt://host:port or mqtts://host:port; credentials may be given here or below."""
    client_id: str = "forewarn"
    """Fixed, so the broker keeps our persistent session; give each worker its own."""
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    username: str | None = None
    password: SecretStr | None = None
    ca_certs: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    queue_messages: int = Field(default=10_000, gt=0)
    """Bound of the queue between the network thread and the pipeline (overflow policy: block)."""


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FOREWARN_", env_nested_delimiter="__", extra="forbid"
    )

    database: str = "sqlite:///forewarn.db"
    """SQLAlchemy URL: sqlite:///path/to/file.db or postgresql+psycopg://user@host/db."""
    state_dir: Path = Path("forewarn-state")
    """Where detector state snapshots are kept between runs."""
    snapshot_interval: float = Field(default=60.0, gt=0)
    detectors: list[str] = list(DEFAULT_DETECTORS)
    mqtt: MqttSettings = MqttSettings()
    api: ApiSettings = ApiSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `path` (YAML, optional), the environment, then `overrides` (CLI flags)."""
    if path is not None and not path.is_file():
        raise ForewarnError(f"settings file {path} does not exist")
    config = {**Settings.model_config, "yaml_file": path}
    from_file = type("Settings", (Settings,), {"model_config": config})
    try:
        settings: Settings = from_file(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        where = str(path) if path is not None else "settings"
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ForewarnError(f"{where}: invalid settings:\n{problems}") from exc
    return settings
