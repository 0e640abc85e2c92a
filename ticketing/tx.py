"""What every write shares: the session, the time it happens, and the plant it happens in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from devices import Organisation, Plant


@dataclass
class Tx:
    session: Session
    now: datetime
    organisation: Organisation
    plant: Plant | None = None
    touched: bool = False
    """Whether the transaction wrote an audit event or queued a delivery (listeners are told)."""
    queued: int = field(default=0)
    """Deliveries queued in the outbox by this transaction."""
