"""Where an MQTT broker is and how to log in: parsed from a URL like mqtts://user:pass@host:8883."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ingest.errors import BrokerUrlError

_DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int = 1883
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in _DEFAULT_PORTS:
            raise BrokerUrlError(
                f"broker URL {url!r}: scheme {parts.scheme!r} is not one of mqtt://, mqtts://"
            )
        if not parts.hostname:
            raise BrokerUrlError(
                f"broker URL {url!r} has no host; write e.g. mqtt://localhost:1883"
            )
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise BrokerUrlError(f"broker URL {url!r}: {exc}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme in ("mqtts", "ssl"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"
