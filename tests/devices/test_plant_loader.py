from __future__ import annotations

from pathlib import Path

import pytest

from devices import Finding, FindingKind, PlantFileError, Severity, load_plant, plant_from_dict
from tests.conftest import DEMO_PLANT

GOOD = """\
site: {id: acme}
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
          - {id: P-1, type: centrifugal_pump, criticality: high, team: mechanical}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plant.yaml"
    path.write_text(text)
    return path


def test_demo_plant_resolves_types_overrides_and_topics() -> None:
    plant = load_plant(DEMO_PLANT)
    assert len(plant) == 10
    assert {eq.line for eq in plant} == {"line-1", "line-2"}
    pump = plant.equipment["P-105"]
    assert pump.path == "demo/treatment/line-1/P-105"
    assert set(pump.signals) == {
        "vibration",
        "bearing_temp",
        "motor_current",
        "discharge_pressure",
        "flow",
    }
    # P-105 overrides one field of one limit; the others come from the type.
    assert pump.signals["vibration"].limits.warn_high == 5.0
    assert pump.signals["vibration"].limits.alarm_high == 7.1
    assert plant.equipment["P-101"].signals["vibration"].limits.warn_high == 4.5
    assert pump.signals["flow"].topic == "demo/treatment/line-1/P-105/telemetry"
    assert plant.subscriptions() == [
        "demo/treatment/line-1/+/telemetry",
        "demo/treatment/line-2/+/telemetry",
    ]
    routes = plant.routes("demo/treatment/line-2/P-203/telemetry")
    assert routes is not None
    assert routes["flow"].equipment_id == "P-203"


def test_signal_bound_to_its_own_topic_and_field(tmp_path: Path) -> None:
    text = GOOD.replace(
        "team: mechanical}",
        "team: m,\n             signals: {flow: {mqtt: {topic: legacy/flow/P1, field: q}}}}",
    )
    plant = load_plant(write(tmp_path, text))
    routes = plant.routes("legacy/flow/P1")
    assert routes is not None
    assert routes["q"].signal == "flow"
    assert "legacy/flow/P1" in plant.subscriptions()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("criticality: high", "criticality: urgent"),
            [
                "line 7:",
                "areas[0].lines[0].equipment[0].criticality",
                "'high', 'medium' or 'low'",
                "'urgent'",
            ],
        ),
        (
            GOOD.replace("team: mechanical", "tema: mechanical"),
            [
                "areas[0].lines[0].equipment[0].tema",
                "unknown field 'tema'; did you mean 'team'?",
            ],
        ),
        (
            GOOD.replace("centrifugal_pump", "centrifugal_pmp"),
            [
                "line 7:",
                "equipment[0].type",
                "unknown equipment type 'centrifugal_pmp'",
                "known types: centrifugal_pump",
            ],
        ),
        (
            GOOD + "          - {id: P-1, type: centrifugal_pump, team: m}\n",
            [
                "line 8:",
                "equipment[1].id",
                "'P-1' is already used at areas[0].lines[0].equipment[0]",
            ],
        ),
        (
            GOOD.replace(
                "team: mechanical}", "team: m, signals: {vibration: {limits: {warn_high: 9}}}}"
            ),
            [
                "equipment[0].signals.vibration.limits",
                "warn_high (9.0) must be below alarm_high (7.1)",
            ],
        ),
        (
            GOOD.replace("team: mechanical}", "team: m, signals: {flow: {sample_period: soon}}}"),
            ["signals.flow.sample_period", "'soon' is not a duration"],
        ),
        (GOOD.replace("id: P-1", "id: P 1"), ["equipment[0].id", "String should match pattern"]),
        (
            GOOD.replace("site: {id: acme}", "site: {id: acme}\nmqtt: {topic: '{site}/{machine}'}"),
            ["mqtt.topic", "unknown placeholder(s) ['machine']"],
        ),
        (
            GOOD.replace("team: mechanical}", "team: m, regime_signal: speed}"),
            ["equipment[0].regime_signal", "regime signal 'speed' is not a signal of 'P-1'"],
        ),
        (
            GOOD.replace(
                "team: mechanical}", "team: m, signals: {flow: {range: {min: 5, max: 0}}}}"
            ),
            ["signals.flow.range", "min (5.0) must be below max (0.0)"],
        ),
        (
            GOOD.replace("team: mechanical}", "team: m, detectors: [{name: zscore, warmup: 5}]}"),
            ["equipment[0].detectors[0].warmup", "unknown field"],
        ),
        ("site: {id: acme}\nareas: []\n", ["areas", "at least 1 item"]),
        ("site: [unclosed\n", ["not valid YAML", "line"]),
        ("- just\n- a list\n", ["must be a mapping"]),
    ],
)
def test_bad_plant_files_name_file_field_and_problem(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PlantFileError) as info:
        load_plant(path)
    message = str(info.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


def test_detectors_range_and_regime_resolve_signal_equipment_type_plant(tmp_path: Path) -> None:
    text = GOOD.replace(
        "site: {id: acme}",
        "site: {id: acme}\ndetectors: [limits, {name: zscore, params: {warmup: 50}}]",
    ).replace(
        "team: mechanical}",
        "team: m}\n"
        "          - id: P-2\n"
        "            type: centrifugal_pump\n"
        "            team: m\n"
        "            detectors: [relations]\n"
        "            signals:\n"
        "              flow:\n"
        "                range: {min: 0, max: 400}\n"
        "                detectors: [{name: spike, params: {window: 9}}]",
    )
    plant = load_plant(write(tmp_path, text))
    p1, p2 = plant.equipment["P-1"], plant.equipment["P-2"]
    assert p1.regime_signal == "motor_current"  # from the built-in type
    assert p1.detectors is not None
    assert [(d.name, dict(d.params)) for d in p1.detectors] == [
        ("limits", {}),
        ("zscore", {"warmup": 50}),
    ]
    assert p2.detectors is not None
    assert [d.name for d in p2.detectors] == ["relations"]
    flow = p2.signals["flow"]
    assert flow.physical_range == (0.0, 400.0)
    assert flow.detectors is not None
    assert flow.detectors[0].params == {"window": 9}
    assert p2.signals["vibration"].detectors is None
    assert p2.signals["vibration"].physical_range == (None, None)
    assert load_plant(write(tmp_path, GOOD)).equipment["P-1"].detectors is None


def test_missing_file_is_a_plant_file_error(tmp_path: Path) -> None:
    with pytest.raises(PlantFileError, match="cannot read the file"):
        load_plant(tmp_path / "nope.yaml")


def test_durations_accept_units() -> None:
    import yaml

    data = yaml.safe_load(GOOD)
    data["areas"][0]["lines"][0]["equipment"][0]["signals"] = {
        "flow": {"sample_period": "500ms"},
        "vibration": {"sample_period": "2m"},
    }
    pump = plant_from_dict(data).equipment["P-1"]
    assert pump.signals["flow"].sample_period == 0.5
    assert pump.signals["vibration"].sample_period == 120.0


def _finding(signal: str, kind: FindingKind) -> Finding:
    return Finding("P-101", (signal,), kind, Severity.WARNING, 0.6, 0.0, "test", "x")


@pytest.mark.parametrize(
    ("signal", "kind", "code"),
    [
        ("vibration", FindingKind.DRIFT, "VIB"),
        ("bearing_temp", FindingKind.LIMIT, "VIB"),
        ("flow", FindingKind.DRIFT, "PDE"),
        ("motor_current", FindingKind.ANOMALY, "PDE"),
        ("flow", FindingKind.SENSOR, "AIR"),
        ("seal_leak_sensor", FindingKind.DRIFT, "OTH"),
    ],
)
def test_findings_map_to_failure_modes(signal: str, kind: FindingKind, code: str) -> None:
    pump = load_plant(DEMO_PLANT).equipment["P-101"]
    mode = pump.failure_mode_for(_finding(signal, kind))
    assert mode.code == code
    assert mode.auto_resolve is (code == "AIR")


OPCUA = """\
site: {id: acme}
opcua:
  servers:
    plc: {url: "opc.tcp://127.0.0.1:4840", anonymous: true, node: "ns=2;s={equipment}.{signal}"}
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
          - id: P-1
            type: centrifugal_pump
            team: mechanical
            opcua: {server: plc}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{url:", "{endpoint:", ["line 4: opcua.servers.plc.endpoint", "did you mean 'url'?"]),
        (
            "opcua: {server: plc}",
            "signals: {flow: {opcua: {server: plc, node_id: 'ns=2;s=F'}}}",
            ["signals.flow.opcua.node_id", "did you mean 'node'?", "server, node, browse_path"],
        ),
        ("team: mechanical", "teem: mechanical", ["equipment[0].teem", "did you mean 'team'?"]),
        (
            "    plc: {url",
            "    - {name: plc, url",
            ["opcua.servers: servers is a mapping", "'servers: {plc: {url: opc.tcp://"],
        ),
    ],
)
def test_unknown_fields_suggest_the_right_one(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    text = OPCUA.replace(old, new, 1)
    assert text != OPCUA
    with pytest.raises(PlantFileError) as info:
        load_plant(write(tmp_path, text))
    message = str(info.value)
    for part in expected:
        assert part in message, message
    assert "required field is missing" not in message  # the misspelt 'url' is not reported twice


def test_signals_are_removed_with_null_or_enabled_false_and_added(tmp_path: Path) -> None:
    text = GOOD.replace(
        "team: mechanical}",
        "team: m, signals: {discharge_pressure: null, flow: {enabled: false},"
        " seal_leak: {unit: l/h, limits: {alarm_high: 2}}}}",
    )
    pump = load_plant(write(tmp_path, text)).equipment["P-1"]
    assert set(pump.signals) == {"vibration", "bearing_temp", "motor_current", "seal_leak"}
    assert pump.signals["seal_leak"].limits.alarm_high == 2


def test_removing_a_signal_the_type_lacks_names_the_type_signals(tmp_path: Path) -> None:
    text = GOOD.replace("team: mechanical}", "team: m, signals: {discharge_presure: null}}")
    with pytest.raises(PlantFileError) as info:
        load_plant(write(tmp_path, text))
    assert "signals.discharge_presure: cannot remove 'discharge_presure'" in str(info.value)
    assert "its signals: bearing_temp, discharge_pressure" in str(info.value)
