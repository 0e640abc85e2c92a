"""Deterministic machine simulators with injectable faults, publishing telemetry over MQTT.

plant = load_plant("plant.yaml")
fleet = Fleet(plant, seed=42, faults=[FaultInjection("P-103", BearingWear(onset, 8 * 3600))])
clock = SimClock(start=onset - 3600, speed=120)
async with MqttPublisher(plant, host="localhost", port=1883, client_id="sim") as publisher:
    await run(fleet, clock, publisher, until=onset + 8 * 3600)
fleet.ground_truth()
"""

from simulators.base import EXPONENTIAL_RATE, Fault, MachineModel, Progression, Publisher, Sample
from simulators.clock import SimClock
from simulators.errors import SimulatorError
from simulators.faults import BearingWear, ImpellerWear
from simulators.fleet import FaultInjection, Fleet, machine_rng
from simulators.ground_truth import GroundTruth, LimitCrossing
from simulators.mqtt_publisher import MqttPublisher
from simulators.pump import CentrifugalPump, MeasurementNoise, PumpParameters
from simulators.registry import MACHINE_MODELS
from simulators.runner import RunStats, run

__all__ = [
    "EXPONENTIAL_RATE",
    "MACHINE_MODELS",
    "BearingWear",
    "CentrifugalPump",
    "Fault",
    "FaultInjection",
    "Fleet",
    "GroundTruth",
    "ImpellerWear",
    "LimitCrossing",
    "MachineModel",
    "MeasurementNoise",
    "MqttPublisher",
    "Progression",
    "Publisher",
    "PumpParameters",
    "RunStats",
    "Sample",
    "SimClock",
    "SimulatorError",
    "machine_rng",
    "run",
]
