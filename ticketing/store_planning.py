"""The planning part of the store: maintenance windows and shelves, which keep findings from
opening orders."""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta

from sqlalchemy import select

from devices import Plant
from ticketing import access, views
from ticketing.audit import record as audit_record
from ticketing.base import (
    Recurrence,
    Role,
    Shelf,
    Window,
)
from ticketing.errors import InvalidRequest, NotFound
from ticketing.models import (
    ShelfRow,
    WindowRow,
)
from ticketing.store_base import (
    MAX_SHELF,
    Actor,
    Storage,
    as_principal,
)
from ticketing.suppression import covers


class Planning:
    """Maintenance windows and shelves: what keeps findings from opening orders."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def add_window(
        self,
        target: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        by: Actor,
        recurrence: Recurrence = Recurrence.NONE,
        timezone: str | None = None,
        until: datetime | None = None,
    ) -> Window:
        """A maintenance window over `target`, an ISA-95 path (site, site/area, site/area/line,
        or site/area/line/equipment), once or recurring at the same local time."""
        principal = as_principal(by)
        access.require(principal, Role.PLANNER, "schedule maintenance windows")
        target = target.strip().strip("/")
        reason = reason.strip()
        if not reason:
            raise InvalidRequest("say why: the reason is shown on every finding the window hides")
        if ends_at <= starts_at:
            raise InvalidRequest("a window must end after it starts")
        if recurrence is Recurrence.DAILY and ends_at - starts_at > timedelta(days=1):
            raise InvalidRequest("a daily window lasts at most a day")
        if recurrence is Recurrence.WEEKLY and ends_at - starts_at > timedelta(days=7):
            raise InvalidRequest("a weekly window lasts at most a week")
        _check_target(self._storage.plant, target)
        zone = timezone or self._storage.organisation.timezone
        _check_zone(zone)
        with self._storage.write("add a maintenance window") as tx:
            row = WindowRow(
                target=target,
                reason=reason,
                starts_at=starts_at,
                ends_at=ends_at,
                recurrence=recurrence,
                timezone=zone,
                until=until,
                created_at=tx.now,
                created_by=principal.name,
            )
            tx.session.add(row)
            tx.session.flush()
            audit_record(
                tx,
                principal,
                "scheduled",
                entity="maintenance_window",
                entity_id=str(row.id),
                after={
                    "target": target,
                    "starts_at": starts_at.isoformat(),
                    "ends_at": ends_at.isoformat(),
                    "recurrence": recurrence.value,
                },
                note=reason,
            )
            return views.window(row)

    def windows(self, *, include_cancelled: bool = False) -> builtins.list[Window]:
        query = select(WindowRow).order_by(WindowRow.starts_at.desc())
        if not include_cancelled:
            query = query.where(WindowRow.cancelled_at.is_(None))
        with self._storage.read("list maintenance windows") as tx:
            return [views.window(row) for row in tx.session.scalars(query)]

    def cancel_window(self, window_id: int, *, by: Actor) -> Window:
        principal = as_principal(by)
        access.require(principal, Role.PLANNER, "cancel maintenance windows")
        with self._storage.write(f"cancel window {window_id}") as tx:
            row = tx.session.get(WindowRow, window_id, with_for_update=True)
            if row is None:
                raise NotFound("maintenance window", window_id)
            if row.cancelled_at is None:
                row.cancelled_at = tx.now
                audit_record(
                    tx, principal, "cancelled", entity="maintenance_window", entity_id=str(row.id)
                )
            return views.window(row)

    def shelve(
        self,
        equipment_id: str,
        *,
        reason: str,
        expires_at: datetime,
        by: Actor,
        failure_mode: str | None = None,
    ) -> Shelf:
        """Shelve the alarms of an equipment (one failure mode, or all) until `expires_at`
        (at most 30 days ahead): their findings are recorded but open no order."""
        principal = as_principal(by)
        access.require(principal, Role.PLANNER, "shelve alarms")
        reason = reason.strip()
        if not reason:
            raise InvalidRequest("say why the alarm is shelved")
        if self._storage.plant is not None:
            self._storage.equipment(equipment_id)
        with self._storage.write(f"shelve {equipment_id}") as tx:
            if expires_at <= tx.now:
                raise InvalidRequest("a shelf must expire in the future")
            if expires_at - tx.now > MAX_SHELF:
                raise InvalidRequest(
                    f"shelve for at most {MAX_SHELF.days} days; use a maintenance window for "
                    "longer planned work"
                )
            row = ShelfRow(
                equipment_id=equipment_id,
                failure_mode_code=failure_mode,
                reason=reason,
                created_at=tx.now,
                created_by=principal.name,
                expires_at=expires_at,
            )
            tx.session.add(row)
            tx.session.flush()
            audit_record(
                tx,
                principal,
                "shelved",
                entity="shelf",
                entity_id=str(row.id),
                after={
                    "equipment": equipment_id,
                    "failure_mode": failure_mode,
                    "expires_at": expires_at.isoformat(),
                },
                note=reason,
            )
            return views.shelf(row)

    def shelves(self, *, include_expired: bool = False) -> builtins.list[Shelf]:
        with self._storage.read("list shelves") as tx:
            query = select(ShelfRow).order_by(ShelfRow.id.desc())
            if not include_expired:
                query = query.where(ShelfRow.cancelled_at.is_(None), ShelfRow.expires_at > tx.now)
            return [views.shelf(row) for row in tx.session.scalars(query)]

    def unshelve(self, shelf_id: int, *, by: Actor) -> Shelf:
        principal = as_principal(by)
        access.require(principal, Role.PLANNER, "unshelve alarms")
        with self._storage.write(f"unshelve {shelf_id}") as tx:
            row = tx.session.get(ShelfRow, shelf_id, with_for_update=True)
            if row is None:
                raise NotFound("shelf", shelf_id)
            if row.cancelled_at is None:
                row.cancelled_at = tx.now
                audit_record(tx, principal, "unshelved", entity="shelf", entity_id=str(row.id))
            return views.shelf(row)


def _check_target(plant: Plant | None, target: str) -> None:
    if not target:
        raise InvalidRequest("name what the window covers: site/area/line/equipment (a prefix)")
    if plant is not None and not any(covers(target, eq.path) for eq in plant):
        raise InvalidRequest(
            f"{target!r} covers no equipment; write an ISA-95 path prefix such as "
            f"{next(iter(plant)).path}"
        )


def _check_zone(zone: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(
            f"unknown time zone {zone!r}; use an IANA name such as Europe/Paris"
        ) from exc
