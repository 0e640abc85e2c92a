"""Getting telemetry in: sources that parse, map and validate, and hand batches of readings on."""

from ingest.base import Batch, Source, SourceStats
from ingest.broker import BrokerAddress
from ingest.certificates import APPLICATION_URI, write_self_signed
from ingest.dead_letter_store import (
    DeadLetterRecorder,
    DeadLetterStore,
    DeadLetterStoreError,
    RejectTotal,
    StoredReject,
)
from ingest.errors import BrokerUrlError, IngestError
from ingest.fanin import FanIn
from ingest.historian import Historian, finding_lines, reading_lines
from ingest.mqtt import MqttSource
from ingest.opcua import OpcUaError, OpcUaSource, quality_of
from ingest.payload import JsonDecoder
from ingest.rejects import DeadLetters, Reject, RejectReason
from ingest.sparkplug import Outgoing, SparkplugHost, SparkplugStats
from ingest.validate import SIMULATED_TIME, IntakeLimits, Validator

__all__ = [
    "APPLICATION_URI",
    "SIMULATED_TIME",
    "Batch",
    "BrokerAddress",
    "BrokerUrlError",
    "DeadLetterRecorder",
    "DeadLetterStore",
    "DeadLetterStoreError",
    "DeadLetters",
    "FanIn",
    "Historian",
    "IngestError",
    "IntakeLimits",
    "JsonDecoder",
    "MqttSource",
    "OpcUaError",
    "OpcUaSource",
    "Outgoing",
    "Reject",
    "RejectReason",
    "RejectTotal",
    "Source",
    "SourceStats",
    "SparkplugHost",
    "SparkplugStats",
    "StoredReject",
    "Validator",
    "finding_lines",
    "quality_of",
    "reading_lines",
    "write_self_signed",
]
