"""Several writers recording the same condition at once, each with a store (engine) of its own:
one active order comes out of it, holding every finding."""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update
from workorder_helpers import T0, finding, order_row, record, record_in_process

from devices import Plant
from tests.conftest import DEMO_PLANT
from ticketing import Recorded, Status, WorkOrderStore, order_number
from ticketing.database import create_engine_for
from ticketing.models import WorkOrderRow

WRITERS = 6
FINDINGS_EACH = 10


def _assert_one_order_holding(
    store: WorkOrderStore, findings: int, *, all_recorded: bool = True
) -> None:
    """One active order (and, when every finding went through the store, one active alarm and
    every finding in the history) holding all `findings`."""
    orders = store.orders.list(equipment_id="P-103")
    assert len(orders) == 1, orders
    [order] = orders
    assert order.status is Status.OPEN
    assert order.finding_count == findings
    if all_recorded:
        [alarm] = store.alarms.list(equipment_id="P-103")
        assert alarm.active
        assert alarm.finding_count == findings
        assert alarm.work_order == order.number
        assert len(store.orders.findings(order.number)) == findings


def test_threads_with_their_own_stores_open_one_order(database_url: str, demo_plant: Plant) -> None:
    pump = demo_plant.equipment["P-103"]
    barrier = threading.Barrier(WRITERS)

    def write(writer: int) -> list[Recorded]:
        barrier.wait(timeout=60)
        with WorkOrderStore(database_url) as store:  # opening races too: the schema migration
            results = []
            for k in range(FINDINGS_EACH):
                results.append(record(store, finding(ts=T0 + writer * 1000 + k), pump))
            return results

    with ThreadPoolExecutor(WRITERS) as pool:
        everything = [r for results in pool.map(write, range(WRITERS)) for r in results]

    assert sum(r.created for r in everything) == 1
    assert len({r.order.number for r in everything}) == 1
    with WorkOrderStore(database_url) as store:
        _assert_one_order_holding(store, WRITERS * FINDINGS_EACH)


def test_processes_sharing_a_sqlite_file_open_one_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    context = multiprocessing.get_context("spawn")
    processes = 3
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=record_in_process,
            args=(url, str(DEMO_PLANT), writer, FINDINGS_EACH, barrier, results),
        )
        for writer in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = []
    try:
        for _ in workers:
            outcomes.append(results.get(timeout=120))
    except queue.Empty:
        pytest.fail(f"a writer process did not report; exit codes {[w.exitcode for w in workers]}")
    finally:
        for worker in workers:
            worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * processes
    recorded = [outcome for _, per_writer in outcomes for outcome in per_writer]
    assert len(recorded) == processes * FINDINGS_EACH
    assert sum(created for _, created in recorded) == 1
    assert len({number for number, _ in recorded}) == 1
    with WorkOrderStore(url) as store:
        _assert_one_order_holding(store, processes * FINDINGS_EACH)


def test_a_writer_that_loses_the_race_updates_the_winner_s_order(
    store: WorkOrderStore,
    database_url: str,
    demo_plant: Plant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another writer has inserted the order but not committed: this writer finds no active order,
    tries to insert, and (PostgreSQL) waits on the unique index, then fails and updates the row
    the other committed; (SQLite) waits for the other's write lock, then finds and updates it."""
    caplog.set_level(logging.DEBUG, logger="ticketing.recording")
    pump = demo_plant.equipment["P-103"]
    other = create_engine_for(database_url)
    try:
        with other.connect() as connection:
            transaction = connection.begin()
            row_id = connection.execute(
                insert(WorkOrderRow).values(**order_row()).returning(WorkOrderRow.id)
            ).scalar_one()
            connection.execute(
                update(WorkOrderRow)
                .where(WorkOrderRow.id == row_id)
                .values(number=order_number(row_id))
            )
            outcome: list[Recorded] = []
            writer = threading.Thread(
                target=lambda: outcome.append(record(store, finding(ts=T0 + 60), pump))
            )
            writer.start()
            _wait_until_blocked(database_url, writer)
            transaction.commit()
        writer.join(timeout=60)
    finally:
        other.dispose()
    recorded = outcome[0]
    assert not recorded.created
    assert recorded.order.number == order_number(row_id)
    assert recorded.order.finding_count == 2
    _assert_one_order_holding(store, 2, all_recorded=False)
    if database_url.startswith("postgresql"):
        assert "another writer opened the VIB order of P-103 first" in caplog.text


def _wait_until_blocked(database_url: str, writer: threading.Thread) -> None:
    """Return once the writer waits on the other transaction (PostgreSQL shows it; SQLite's busy
    wait does not, so give it a moment to get there)."""
    if not database_url.startswith("postgresql"):
        time.sleep(0.5)
        return
    watcher = create_engine_for(database_url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and writer.is_alive():
            with watcher.connect() as connection:
                waiting = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO work_orders%'"
                    )
                )
            if waiting:
                return
            time.sleep(0.02)
        pytest.fail("the writer never waited on the other writer's uncommitted insert")
    finally:
        watcher.dispose()
