"""The error root of the composition root."""


class ForewarnError(Exception):
    """A problem the user can fix: bad settings, a busy port, an unreachable broker."""
