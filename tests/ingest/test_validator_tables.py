"""The intake checks keep one last time per stream, whichever table numbers the sink it comes in."""

from __future__ import annotations

from devices import ColumnSink, Reading, load_plant
from ingest import Reject, RejectReason
from ingest.validate import SIMULATED_TIME, Validator
from tests.conftest import DEMO_PLANT


def test_a_streams_last_time_is_shared_by_the_plant_table_and_a_sinks_own() -> None:
    plant = load_plant(DEMO_PLANT)
    rejects: list[Reject] = []
    validator = Validator(SIMULATED_TIME, rejects.append)
    # A reading through `admit` (a sink numbered by a table of its own)...
    admitted = validator.admit([Reading("P-101", "flow", 1_000.0, 1.0)], "t", b"", 0.0)
    assert [r.ts for r in admitted] == [1_000.0]
    # ... makes an older one of the same stream late in a sink numbered by the plant's table,
    sink = ColumnSink(plant.streams)
    flow = plant.streams.index(("P-101", "flow"))
    vibration = plant.streams.index(("P-101", "vibration"))
    sink.append(flow, 980.0, 2.0)
    sink.append(vibration, 980.0, 3.0)  # another stream: nothing to be late against
    sink.append(flow, 1_005.0, 4.0)
    validator.admit_columns(sink, 0, "t", b"", 0.0)
    assert sink.value == [3.0, 4.0]
    assert [r.reason for r in rejects] == [RejectReason.OUT_OF_ORDER]
    assert "P-101.flow: ts 980.000 is 20.0 s older" in rejects[0].detail
    # ... and the newest time counts again on the way back.
    assert validator.admit([Reading("P-101", "flow", 990.0, 5.0)], "t", b"", 0.0) == []
    assert len(rejects) == 2
