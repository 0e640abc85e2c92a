"""Counting the SQL statements a store sends: a `before_cursor_execute` listener on its engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from ticketing import WorkOrderStore


@contextmanager
def statements(store: WorkOrderStore) -> Iterator[list[str]]:
    """The statements `store` sends to its database inside the block, in order (BEGIN and COMMIT
    included where the driver sends them as statements: SQLite's `BEGIN IMMEDIATE`)."""
    sent: list[str] = []
    engine: Engine = store._engine

    def listen(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listen)
