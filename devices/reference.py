"""The plant file's JSON Schema (for editors) and its reference page, both generated from the
pydantic models so they cannot drift from what the loader accepts."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from devices.schema import PlantSpec

SCHEMA_ID = "urn:forewarn:plant-file"
SCHEMA_FILE = "plant.schema.json"
REFERENCE_FILE = "plant-file.md"

EXAMPLES: dict[str, str] = {
    "ActionSpec.failure_mode": "VIB",
    "ActionSpec.equipment_type": "centrifugal_pump",
    "AreaSpec.id": "treatment",
    "AreaSpec.name": "Water treatment",
    "Deadband.value": "0.05",
    "EquipmentOpcUa.server": "plc1",
    "EquipmentOpcUa.node": "'ns={ns};s={equipment}.{signal}'",
    "EquipmentOpcUa.browse_path": "'0:Objects/{ns}:{line}/{ns}:{equipment}/{ns}:{signal}'",
    "EquipmentSparkplug.group": "Plant1",
    "EquipmentSparkplug.edge_node": "Line1-PLC",
    "EquipmentSparkplug.device": "Pump101 (empty: the edge node's own metrics)",
    "EquipmentSpec.id": "P-101",
    "EquipmentSpec.name": "Raw water pump 1",
    "EquipmentSpec.type": "centrifugal_pump",
    "EquipmentSpec.team": "mechanical",
    "EquipmentSpec.regime_signal": "motor_current",
    "EquipmentTypeSpec.description": "Positive displacement pump",
    "EquipmentTypeSpec.regime_signal": "speed",
    "EscalationLevelSpec.name": "team lead",
    "EscalationLevelSpec.contact": "team_lead",
    "FailureModeSpec.code": "VIB",
    "FailureModeSpec.name": "Vibration",
    "FailureModeSpec.mechanism": "Bearing wear",
    "Limits.warn_high": "4.5",
    "Limits.alarm_high": "7.1",
    "Limits.warn_low": "20",
    "Limits.alarm_low": "10",
    "Limits.deadband": "0.2",
    "LineSpec.id": "line-1",
    "LineSpec.name": "Line 1",
    "MqttActionSpec.topic": "'{site}/{area}/{line}/{equipment}/cmd'",
    "MqttBinding.topic": "legacy/P101/flow",
    "MqttBinding.field": "q (or data.pump[0].flow with the paths format)",
    "OpcUaBinding.server": "plc1",
    "OpcUaBinding.node": "'ns=2;s=P101.Flow'",
    "OpcUaBinding.browse_path": "'0:Objects/2:P101/2:Flow'",
    "OpcUaBinding.sampling_interval": "500ms",
    "OpcUaBinding.queue_size": "10",
    "OpcUaServerSpec.url": "opc.tcp://plc1.example:4840",
    "OpcUaServerSpec.certificate": "forewarn-client.der",
    "OpcUaServerSpec.private_key": "forewarn-client.pem",
    "OpcUaServerSpec.server_certificate": "plc1.der",
    "OpcUaServerSpec.username": "forewarn",
    "OpcUaServerSpec.password_env": "PLC1_PASSWORD",
    "OpcUaServerSpec.namespace": "urn:example:plc1",
    "OpcUaServerSpec.poll_interval": "5s",
    "OpcUaServerSpec.node": "'ns={ns};s={equipment}.{signal}'",
    "OpcUaServerSpec.browse_path": "'0:Objects/{ns}:{equipment}/{ns}:{signal}'",
    "OpcUaServerSpec.sampling_interval": "1s",
    "PayloadSpec.topic": "'plant/{line}/{equipment}/json'",
    "PayloadSpec.format": "paths",
    "PayloadSpec.timestamp_field": "meta.time",
    "PayloadSpec.timestamp_unit": "ms",
    "PersonSpec.id": "alice",
    "PersonSpec.name": "Alice Martin",
    "PersonSpec.team": "mechanical",
    "PersonSpec.notify": "https://pager.example/alice",
    "PhysicalRange.min": "0",
    "PhysicalRange.max": "400",
    "ShiftSpec.start": "'06:00'",
    "ShiftSpec.end": "'14:00'",
    "SignalSpec.unit": "mm/s",
    "SignalSpec.description": "Drive-end bearing vibration (RMS velocity)",
    "SiteSpec.id": "acme",
    "SiteSpec.name": "ACME water works",
    "SlaSpec.acknowledge": "15m",
    "SlaSpec.start": "1h",
    "SlaSpec.due": "1d",
    "SparkplugBinding.metric": "Pump/Vibration",
    "TeamSpec.id": "mechanical",
    "TeamSpec.name": "Mechanical maintenance",
    "TeamSpec.lead": "alice",
    "TeamSpec.notify": "https://chat.example/hooks/mechanical",
    "WebhookActionSpec.url": "https://cmms.example/hooks/forewarn",
    "DetectorSpec.name": "zscore",
}
"""An example value of each field without a telling default, as written in YAML."""

EXAMPLE_PLANT = """\
# yaml-language-server: $schema=plant.schema.json
site: {id: acme, name: ACME water works}
opcua:
  servers:
    plc1: {url: "opc.tcp://plc1.example:4840", anonymous: true, node: "ns=2;s={equipment}.{signal}"}
areas:
  - id: treatment
    lines:
      - id: line-1
        equipment:
          - id: P-101
            type: centrifugal_pump
            team: mechanical
            criticality: high
            opcua: {server: plc1}
            signals:
              discharge_pressure: null              # this pump has no pressure sensor
              vibration: {limits: {warn_high: 5.0}}  # one limit changed, the rest from the type
              seal_leak: {unit: l/h, sample_period: 10s, limits: {alarm_high: 2}}
"""


def plant_json_schema() -> dict[str, Any]:
    """The JSON Schema of a plant file (draft 2020-12)."""
    schema = PlantSpec.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "forewarn plant file",
        "description": "Site, areas, lines and equipment with their signals, where each signal's "
        "values come from (MQTT JSON, Sparkplug B, OPC UA), limits, detectors and organisation.",
    }


def schema_text() -> str:
    return json.dumps(plant_json_schema(), indent=2, sort_keys=False) + "\n"


def reference_markdown() -> str:
    """docs/plant-file.md: every section of the plant file, each field's type, default, example."""
    schema = plant_json_schema()
    defs: dict[str, Any] = schema["$defs"]
    out = [
        "# Plant file reference",
        "",
        "<!-- generated by `forewarn plant schema --write-docs docs`; do not edit by hand -->",
        "",
        "The plant file (YAML) describes the site, its areas, lines and equipment, each",
        "equipment's signals, where their values come from, their limits and detectors, and who",
        "maintains what.",
        "`forewarn plant check FILE` validates it and prints what each signal is bound to.",
        "",
        "Editors with the YAML language server (VS Code's YAML extension, for instance) complete",
        "and check it against its JSON Schema: print it with `forewarn plant schema > "
        f"{SCHEMA_FILE}` (it is also in the repository as `docs/{SCHEMA_FILE}`) and start the file",
        f"with `# yaml-language-server: $schema={SCHEMA_FILE}` (a path relative to the plant file,",
        "or a URL).",
        "",
        "Durations may be written in seconds or with a unit: `500ms`, `10s`, `5m`, `1h`, `1d`.",
        "Templates may use `{site}`, `{area}`, `{line}`, `{equipment}`, `{signal}` (and `{ns}`,",
        "the index of the OPC UA server's `namespace`, in node ids and browse paths).",
        "",
        "A small complete file:",
        "",
        "```yaml",
        EXAMPLE_PLANT.rstrip(),
        "```",
        "",
    ]
    sections = _sections(schema, defs)
    for name, path in sections.items():
        definition = defs[name] if name else schema
        out += _section(name or "PlantSpec", path, definition, _Types(defs, sections))
    return "\n".join(out).rstrip() + "\n"


def _sections(root: dict[str, Any], defs: dict[str, Any]) -> dict[str, str]:
    """(definition name, where it sits in the file), breadth first from the top level."""
    seen: dict[str, str] = {"": "(top level)"}
    queue: deque[tuple[dict[str, Any], str]] = deque([(root, "")])
    while queue:
        definition, path = queue.popleft()
        for field, prop in definition.get("properties", {}).items():
            for ref, suffix in _refs(prop):
                if ref not in seen and "properties" in _object(defs[ref]):
                    seen[ref] = f"{path}.{field}{suffix}".lstrip(".")
                    queue.append((_object(defs[ref]), seen[ref]))
    return seen


def _object(definition: dict[str, Any]) -> dict[str, Any]:
    """The object schema inside a definition that also accepts a short form (a bare name)."""
    for option in definition.get("anyOf", []):
        if "properties" in option:
            return dict(option)
    return definition


def _refs(prop: dict[str, Any], suffix: str = "") -> list[tuple[str, str]]:
    if "$ref" in prop:
        return [(prop["$ref"].rsplit("/", 1)[1], suffix)]
    found = []
    for option in prop.get("anyOf", []):
        found += _refs(option, suffix)
    if prop.get("type") == "array" and "items" in prop:
        found += _refs(prop["items"], suffix + "[]")
    values = _values(prop)
    if values is not None:
        found += _refs(values, suffix + ".<name>")
    return found


def _values(prop: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of a mapping's values (its keys are names)."""
    if isinstance(prop.get("additionalProperties"), dict):
        return dict(prop["additionalProperties"])
    patterns = list(prop.get("patternProperties", {}).values())
    return dict(patterns[0]) if patterns else None


def _section(name: str, path: str, definition: dict[str, Any], types: _Types) -> list[str]:
    definition = _object(definition)
    title = path if name == "PlantSpec" else f"`{path}`"
    lines = [f"## {title}", ""]
    if definition.get("description") and name != "PlantSpec":
        lines += [" ".join(definition["description"].split()), ""]
    lines += ["| field | type | default | example | description |", "|---|---|---|---|---|"]
    required = set(definition.get("required", []))
    for field, prop in definition["properties"].items():
        if field in required:
            default = "required"
        elif types.is_object(prop):
            default = "see its section" if prop.get("default") is not None else "—"
        else:
            default = _default(prop.get("default"))
        example = EXAMPLES.get(f"{name}.{field}", "")
        description = " ".join(prop.get("description", "").split())
        lines.append(
            f"| `{field}` | {_cell(types.of(prop))} | {_cell(default)} | {_cell(example)} "
            f"| {_cell(description)} |"
        )
    return [*lines, ""]


class _Types:
    """How a field's type reads: enums spelled out, objects named by their place in the file."""

    def __init__(self, defs: dict[str, Any], sections: dict[str, str]) -> None:
        self._defs = defs
        self._sections = sections

    def is_object(self, prop: dict[str, Any]) -> bool:
        options = [prop, *prop.get("anyOf", [])]
        return any("$ref" in o and o["$ref"].rsplit("/", 1)[1] in self._sections for o in options)

    def of(self, prop: dict[str, Any]) -> str:
        if "$ref" in prop:
            ref = prop["$ref"].rsplit("/", 1)[1]
            if ref in self._sections:
                return f"object (`{self._sections[ref]}`)"
            return self.of(self._defs[ref])
        if "enum" in prop:
            return " / ".join(f"`{v}`" for v in prop["enum"])
        if "anyOf" in prop:
            options = [o for o in prop["anyOf"] if o.get("type") != "null"]
            kinds = {o.get("type") for o in options}
            if "pattern" in str(options) and kinds == {"number", "string"}:
                return "duration"
            return " or ".join(dict.fromkeys(self.of(o) for o in options))
        kind = prop.get("type")
        if kind == "array":
            return f"list of {self.of(prop.get('items', {}))}"
        if kind == "object":
            values = _values(prop)
            return "mapping" if values is None else f"mapping of name to {self.of(values)}"
        if kind == "string" and prop.get("format") == "time":
            return "time (HH:MM)"
        return str(kind or "any")


def _default(value: Any) -> str:
    if value is None or value in ({}, [], ""):
        return "—" if value is None else f"`{json.dumps(value)}`"
    if isinstance(value, dict):
        shown = {k: v for k, v in value.items() if v not in (None, {}, [])}
        return f"`{json.dumps(shown)}`" if shown else "—"
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
