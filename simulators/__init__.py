"""Deterministic machine simulators with injectable faults, scenario files, publishers (MQTT JSON,
Sparkplug B, OPC UA, CSV replay) and ground truth for scoring detection.

plant = load_plant("plant.yaml")
fleet = Fleet(plant, seed=42, faults=[FaultInjection("P-103", BearingWear(onset, 8 * 3600))])
clock = SimClock(start=onset - 3600, speed=120)
async with MqttPublisher(plant, host="localhost", port=1883, client_id="sim") as publisher:
    await run(fleet, clock, publisher, until=onset + 8 * 3600)
fleet.ground_truth()
"""

from simulators.base import EXPONENTIAL_RATE, Fault, MachineModel, Progression, Publisher, Sample
from simulators.clock import SimClock
from simulators.compressor import Compressor, CompressorParameters
from simulators.conveyor import Conveyor, ConveyorParameters
from simulators.errors import SimulatorError
from simulators.fan import Fan, FanParameters
from simulators.faults import (
    FAULTS,
    BearingWear,
    BeltSlip,
    Cavitation,
    CoolingLoss,
    Imbalance,
    ImpellerWear,
    LubricationLoss,
    Misalignment,
    SealLeak,
)
from simulators.fleet import FaultInjection, Fleet, Injection, SensorFaultInjection, machine_rng
from simulators.gearbox import Gearbox, GearboxParameters
from simulators.ground_truth import (
    GroundTruth,
    LimitCrossing,
    MachineTruth,
    RunTruth,
    SensorFaultTruth,
)
from simulators.iso10816 import Zone, ZoneLimits
from simulators.motor import InductionMotor, MotorParameters
from simulators.mqtt_publisher import MqttPublisher
from simulators.operation import CONTINUOUS, LoadChanges, Operation, Shift
from simulators.pump import CentrifugalPump, MeasurementNoise, PumpParameters
from simulators.registry import MACHINE_MODELS
from simulators.runner import RunStats, run
from simulators.sensor_faults import (
    SENSOR_FAULTS,
    DriftingSensor,
    NoisySensor,
    SensorDropout,
    SensorFault,
    SpikingSensor,
    StuckSensor,
)

__all__ = [
    "CONTINUOUS",
    "EXPONENTIAL_RATE",
    "FAULTS",
    "MACHINE_MODELS",
    "SENSOR_FAULTS",
    "BearingWear",
    "BeltSlip",
    "Cavitation",
    "CentrifugalPump",
    "Compressor",
    "CompressorParameters",
    "Conveyor",
    "ConveyorParameters",
    "CoolingLoss",
    "DriftingSensor",
    "Fan",
    "FanParameters",
    "Fault",
    "FaultInjection",
    "Fleet",
    "Gearbox",
    "GearboxParameters",
    "GroundTruth",
    "Imbalance",
    "ImpellerWear",
    "InductionMotor",
    "Injection",
    "LimitCrossing",
    "LoadChanges",
    "LubricationLoss",
    "MachineModel",
    "MachineTruth",
    "MeasurementNoise",
    "Misalignment",
    "MotorParameters",
    "MqttPublisher",
    "NoisySensor",
    "Operation",
    "Progression",
    "Publisher",
    "PumpParameters",
    "RunStats",
    "RunTruth",
    "Sample",
    "SealLeak",
    "SensorDropout",
    "SensorFault",
    "SensorFaultInjection",
    "SensorFaultTruth",
    "Shift",
    "SimClock",
    "SimulatorError",
    "SpikingSensor",
    "StuckSensor",
    "Zone",
    "ZoneLimits",
    "machine_rng",
    "run",
]
