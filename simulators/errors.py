"""The error root of `simulators`."""


class SimulatorError(Exception):
    """Anything wrong in a simulation: a bad setup, a machine it cannot simulate, a broker."""
