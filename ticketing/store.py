"""The work-order store: its storage (the engine and the transactions) and the parts named for
what they hold, each in its own module:

- `orders` (`store_orders`): findings and reports in, work orders and their workflow out;
- `alarms` (`store_alarms`): condition episodes and equipment health;
- `planning` (`store_planning`): maintenance windows and shelves;
- `access` (`store_access`): API tokens, webhooks and the audit trail;
- `analytics` (`store_analytics`): MTTA, MTTR, backlog, failure modes, precision, gauges;
- `outbox` (`store_outbox`): deliveries to webhooks and automatic actions;
- `floor` (`store_floor`): problems reported at a machine, with photo and progress code.

Synchronous (the async pipeline and workers call it through `asyncio.to_thread`); every method is
one transaction on its own connection, so one store may be shared by threads, and several stores
(processes, workers on other machines) may share one database. The rules live in modules named
for them (`recording`, `workflow`, `escalation`, `outbox`, `suppression`, `access`,
`analytics`); the parts open the transactions and hand out frozen records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from devices import Organisation, Plant
from ticketing.recording import order_number
from ticketing.store_access import Access
from ticketing.store_alarms import Alarms
from ticketing.store_analytics import Analytics
from ticketing.store_base import EVENT_LOOKBACK, Storage
from ticketing.store_floor import Floor
from ticketing.store_orders import SORTS, Orders
from ticketing.store_outbox import Outbox
from ticketing.store_planning import Planning

__all__ = ["EVENT_LOOKBACK", "SORTS", "WorkOrderStore", "order_number"]


class WorkOrderStore(Storage):
    """Work orders in SQLite (a file) or PostgreSQL; the schema is migrated to head on open.

    `url` is a SQLAlchemy URL: `sqlite:///path/to/orders.db` or
    `postgresql+psycopg://user:password@host/database`. `plant` gives the organisation (teams,
    people, escalation, service levels, automatic actions) and the equipment people report on;
    `clock` returns the current time (UTC) and exists for tests of deadlines.
    """

    def __init__(
        self,
        url: str,
        *,
        plant: Plant | None = None,
        organisation: Organisation | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(url, plant=plant, organisation=organisation, clock=clock)
        self.orders = Orders(self)
        self.alarms = Alarms(self)
        self.planning = Planning(self)
        self.access = Access(self)
        self.analytics = Analytics(self)
        self.outbox = Outbox(self)
        self.floor = Floor(self)
