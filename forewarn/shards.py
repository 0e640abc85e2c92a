"""Static sharding of a plant over N workers: which worker owns which equipment.

Rendezvous (highest-random-weight) hashing: every shard scores every key with a stable hash
(BLAKE2b of the shard number and the key, never Python's salted `hash()`), and the key goes to the
shard scoring highest. Every worker computes the same assignment from the same plant file, with
no coordination; going from N to N+1 shards moves only the keys the new shard now wins (about
1/(N+1) of them), and only to it.

What is hashed is a *unit* of equipment that must be read by one worker:

- By default, each equipment on its own (its id).
- With Sparkplug B on (the settings give `sparkplug.host_id`, or the plant file names Sparkplug),
  every equipment of one edge node goes together: the key is `{group}/{edge_node}`. An edge node's
  sequence numbers run across all its messages (NBIRTH, NDATA, every DBIRTH/DDATA/DDEATH of its
  devices), its NBIRTH sets the alias table its devices' data relies on, and its NDEATH makes all
  its devices stale. A worker seeing only some devices of a node would count every other device's
  message as a sequence gap and ask the node for rebirths without end, and would never learn that
  its devices died with the node; sharding by device would force every worker to subscribe to the
  whole node anyway. So the edge node is the unit, and a worker subscribes to
  `spBv1.0/{group}/+/{edge_node}/#` of its nodes only.
- Equipment whose JSON signals share one MQTT topic go together too (the decoder sets aside a
  field no owned signal is bound to, so a shared topic must be read whole by one worker). Such a
  group is keyed by the smallest key of its members.

OPC UA needs no grouping: each worker opens its own session to a server and monitors only the
nodes of its equipment (a server none of its equipment is read from is not connected to).

A sharded worker subscribes to the exact topics of its equipment instead of the line wildcards,
so a device that is not in the plant file is seen by no worker (unsharded, it is counted and set
aside); `forewarn discover mqtt` finds such devices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from devices import Equipment, Plant


def weight(key: str, shard: int) -> int:
    """Shard `shard`'s score for `key`: the 8-byte BLAKE2b digest of the UTF-8 text
    "{shard}:{key}" (the shard in decimal), read as a big-endian integer."""
    digest = hashlib.blake2b(f"{shard}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(key: str, shards: int) -> int:
    """The shard in 0..shards-1 that owns `key` (an equipment id, or a unit's key)."""
    if shards < 1:
        raise ValueError(f"the number of shards must be 1 or more, not {shards}")
    # ties (a 64-bit collision) go to the lower shard number, so the result never depends on order
    return max(range(shards), key=lambda shard: (weight(key, shard), -shard))


def by_edge_node(plant: Plant, sparkplug: bool) -> bool:
    """Whether the plant shards by Sparkplug edge node: Sparkplug is read (see the module)."""
    return sparkplug or plant.sparkplug_configured


def unit_keys(plant: Plant, *, edge_nodes: bool) -> dict[str, str]:
    """Equipment id -> the key of the unit it is sharded with (see the module docstring)."""
    own = {eq.id: _own_key(eq, edge_nodes) for eq in plant}
    parent = {eq_id: eq_id for eq_id in own}

    def root(eq_id: str) -> str:
        while parent[eq_id] != eq_id:
            parent[eq_id] = parent[parent[eq_id]]
            eq_id = parent[eq_id]
        return eq_id

    def join(members: Iterable[str]) -> None:
        first, *rest = members
        for other in rest:
            a, b = root(first), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)

    for members in _sharing(plant, own).values():
        join(members)
    smallest: dict[str, str] = {}
    for eq_id, key in own.items():
        top = root(eq_id)
        smallest[top] = min(key, smallest.get(top, key))
    return {eq_id: smallest[root(eq_id)] for eq_id in own}


def assignment(plant: Plant, shards: int, *, edge_nodes: bool = False) -> dict[str, int]:
    """Equipment id -> the shard that owns it, for every equipment of the plant."""
    keys = unit_keys(plant, edge_nodes=edge_nodes)
    return {eq_id: shard_of(key, shards) for eq_id, key in keys.items()}


def shard_plant(plant: Plant, shard: int, shards: int, *, edge_nodes: bool = False) -> Plant:
    """The part of `plant` that shard `shard` of `shards` owns (the whole plant for one shard)."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of 0..{shards - 1}")
    if shards == 1:
        return plant
    owners = assignment(plant, shards, edge_nodes=edge_nodes)
    return plant.subset(eq_id for eq_id, owner in owners.items() if owner == shard)


def _own_key(eq: Equipment, edge_nodes: bool) -> str:
    if edge_nodes and eq.sparkplug is not None:
        return f"{eq.sparkplug.group}/{eq.sparkplug.edge_node}"
    return eq.id


def _sharing(plant: Plant, own: Mapping[str, str]) -> Mapping[tuple[str, str], list[str]]:
    """Groups of equipment that must share a shard: those of one own key (one edge node), and
    those on one JSON topic."""
    groups: dict[tuple[str, str], list[str]] = {}
    for eq in plant:
        groups.setdefault(("key", own[eq.id]), []).append(eq.id)
        for signal in eq.signals.values():
            if signal.opcua is None:
                members = groups.setdefault(("topic", signal.topic), [])
                if eq.id not in members:
                    members.append(eq.id)
    return groups
