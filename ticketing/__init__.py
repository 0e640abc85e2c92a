"""Work orders: findings in, one active preventive work order per equipment and failure mode out,
kept in SQLite or PostgreSQL and served over a REST API (`ticketing.api`).

`ticketing` depends only on `devices`.
"""

from ticketing.base import Evidence, Recorded, WorkOrderType, WorkOrderView
from ticketing.errors import InvalidTransition, StorageError, TicketingError, WorkOrderNotFound
from ticketing.lifecycle import ACTIVE, TRANSITIONS, Status, advance, allowed_next
from ticketing.priority import Priority, priority_for
from ticketing.store import WorkOrderStore, order_number

__all__ = [
    "ACTIVE",
    "TRANSITIONS",
    "Evidence",
    "InvalidTransition",
    "Priority",
    "Recorded",
    "Status",
    "StorageError",
    "TicketingError",
    "WorkOrderNotFound",
    "WorkOrderStore",
    "WorkOrderType",
    "WorkOrderView",
    "advance",
    "allowed_next",
    "order_number",
    "priority_for",
]
