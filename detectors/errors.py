"""The error root of `detectors`."""


class DetectorError(Exception):
    """Anything wrong in detection."""


class UnknownDetector(DetectorError, KeyError):
    """A detector name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


class SnapshotError(DetectorError):
    """A snapshot that does not fit this engine (wrong version or shape)."""


class DetectorConfigError(DetectorError):
    """A detector configuration (plant file, settings or CLI) that cannot be built."""
