"""Findings to record, and a writer process for the concurrency tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from devices import (
    Equipment,
    Finding,
    FindingKind,
    Plant,
    Point,
    Severity,
    load_plant,
    plant_from_dict,
)
from tests.conftest import DEMO_PLANT
from ticketing import Evidence, Priority, Recorded, Status, WorkOrderStore, WorkOrderType

T0 = 1_764_000_000.0
"""A source time (2025-11-24 16:00 UTC)."""


def finding(
    equipment_id: str = "P-103",
    signal: str = "vibration",
    *,
    kind: FindingKind = FindingKind.DRIFT,
    severity: Severity = Severity.WARNING,
    ts: float = T0,
    active: bool = True,
    time_to_limit: float | None = None,
    score: float = 0.6,
    summary: str | None = None,
    evidence: Mapping[str, tuple[Point, ...]] | None = None,
) -> Finding:
    return Finding(
        equipment_id=equipment_id,
        signals=(signal,),
        kind=kind,
        severity=severity,
        score=score,
        ts=ts,
        detector="ewma_drift" if kind is FindingKind.DRIFT else kind.value,
        summary=summary or f"{signal} {kind.value} on {equipment_id}",
        active=active,
        time_to_limit=time_to_limit,
        evidence=evidence if evidence is not None else {signal: ((ts - 1.0, 4.0), (ts, 4.2))},
    )


def record(store: WorkOrderStore, finding: Finding, equipment: Equipment) -> Recorded:
    """Record an active finding (or one that clears an existing order): never None."""
    recorded = store.orders.record(finding, equipment)
    assert recorded is not None, f"recording {finding} did nothing"
    return recorded


def order_row(
    equipment_id: str = "P-103", mode: str = "VIB", status: Status = Status.OPEN
) -> dict[str, Any]:
    """Column values of a work order written straight into the table, as another writer would."""
    seen = datetime.fromtimestamp(T0, UTC)
    return {
        "equipment_id": equipment_id,
        "equipment_path": f"demo/treatment/line-1/{equipment_id}",
        "equipment_type": "centrifugal_pump",
        "team": "mechanical",
        "failure_mode_code": mode,
        "failure_mode_name": mode,
        "mechanism": "",
        "type": WorkOrderType.PREDICTIVE,
        "priority": Priority.MEDIUM,
        "severity": Severity.WARNING,
        "status": status,
        "title": f"{mode} on {equipment_id}",
        "instructions": "",
        "evidence": Evidence.of(finding(equipment_id)).to_json(),
        "finding_count": 1,
        "first_seen": seen,
        "last_seen": seen,
        "condition_active": True,
        "created_at": seen,
        "updated_at": seen,
        "resolution_note": "",
    }


def record_in_process(
    url: str, plant_file: str, writer: int, count: int, barrier: Any, results: Any
) -> None:
    """Open a store of this process's own and record `count` findings on P-103's bearing once
    every writer is ready; put (writer, [(number, created), ...]) on `results`."""
    equipment = load_plant(plant_file).equipment["P-103"]
    barrier.wait(timeout=60)
    outcomes = []
    with WorkOrderStore(url) as store:
        for k in range(count):
            recorded = store.orders.record(finding(ts=T0 + writer * 1000 + k), equipment)
            assert recorded is not None
            outcomes.append((recorded.order.number, recorded.created))
    results.put((writer, outcomes))


def plant_notifying(base_url: str, **extra: Any) -> Plant:
    """The demo plant whose people and team channels are told at `base_url`/<id>, plus `extra`
    top-level sections (e.g. actions)."""
    data = yaml.safe_load(DEMO_PLANT.read_text())
    org = data["organisation"]
    for person in org["people"]:
        person["notify"] = f"{base_url}/people/{person['id']}"
    for team in org["teams"]:
        team["notify"] = f"{base_url}/teams/{team['id']}"
    data.update(extra)
    return plant_from_dict(data, source="test plant")


class Clock:
    """A clock the test moves: the store's idea of now (UTC)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
