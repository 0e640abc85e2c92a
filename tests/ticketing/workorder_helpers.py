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
from ticketing import (
    Evidence,
    Outcome,
    Priority,
    Recorded,
    Status,
    WorkOrderStore,
    WorkOrderType,
)

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


def seed_two_weeks(store: WorkOrderStore, plant: Plant, clock: Clock) -> dict[str, str]:
    """Orders over two weeks from the clock's start, on the store that reads that clock:

    - week 0: A (P-101, urgent, 6 h to the alarm limit) acknowledged after 10 min, started at
      20, done at 80, closed at 120 min as confirmed; B (P-103, medium, anomaly) acknowledged
      after 30 min and closed at 60 as a false alarm.
    - week 1: C (P-104 flow, medium) open; D (P-201, urgent, 2 h to the limit) acknowledged after
      20 min;
      E (P-105) cancelled.

    So: opened 2 then 3, closed 2 then 0; MTTA 20 min over 3; MTTR 1.5 h over 2; active now C
    (mechanical, medium) and D (rotating-equipment, urgent); one false alarm of two judged; a
    lead time of 4 h on average, 2 h at least, over the 2 of 5 predictive orders forecasting.
    Returns the numbers by letter."""
    pumps = plant.equipment
    alarm = Severity.ALARM

    def now() -> float:  # findings on the store's clock, as the demo's simulation does
        return clock.now.timestamp()

    a_found = finding("P-101", severity=alarm, ts=now(), time_to_limit=6 * 3600)
    a = record(store, a_found, pumps["P-101"]).order.number
    clock.advance(600)
    store.orders.acknowledge(a, by="alice")
    clock.advance(600)
    store.orders.start(a, by="alice")
    clock.advance(3600)
    store.orders.done(a, by="alice")
    clock.advance(2400)
    store.orders.close_order(a, by="pat", outcome=Outcome.CONFIRMED)
    b = record(store, finding("P-103", kind=FindingKind.ANOMALY, ts=now()), pumps["P-103"])
    clock.advance(1800)
    store.orders.acknowledge(b.order.number, by="bruno")
    clock.advance(1800)
    store.orders.close_order(b.order.number, by="pat", outcome=Outcome.FALSE_ALARM)
    clock.advance(7 * 86400 - 3 * 3600)
    c = record(store, finding("P-104", "flow", ts=now()), pumps["P-104"]).order.number
    d_found = finding("P-201", severity=alarm, ts=now() + 1, time_to_limit=2 * 3600)
    d = record(store, d_found, pumps["P-201"]).order.number
    clock.advance(1200)
    store.orders.acknowledge(d, by="erik")
    e = record(store, finding("P-105", ts=now()), pumps["P-105"]).order.number
    store.orders.cancel(e, by="pat", reason="duplicate of a paper ticket")
    clock.advance(60)
    return {"A": a, "B": b.order.number, "C": c, "D": d, "E": e}
