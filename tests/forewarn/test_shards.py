"""Static sharding (forewarn.shards): rendezvous hashing that every process computes alike, spreads
equipment evenly and moves little when a shard is added; a shard's plant and what its sources
subscribe to; the settings, `forewarn run` and `forewarn plant check` options."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devices import Plant, load_plant
from devices.plant import topic_matches
from forewarn.cli import app
from forewarn.errors import ForewarnError
from forewarn.service import owned_part, worker_identity
from forewarn.settings import Settings, load_settings
from forewarn.shards import assignment, shard_of, shard_plant, unit_keys
from ingest.sparkplug import SparkplugHost
from tests.conftest import DEMO_PLANT

IDS = [f"EQ-{i:05d}" for i in range(10_000)]
ROOT = Path(__file__).resolve().parents[2]


def independent_shard(key: str, shards: int) -> int:
    """The definition of the hash, written out again: the shard whose BLAKE2b-64 of
    "{shard}:{key}" is the largest big-endian integer."""
    scores = [
        int.from_bytes(hashlib.blake2b(f"{s}:{key}".encode(), digest_size=8).digest(), "big")
        for s in range(shards)
    ]
    return scores.index(max(scores))


def test_shard_of_follows_the_hash_definition() -> None:
    for shards in (1, 2, 3, 7):
        assert [shard_of(k, shards) for k in IDS[:500]] == [
            independent_shard(k, shards) for k in IDS[:500]
        ]
    with pytest.raises(ValueError, match="1 or more"):
        shard_of("P-1", 0)


def test_shard_of_is_the_same_in_every_process() -> None:
    """Python's own hash() is salted per process; the assignment must not be."""
    code = (
        "import json, sys; from forewarn.shards import shard_of; "
        "print(json.dumps([shard_of(k, 5) for k in sys.argv[1:]]))"
    )
    here = [shard_of(k, 5) for k in IDS[:200]]
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code, *IDS[:200]],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
        ).stdout
        assert json.loads(out) == here


@pytest.mark.parametrize("shards", [2, 3, 5, 8])
def test_equipment_spreads_evenly(shards: int) -> None:
    counts = Counter(shard_of(k, shards) for k in IDS)
    assert set(counts) == set(range(shards))
    expected = len(IDS) / shards
    # a binomial's standard deviation here is under 50; 10 % of the mean is > 2.5 of them
    assert all(abs(n - expected) <= 0.1 * expected for n in counts.values()), counts


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 7])
def test_adding_a_shard_moves_about_one_in_n_plus_one_only_to_the_new_shard(shards: int) -> None:
    before = {k: shard_of(k, shards) for k in IDS}
    after = {k: shard_of(k, shards + 1) for k in IDS}
    moved = [k for k in IDS if before[k] != after[k]]
    assert {after[k] for k in moved} <= {shards}
    assert all(after[k] == before[k] for k in IDS if after[k] != shards)
    share = len(moved) / len(IDS)
    assert abs(share - 1 / (shards + 1)) <= 0.1 / (shards + 1), share


PLANT = """\
site: {id: acme}
opcua:
  servers:
    plc: {url: "opc.tcp://127.0.0.1:4840", anonymous: true, node: "ns=2;s={equipment}.{signal}"}
    other: {url: "opc.tcp://127.0.0.1:4841", anonymous: true, node: "ns=2;s={equipment}.{signal}"}
areas:
  - id: utilities
    lines:
      - id: cooling
        equipment:
"""


def plant_of(tmp_path: Path, equipment: list[str]) -> Plant:
    path = tmp_path / "plant.yaml"
    path.write_text(PLANT + "".join(f"          - {line}\n" for line in equipment))
    return load_plant(path)


def pump(eq_id: str, extra: str = "") -> str:
    return f"{{id: {eq_id}, type: centrifugal_pump, team: m{extra}}}"


def test_a_subset_binds_only_its_equipment_and_subscribes_to_exact_topics(tmp_path: Path) -> None:
    plant = plant_of(
        tmp_path,
        [
            pump("P-1"),
            pump("P-2", ", opcua: {server: plc}"),
            pump("P-3", ", sparkplug: {edge_node: gw-9}"),
            pump("P-4", ", opcua: {server: other}"),
        ],
    )
    part = plant.subset(["P-2", "P-3"])
    assert list(part.equipment) == ["P-2", "P-3"]
    assert part.partial
    assert not plant.partial
    assert plant.subscriptions() == ["acme/utilities/cooling/+/telemetry"]
    assert part.subscriptions() == [
        "acme/utilities/cooling/P-2/telemetry",
        "acme/utilities/cooling/P-3/telemetry",
    ]
    assert part.routes("acme/utilities/cooling/P-1/telemetry") is None
    assert part.routes("acme/utilities/cooling/P-3/telemetry") is not None
    assert set(part.opcua_servers) == {"plc"}
    assert [route.equipment_id for route, _ in part.opcua_signals("plc")] == ["P-2"] * 5
    host = SparkplugHost(part, lambda reject: None, host_id="h")
    assert host.subscriptions() == [
        "spBv1.0/acme/+/gw-9/#",
        "spBv1.0/acme/+/utilities-cooling/#",
        "spBv1.0/STATE/h",
    ]
    # an edge node's own messages (one level shorter) match its filter too
    assert topic_matches("spBv1.0/acme/+/gw-9/#", "spBv1.0/acme/NBIRTH/gw-9")
    assert topic_matches("spBv1.0/acme/+/gw-9/#", "spBv1.0/acme/DDATA/gw-9/P-3")
    assert not topic_matches("spBv1.0/acme/+/gw-9/#", "spBv1.0/acme/NDATA/gw-90")
    assert SparkplugHost(plant, lambda reject: None, host_id="h").subscriptions() == [
        "spBv1.0/acme/#",
        "spBv1.0/STATE/h",
    ]
    # the plant's records are shared, not copied, and stay frozen
    assert part.equipment["P-2"] is plant.equipment["P-2"]
    with pytest.raises(AttributeError):
        part.equipment["P-2"].id = "X"  # type: ignore[misc]
    with pytest.raises(Exception, match="no equipment P-9"):
        plant.subset(["P-1", "P-9"])


def test_shards_partition_the_plant(tmp_path: Path) -> None:
    plant = plant_of(tmp_path, [pump(f"P-{i}") for i in range(40)])
    parts = [shard_plant(plant, i, 3) for i in range(3)]
    owned = [set(p.equipment) for p in parts]
    assert set.union(*owned) == set(plant.equipment)
    assert sum(len(o) for o in owned) == len(plant)
    assert all(owned)
    for i, part in enumerate(parts):
        assert all(shard_of(eq_id, 3) == i for eq_id in part.equipment)
        assert not set(part.subscriptions()) & set().union(
            *(p.subscriptions() for p in parts if p is not part)
        )
    assert shard_plant(plant, 0, 1) is plant
    with pytest.raises(ValueError, match=r"0\.\.2"):
        shard_plant(plant, 3, 3)


def test_a_sparkplug_edge_node_and_a_shared_topic_stay_on_one_shard(tmp_path: Path) -> None:
    equipment = [pump(f"P-{i}", f", sparkplug: {{edge_node: gw-{i % 4}}}") for i in range(24)]
    equipment += [
        pump("S-1", ', mqtt: {topic: "shared/bus"}, signals: {flow: {mqtt: {field: q1}}}'),
        pump("S-2", ', mqtt: {topic: "shared/bus"}, signals: {flow: {mqtt: {field: q2}}}'),
    ]
    path = tmp_path / "plant.yaml"
    path.write_text(
        PLANT.replace("site: {id: acme}", "site: {id: acme}\nsparkplug: {device: '{equipment}'}")
        + "".join(f"          - {line}\n" for line in equipment)
    )
    plant = load_plant(path)
    assert plant.sparkplug_configured
    keys = unit_keys(plant, edge_nodes=True)
    for shards in (2, 3, 5):
        owners = assignment(plant, shards, edge_nodes=True)
        by_node: dict[str, set[int]] = {}
        for eq in plant:
            assert eq.sparkplug is not None
            by_node.setdefault(eq.sparkplug.edge_node, set()).add(owners[eq.id])
        assert all(len(s) == 1 for s in by_node.values()), by_node
        assert owners["S-1"] == owners["S-2"]
    assert keys["P-5"] == "acme/gw-1"
    # each equipment on its own, without Sparkplug: its id
    assert unit_keys(plant, edge_nodes=False)["P-5"] == "P-5"
    assert unit_keys(plant, edge_nodes=False)["S-2"] == "S-1"


def test_settings_validate_the_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().shards, Settings().shard, Settings().claims_shards) == (1, None, False)
    assert Settings().shard_number == 0
    assert Settings(shards=3).claims_shards
    with pytest.raises(ForewarnError, match="has no shard yet"):
        _ = Settings(shards=3).shard_number
    monkeypatch.setenv("FOREWARN_SHARDS", "4")
    monkeypatch.setenv("FOREWARN_SHARD", "3")
    settings = load_settings()
    assert (settings.shards, settings.shard, settings.sharded) == (4, 3, True)
    with pytest.raises(ForewarnError, match="give a shard from 0 to 1"):
        load_settings(shards=2)
    with pytest.raises(ForewarnError, match="shards"):
        load_settings(shards=0, shard=0)


def test_a_sharded_worker_has_its_own_broker_identity_and_part(tmp_path: Path) -> None:
    settings = load_settings(shards=2, shard=1, sparkplug={"host_id": "fw"})
    worker = worker_identity(settings)
    assert worker.mqtt.client_id == "forewarn-shard-1-of-2"
    assert worker.sparkplug.host_id == "fw-shard-1-of-2"
    assert worker_identity(Settings()).mqtt.client_id == "forewarn"
    demo = load_plant(DEMO_PLANT)
    assert owned_part(demo, Settings()) is demo
    part = owned_part(demo, load_settings(shards=2, shard=1))
    assert set(part.equipment) == {eq for eq, s in assignment(demo, 2).items() if s == 1}
    lone = plant_of(tmp_path, [pump("P-1")])
    with pytest.raises(ForewarnError, match="owns no equipment"):
        owned_part(lone, load_settings(shards=2, shard=1 - shard_of("P-1", 2)))


runner = CliRunner()


def test_plant_check_says_what_each_shard_owns() -> None:
    result = runner.invoke(
        app, ["plant", "check", str(DEMO_PLANT), "--brief", "--shards", "2"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    demo = load_plant(DEMO_PLANT)
    owners = assignment(demo, 2)
    for shard in (0, 1):
        ids = [eq.id for eq in demo if owners[eq.id] == shard]
        line = f"shard {shard}: {len(ids)} equipment, {5 * len(ids)} signals: {', '.join(ids)}"
        assert line in result.output


def test_run_refuses_a_shard_out_of_range() -> None:
    result = runner.invoke(
        app, ["run", "--config", str(DEMO_PLANT), "--shards", "2", "--shard", "2"]
    )
    assert result.exit_code == 2
    assert "shard 2 is not one of the 2 shard(s)" in result.output
    assert "from 0 to 1" in result.output
