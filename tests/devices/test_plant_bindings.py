"""Plant-file bindings beyond the default JSON topic: payload formats, OPC UA, Sparkplug B."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices import (
    DeadbandType,
    PayloadFormat,
    Plant,
    PlantFileError,
    SecurityMode,
    SparkplugAddress,
    TimestampUnit,
    load_plant,
    parse_path,
)

HEAD = """\
site: {id: acme}
"""
LINE = """\
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
"""


def test_field_paths() -> None:
    assert parse_path("a") == ("a",)
    assert parse_path("data.pumps[2].vib") == ("data", "pumps", 2, "vib")
    assert parse_path("[0].x") == (0, "x")
    for bad in ("", "a..b", "a[x]", "a.[1"):
        with pytest.raises(ValueError, match="path"):
            parse_path(bad)


def test_payload_formats_per_equipment(tmp_path: Path) -> None:
    plant = load_plant_text(
        tmp_path,
        HEAD
        + "mqtt: {timestamp_unit: ms}\n"
        + LINE
        + """\
          - {id: P-1, type: centrifugal_pump, team: m, mqtt: {format: value}}
          - id: P-2
            type: centrifugal_pump
            team: m
            mqtt: {format: paths, topic: "legacy/{equipment}", timestamp_field: meta.time}
            signals:
              flow: {mqtt: {field: "data.q[0]"}}
""",
    )
    p1 = plant.equipment["P-1"].signals["flow"]
    assert (p1.topic, p1.field) == ("acme/utilities/cooling/P-1/flow", "value")
    fmt = plant.topic_format("acme/utilities/cooling/P-1/flow")
    assert (fmt.format, fmt.timestamp_path, fmt.timestamp_unit) == (
        PayloadFormat.VALUE,
        ("ts",),
        TimestampUnit.MS,
    )
    paths = dict(plant.field_paths("legacy/P-2"))
    assert paths[("data", "q", 0)].signal == "flow"
    assert paths[("vibration",)].equipment_id == "P-2"
    assert plant.topic_format("legacy/P-2").timestamp_path == ("meta", "time")
    assert plant.topic_format("acme/utilities/cooling/P-9/telemetry").format is (
        PayloadFormat.VALUES
    )
    assert "acme/utilities/cooling/P-1/flow" in plant.subscriptions()


def load_plant_text(tmp_path: Path, text: str) -> Plant:
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    return load_plant(path)


OPCUA = """\
opcua:
  servers:
    plc-1:
      url: opc.tcp://127.0.0.1:4840
      security_policy: Basic256Sha256
      security_mode: SignAndEncrypt
      certificate: certs/client.der
      private_key: /etc/forewarn/client.pem
      username: forewarn
      password_env: PLC1_PASSWORD
      namespace: urn:acme:plc
      publishing_interval: 500ms
      browse_path: "0:Objects/{ns}:{line}/{ns}:{equipment}/{ns}:{signal}"
      deadband: {type: percent, value: 1}
"""


def test_opcua_bindings_from_server_equipment_and_signal(tmp_path: Path) -> None:
    plant = load_plant_text(
        tmp_path,
        HEAD
        + OPCUA
        + LINE
        + """\
          - id: P-1
            type: centrifugal_pump
            team: m
            opcua: {server: plc-1}
            signals:
              flow:
                opcua: {node: "ns={ns};s=P1.Flow", sampling_interval: 0, queue_size: 5,
                        deadband: {type: absolute, value: 0.5}}
          - {id: P-2, type: centrifugal_pump, team: m}
""",
    )
    server = plant.opcua_servers["plc-1"]
    assert server.security_mode is SecurityMode.SIGN_AND_ENCRYPT
    assert server.certificate == str(tmp_path / "certs/client.der")
    assert server.private_key == "/etc/forewarn/client.pem"
    assert server.publishing_interval == 0.5
    signals = plant.equipment["P-1"].signals
    vibration = signals["vibration"].opcua
    assert vibration is not None
    assert vibration.browse_path == "0:Objects/{ns}:cooling/{ns}:P-1/{ns}:vibration"
    assert (vibration.node_id, vibration.sampling_interval, vibration.queue_size) == (None, 1.0, 10)
    assert vibration.deadband is not None
    assert vibration.deadband.type is DeadbandType.PERCENT
    flow = signals["flow"].opcua
    assert flow is not None
    assert (flow.node_id, flow.browse_path) == ("ns={ns};s=P1.Flow", None)
    assert (flow.sampling_interval, flow.queue_size) == (0.0, 5)
    assert flow.deadband is not None
    assert flow.deadband.value == 0.5
    assert plant.equipment["P-2"].signals["flow"].opcua is None
    assert len(plant.opcua_signals("plc-1")) == 5


@pytest.mark.parametrize(
    ("server", "equipment", "message"),
    [
        (
            "{url: opc.tcp://h:4840, anonymous: true}",
            "opcua: {server: plc-9}",
            "unknown OPC UA server 'plc-9'; servers: plc-1",
        ),
        (
            "{url: opc.tcp://h:4840, anonymous: true}",
            "opcua: {server: plc-1}",
            "has no OPC UA 'node' or 'browse_path'",
        ),
        ("{url: opc.tcp://h:4840}", "type: centrifugal_pump", "set 'anonymous: true'"),
        (
            "{url: opc.tcp://h:4840, anonymous: true, security_policy: Basic256Sha256}",
            "type: centrifugal_pump",
            "go together",
        ),
        (
            "{url: opc.tcp://h, anonymous: true, security_policy: Basic256Sha256, "
            "security_mode: Sign}",
            "type: centrifugal_pump",
            "needs 'certificate' and 'private_key'",
        ),
        ("{url: http://h, anonymous: true}", "type: centrifugal_pump", "opc"),
        (
            "{url: opc.tcp://h, anonymous: true, node: '{plant}.{signal}'}",
            "type: centrifugal_pump",
            "unknown placeholder",
        ),
    ],
)
def test_opcua_mistakes_are_located(
    tmp_path: Path, server: str, equipment: str, message: str
) -> None:
    text = (
        HEAD
        + f"opcua:\n  servers:\n    plc-1: {server}\n"
        + LINE
        + f"          - id: P-1\n            type: centrifugal_pump\n            team: m\n"
        f"            {equipment}\n"
    )
    with pytest.raises(PlantFileError, match=r"line \d+: ") as raised:
        load_plant_text(tmp_path, text)
    assert message in str(raised.value)


def test_sparkplug_addresses(tmp_path: Path) -> None:
    plant = load_plant_text(
        tmp_path,
        HEAD
        + LINE
        + """\
          - id: P-1
            type: centrifugal_pump
            team: m
            signals: {flow: {sparkplug: {metric: Pump/Flow}}}
          - {id: P-2, type: centrifugal_pump, team: m, sparkplug: {edge_node: gw-7, device: ""}}
""",
    )
    p1 = plant.equipment["P-1"]
    assert p1.sparkplug == SparkplugAddress("acme", "utilities-cooling", "P-1")
    metrics = plant.sparkplug_metrics(SparkplugAddress("acme", "utilities-cooling", "P-1"))
    assert metrics is not None
    assert metrics["Pump/Flow"].signal == "flow"
    assert metrics["vibration"].signal == "vibration"
    node_metrics = plant.sparkplug_metrics(SparkplugAddress("acme", "gw-7", None))
    assert node_metrics is not None
    assert node_metrics["flow"].equipment_id == "P-2"
    assert plant.sparkplug_groups == {"acme"}


def test_sparkplug_ids_must_be_valid(tmp_path: Path) -> None:
    text = HEAD + LINE + "          - {id: P-1, type: centrifugal_pump, team: m, "
    text += "sparkplug: {group: 'a/b'}}\n"
    with pytest.raises(PlantFileError, match="group 'a/b' must not"):
        load_plant_text(tmp_path, text)


def test_signals_sharing_a_topic_must_share_its_format(tmp_path: Path) -> None:
    text = HEAD + LINE
    text += "          - {id: P-1, type: centrifugal_pump, team: m, mqtt: {topic: shared}}\n"
    text += "          - {id: P-2, type: centrifugal_pump, team: m, "
    text += "mqtt: {topic: shared, format: paths}}\n"
    with pytest.raises(PlantFileError, match="another payload format"):
        load_plant_text(tmp_path, text)
