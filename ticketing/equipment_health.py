"""What the equipment tree shows of each machine: its health (active alarms and orders, sensor
faults, a maintenance window over it now) and the one state that sums it up.

Pure: the store gathers the counts, this decides the state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MachineState(enum.StrEnum):
    """Most telling first: a window explains everything else on the machine; a sensor fault makes
    its other findings untrustworthy; an open order means work is already on its way."""

    WINDOW = "window"
    """A maintenance window covers it now: its findings open no order."""
    SENSOR_FAULT = "sensor_fault"
    """A sensor or its link looks broken (stale, stuck, spiking, disconnected)."""
    ORDER = "order"
    """An order on it is active."""
    FINDING = "finding"
    """A finding is active with no order on the machine (shelved, below feedback, suppressed)."""
    NORMAL = "normal"


@dataclass(frozen=True, slots=True)
class EquipmentHealth:
    active_alarms: int = 0
    worst_severity: str | None = None
    """Of the active alarms: warning, alarm or critical."""
    sensor_faults: int = 0
    """Active alarms about sensors or their links rather than the machine."""
    active_orders: int = 0
    top_priority: str | None = None
    """The most pressing priority of the active orders."""
    window: str | None = None
    """The reason of a maintenance window covering it now."""

    @property
    def state(self) -> MachineState:
        if self.window is not None:
            return MachineState.WINDOW
        if self.sensor_faults:
            return MachineState.SENSOR_FAULT
        if self.active_orders:
            return MachineState.ORDER
        if self.active_alarms:
            return MachineState.FINDING
        return MachineState.NORMAL
