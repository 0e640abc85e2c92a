"""Process settings: one validated class, from a YAML file, FOREWARN_* environment variables and
command-line flags (in rising order of precedence). Secrets have no defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from detectors import DEFAULT as DEFAULT_DETECTORS
from forewarn.errors import ForewarnError
from ingest import BrokerAddress
from ticketing.change_feed import Polling


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
    ack_after_commit: bool = False
    """Acknowledge a QoS 1 message only once the findings of its batch are stored (no loss on a
    crash). Needs a broker that keeps many messages in flight per client (mosquitto with
    max_inflight_messages 100 or more); off by default because the demo's embedded amqtt
    delivers one unacknowledged message at a time."""
    queue_bytes: int = Field(default=64 << 20, gt=0)
    """Bound, in bytes of readings, of the queue between the network thread and the pipeline
    (overflow policy: block; the broker keeps the rest)."""

    def broker(self) -> BrokerAddress:
        """The broker of `url`, with the username and password given here if any."""
        broker = BrokerAddress.parse(self.url)
        if self.username is None:
            return broker
        password = self.password.get_secret_value() if self.password else None
        return BrokerAddress(broker.host, broker.port, broker.tls, self.username, password)


class IntakeSettings(BaseModel):
    """What the sources accept. Rejects are counted by reason and the newest kept on disk
    (`forewarn dead-letters` reads them)."""

    model_config = ConfigDict(extra="forbid")

    timestamp_window: bool = True
    """Reject readings stamped too far ahead of or behind the time they arrive. Simulations and
    replays, whose clocks are not the wall clock, turn it off."""
    max_future: float = Field(default=300.0, gt=0)
    """Seconds a timestamp may be ahead of the receive time (tolerated clock skew)."""
    max_past: float = Field(default=30 * 86400.0, gt=0)
    """Seconds a timestamp may be behind it (the broker may hold messages while we are down)."""
    receive_time_sources: list[str] = []
    """Sources ("mqtt", "opcua:<server>") whose readings are stamped with the time they arrive
    instead of the device's (devices without a clock, or with a wrong one); per equipment, the
    plant file's `timestamp_source: receive_time`."""
    out_of_order_tolerance: float = Field(default=10.0, ge=0)
    """Seconds a reading may be older than the last one of its signal and still be accepted."""
    max_payload_bytes: int = Field(default=1 << 20, gt=0)
    dead_letters_kept: int = Field(default=10_000, gt=0)
    """Newest rejects kept in {state_dir}/dead-letters.sqlite3 (the counts cover all of them)."""
    merged_queue_batches: int = Field(default=64, gt=0)
    merged_queue_bytes: int = Field(default=64 << 20, gt=0)
    """Bounds of the queue where the sources' batches meet (overflow policy: block)."""


class SparkplugSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host_id: str | None = None
    """Run as a Sparkplug B host application with this id (its STATE is published on
    spBv1.0/STATE/{host_id}); the plant file says which groups, edge nodes and devices carry which
    signals. None: no Sparkplug. Give each worker its own."""
    reorder_timeout: float = Field(default=2.0, gt=0)
    """Seconds to wait for a missing sequence number before asking the edge node to rebirth."""

    @field_validator("host_id")
    @classmethod
    def _host_id(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError("a Sparkplug host id must not be empty or contain '/', '+' or '#'")
        return value


class HistorianSettings(BaseModel):
    """Readings and findings to InfluxDB (v2 write API); off unless `url` is given."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    """e.g. http://influxdb:8086; None: no history."""
    token: SecretStr | None = None
    """API token; from the environment only (FOREWARN_HISTORIAN__TOKEN), never a file."""
    org: str = "forewarn"
    bucket: str = "forewarn"
    spool_dir: Path | None = None
    """Where points wait while the server is unreachable; default: {state_dir}/historian-spool."""
    max_buffer: int = Field(default=100_000, gt=0)
    """Points kept in memory before they go to the spool."""

    @model_validator(mode="after")
    def _token(self) -> HistorianSettings:
        if self.url is not None and self.token is None:
            raise ValueError(
                "historian.url is set but no token: set FOREWARN_HISTORIAN__TOKEN to an API token "
                "with write access to the bucket"
            )
        return self


class HealthSettings(BaseModel):
    """What GET /api/v1/health judges by (see forewarn.health)."""

    model_config = ConfigDict(extra="forbid")

    stale_after: float = Field(default=60.0, gt=0)
    """Seconds without a reading after which a source counts as silent."""
    startup_grace: float = Field(default=60.0, ge=0)
    """Seconds after start before a source that sent nothing yet counts against health."""
    window: float = Field(default=30.0, gt=0)
    """Seconds over which reading rates and engine drops are measured."""
    link_grace: float = Field(default=60.0, ge=0)
    """Seconds a link may be down (MQTT broker disconnected, OPC UA session lost, Sparkplug B
    NDEATH or DDEATH) before each equipment behind it gets a communication finding and order; a
    reconnect sooner opens nothing."""
    link_check: float = Field(default=5.0, gt=0)
    """Seconds between two looks at the links."""
    min_rate_fraction: float = Field(default=0.5, ge=0, le=1)
    """A source sending less than this part of the rate its signals' sample periods promise is
    degraded."""


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    work_orders: bool = True
    """Serve the work-order API and web page (`forewarn run`). Off (`--no-api`): only
    GET /api/v1/health and GET /metrics on this address, for orchestrators and Prometheus; the
    workers of a deployment leave the API to `forewarn api`."""
    events_poll: float = Field(default=1.0, gt=0)
    """Seconds between two reads of the audit trail by an event stream that nothing woke, while
    no database listener wakes it: always on SQLite (other processes' writes arrive this late),
    on PostgreSQL only while the listener reconnects."""
    events_poll_listening: float = Field(default=30.0, gt=0)
    """The same while the PostgreSQL listener is connected (LISTEN/NOTIFY wakes the streams at
    once; this only bounds what a lost notification would delay)."""

    def event_polling(self) -> Polling:
        return Polling(self.events_poll, self.events_poll_listening)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FOREWARN_", env_nested_delimiter="__", extra="forbid"
    )

    database: str = "sqlite:///forewarn.db"
    """SQLAlchemy URL: sqlite:///path/to/file.db or postgresql+psycopg://user@host/db."""
    state_dir: Path = Path("forewarn-state")
    """Where detector state snapshots are kept between runs."""
    snapshot_interval: float = Field(default=60.0, gt=0)
    """Wall-clock seconds between detector state snapshots."""
    snapshot_source_interval: float = Field(default=600.0, gt=0)
    """Also snapshot after this many seconds of source time: a backlog (or a replay) processed
    faster than real time loses at most this much learning to a crash, not its warm-up."""
    finding_spool_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    """Findings wait in {state_dir}/finding-spool.sqlite3 while the work-order database is
    unreachable, up to this many bytes; beyond it new findings are lost (and counted)."""
    detectors: list[str] = list(DEFAULT_DETECTORS)
    mqtt: MqttSettings = MqttSettings()
    intake: IntakeSettings = IntakeSettings()
    sparkplug: SparkplugSettings = SparkplugSettings()
    historian: HistorianSettings = HistorianSettings()
    api: ApiSettings = ApiSettings()
    health: HealthSettings = HealthSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    shards: int = Field(default=1, ge=1)
    """Workers the plant's equipment is split over (forewarn.shards); every worker runs the same
    plant file with the same `shards`, and its own `shard` or none (a dynamic claim)."""
    shard: int | None = Field(default=None, ge=0)
    """Which of the `shards` this worker is, 0..shards-1; it reads only that shard's equipment.
    None with `shards` above one: the worker claims a free shard through a lease in the shared
    PostgreSQL database (forewarn.leases), and is a standby while every shard is held."""
    lease_timeout: float = Field(default=15.0, gt=0)
    """Seconds a dynamically claimed shard stays this worker's without a renewal (it renews every
    third of it); a worker that dies loses its shard to a standby at most this long after its
    last renewal."""

    @model_validator(mode="after")
    def _shard_in_range(self) -> Settings:
        if self.shard is not None and self.shard >= self.shards:
            raise ValueError(
                f"shard {self.shard} is not one of the {self.shards} shard(s): give a shard "
                f"from 0 to {self.shards - 1} (--shard, FOREWARN_SHARD), or more shards "
                "(--shards, FOREWARN_SHARDS)"
            )
        return self

    @property
    def sharded(self) -> bool:
        return self.shards > 1

    @property
    def claims_shards(self) -> bool:
        """Sharded without a fixed `shard`: the shard comes from a lease (forewarn.leases)."""
        return self.sharded and self.shard is None

    @property
    def shard_number(self) -> int:
        """The fixed shard (0 unsharded); an error for a worker whose shard is yet to be claimed."""
        if self.shard is None:
            if self.sharded:
                raise ForewarnError(
                    f"this worker of {self.shards} shards has no shard yet; it claims one "
                    "(forewarn.leases) or is given one with --shard"
                )
            return 0
        return self.shard

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
    if path is not None:
        _no_secrets_in(path)
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


def _no_secrets_in(path: Path) -> None:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return  # the settings source reports it
    historian = document.get("historian") if isinstance(document, dict) else None
    if isinstance(historian, dict) and "token" in historian:
        raise ForewarnError(
            f"{path}: historian.token: a token does not go in a settings file; remove it and set "
            "the environment variable FOREWARN_HISTORIAN__TOKEN"
        )
