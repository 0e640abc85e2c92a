"""Sparkplug B, shared by the edge nodes (simulators) and the host application (ingest).

`encode_payload` / `decode_payload` turn `Payload` records into the protobuf bytes of the
Sparkplug 3.0 specification; `Topic` parses and builds `spBv1.0/...` topics.
"""

from devices.errors import SparkplugError
from devices.sparkplug.codec import (
    DataType,
    Metric,
    MetricValue,
    Payload,
    datatype_for,
    decode_payload,
    encode_payload,
)
from devices.sparkplug.topics import (
    BDSEQ,
    NAMESPACE,
    REBIRTH,
    MessageType,
    Topic,
    decode_state,
    encode_state,
    state_topic,
)

__all__ = [
    "BDSEQ",
    "NAMESPACE",
    "REBIRTH",
    "DataType",
    "MessageType",
    "Metric",
    "MetricValue",
    "Payload",
    "SparkplugError",
    "Topic",
    "datatype_for",
    "decode_payload",
    "decode_state",
    "encode_payload",
    "encode_state",
    "state_topic",
]
