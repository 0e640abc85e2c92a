"""The error root of `ingest`."""


class IngestError(Exception):
    """Anything wrong getting telemetry in."""


class BrokerUrlError(IngestError, ValueError):
    """A broker URL that cannot be used."""
