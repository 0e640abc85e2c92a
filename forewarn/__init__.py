"""forewarn: machine telemetry in, preventive maintenance work orders out.

This package is the composition root: settings, the command line and the wiring of
`ingest`, `detectors`, `ticketing` and `simulators`.
"""

__version__ = "0.1.0"
