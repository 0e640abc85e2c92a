"""The plant file's JSON Schema and reference page: generated from the models, in the repository,
never stale, and the schema accepts what the loader accepts (so editors do not flag good files)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from devices import PlantFileError, plant_from_dict
from devices.reference import EXAMPLE_PLANT, plant_json_schema, reference_markdown, schema_text
from forewarn.cli import app
from tests.conftest import DEMO_PLANT

DOCS = Path(__file__).resolve().parents[2] / "docs"
REGENERATE = "forewarn plant schema --write-docs docs"
runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "generate"),
    [("plant.schema.json", schema_text), ("plant-file.md", reference_markdown)],
)
def test_the_committed_schema_and_reference_are_current(name: str, generate: object) -> None:
    assert callable(generate)
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == generate(), f"docs/{name} is stale: run `{REGENERATE}` and commit it"


def test_plant_schema_prints_the_json_schema_and_the_reference() -> None:
    result = runner.invoke(app, ["plant", "schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == plant_json_schema()
    result = runner.invoke(app, ["plant", "schema", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Plant file reference")


def test_the_reference_has_every_field_of_every_section() -> None:
    schema = plant_json_schema()
    text = reference_markdown()
    for definition in [schema, *schema["$defs"].values()]:
        for option in [definition, *definition.get("anyOf", [])]:
            for field in option.get("properties", {}):
                assert f"| `{field}` |" in text, field
    assert "# yaml-language-server: $schema=" in text


def test_fields_without_a_telling_default_have_an_example() -> None:
    text = reference_markdown()
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| `")]
    missing = [row[0] for row in rows if row[2] in ("required", "—") and not row[3].strip()]
    objects = [row[0] for row in rows if row[1].startswith(("object", "list of object"))]
    assert set(missing) <= set(objects), "give these fields an example in devices.reference"


def _valid(document: object) -> bool:
    try:
        jsonschema.validate(document, plant_json_schema())
    except jsonschema.ValidationError:
        return False
    return True


def test_the_schema_accepts_what_the_loader_accepts_and_refuses_typos() -> None:
    for text in (DEMO_PLANT.read_text(), EXAMPLE_PLANT):
        document = yaml.safe_load(text)
        plant_from_dict(document)
        assert _valid(document)
    document = yaml.safe_load(EXAMPLE_PLANT)
    document["opcua"]["servers"]["plc1"]["endpoint"] = document["opcua"]["servers"]["plc1"].pop(
        "url"
    )
    assert not _valid(document)
    with pytest.raises(PlantFileError, match="did you mean 'url'"):
        plant_from_dict(document)
