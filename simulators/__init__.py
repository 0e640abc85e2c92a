"""Deterministic machine simulators with injectable faults, scenario files, publishers (MQTT JSON,
Sparkplug B, OPC UA, CSV replay) and ground truth for scoring detection.

    scenario = load_scenario(scenario_path("bearing-failure"))
    fleet = scenario.fleet()
    async with MqttPublisher(scenario.plant, host="localhost", port=1883, client_id="sim") as mqtt:
        await run(fleet, SimClock(scenario.start, speed=120), mqtt, period=scenario.period,
                  until=scenario.end)
    fleet.truth(scenario.name).write("bearing-failure.truth.json")

Or by hand: `Fleet(plant, seed=42, faults=[FaultInjection("P-103", BearingWear(onset, 8 *
3600))], operations={"P-103": Operation(shifts=(Shift(6, 22),))})`.
"""

from simulators.base import EXPONENTIAL_RATE, Fault, MachineModel, Progression, Publisher, Sample
from simulators.clock import SimClock
from simulators.compressor import Compressor, CompressorParameters
from simulators.conveyor import Conveyor, ConveyorParameters
from simulators.csv_replay import CsvError, CsvReplay, read_csv
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
from simulators.mqtt_connection import MqttConnection, Will
from simulators.mqtt_publisher import MqttPublisher
from simulators.opcua_server import OpcUaServer
from simulators.operation import CONTINUOUS, LoadChanges, Operation, Shift
from simulators.publishers import MemoryPublisher, Tee
from simulators.pump import CentrifugalPump, MeasurementNoise, PumpParameters
from simulators.registry import MACHINE_MODELS
from simulators.runner import RunStats, play, run
from simulators.scenario import Scenario, ScenarioFileError, load_scenario, scenario_from_dict
from simulators.scenarios import builtin_scenarios, scenario_path
from simulators.sensor_faults import (
    SENSOR_FAULTS,
    DriftingSensor,
    NoisySensor,
    SensorDropout,
    SensorFault,
    SpikingSensor,
    StuckSensor,
)
from simulators.sparkplug_publisher import EdgeNode, SparkplugPublisher

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
    "CsvError",
    "CsvReplay",
    "DriftingSensor",
    "EdgeNode",
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
    "MemoryPublisher",
    "Misalignment",
    "MotorParameters",
    "MqttConnection",
    "MqttPublisher",
    "NoisySensor",
    "OpcUaServer",
    "Operation",
    "Progression",
    "Publisher",
    "PumpParameters",
    "RunStats",
    "RunTruth",
    "Sample",
    "Scenario",
    "ScenarioFileError",
    "SealLeak",
    "SensorDropout",
    "SensorFault",
    "SensorFaultInjection",
    "SensorFaultTruth",
    "Shift",
    "SimClock",
    "SimulatorError",
    "SparkplugPublisher",
    "SpikingSensor",
    "StuckSensor",
    "Tee",
    "Will",
    "Zone",
    "ZoneLimits",
    "builtin_scenarios",
    "load_scenario",
    "machine_rng",
    "play",
    "read_csv",
    "run",
    "scenario_from_dict",
    "scenario_path",
]
