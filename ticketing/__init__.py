"""Work orders: findings in, one active work order per equipment and failure mode out, with
alarms, assignment, escalation, suppression, an audit trail and webhooks; kept in SQLite or
PostgreSQL and served over a REST API and a web page (`ticketing.api`).

`ticketing` depends only on `devices`.
"""

from ticketing.base import (
    SYSTEM,
    AlarmView,
    AuditEvent,
    Comment,
    DeliveryKind,
    DeliveryState,
    DeliveryView,
    Event,
    Evidence,
    FindingRecorder,
    FindingView,
    IssuedToken,
    Outcome,
    Principal,
    Recorded,
    Recurrence,
    Role,
    Shelf,
    TokenView,
    WebhookView,
    Window,
    WorkOrderType,
    WorkOrderView,
)
from ticketing.errors import (
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    StorageError,
    TicketingError,
    WorkOrderNotFound,
)
from ticketing.lifecycle import ACTIVE, TRANSITIONS, Status, advance, allowed_next
from ticketing.priority import Priority, priority_for
from ticketing.spool import FindingSpool, SpoolingRecorder, StoreStatus
from ticketing.store import WorkOrderStore, order_number
from ticketing.workers import Publish, Workers

__all__ = [
    "ACTIVE",
    "SYSTEM",
    "TRANSITIONS",
    "AlarmView",
    "AuditEvent",
    "Comment",
    "Conflict",
    "DeliveryKind",
    "DeliveryState",
    "DeliveryView",
    "Event",
    "Evidence",
    "FindingRecorder",
    "FindingSpool",
    "FindingView",
    "InvalidRequest",
    "InvalidTransition",
    "IssuedToken",
    "NotAllowed",
    "NotAuthenticated",
    "NotFound",
    "Outcome",
    "Principal",
    "Priority",
    "Publish",
    "Recorded",
    "Recurrence",
    "Role",
    "Shelf",
    "SpoolingRecorder",
    "Status",
    "StorageError",
    "StoreStatus",
    "TicketingError",
    "TokenView",
    "WebhookView",
    "Window",
    "WorkOrderNotFound",
    "WorkOrderStore",
    "WorkOrderType",
    "WorkOrderView",
    "Workers",
    "advance",
    "allowed_next",
    "order_number",
    "priority_for",
]
