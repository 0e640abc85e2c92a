"""Machine models by the equipment type names plant files use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.base import MachineModel
from simulators.compressor import Compressor
from simulators.conveyor import Conveyor
from simulators.fan import Fan
from simulators.gearbox import Gearbox
from simulators.motor import InductionMotor
from simulators.pump import CentrifugalPump

MACHINE_MODELS: Mapping[str, type[MachineModel[Any]]] = {
    cls.machine_type: cls
    for cls in (CentrifugalPump, InductionMotor, Fan, Compressor, Gearbox, Conveyor)
}
