"""The floor part of the store: problems reported at a machine (a note and a photo, from its
label's page) and the short progress code that lets whoever reported one follow its order
without signing in, seeing nothing else of the plant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from devices import Severity
from devices.plant import OTHER
from ticketing import recording
from ticketing.base import Recorded
from ticketing.errors import InvalidRequest, NotFound
from ticketing.lifecycle import Status
from ticketing.models import FloorReportRow, WorkOrderRow
from ticketing.recording import Report
from ticketing.store_base import Actor, Storage, as_principal

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: a code read aloud or typed from a phone is not mistaken."""
CODE_LENGTH = 8
MAX_PHOTO = 2 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True, slots=True)
class FloorReport:
    recorded: Recorded
    code: str


@dataclass(frozen=True, slots=True)
class Progress:
    """All a progress code shows: the order's number, status and expected time."""

    code: str
    number: str
    status: Status
    expected_at: datetime | None
    updated_at: datetime
    done: bool


class Floor:
    """Reports from the floor and their progress codes."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def report(
        self,
        equipment_id: str,
        *,
        note: str,
        by: Actor,
        photo: bytes | None = None,
        photo_type: str | None = None,
        severity: Severity = Severity.WARNING,
    ) -> FloorReport:
        """A corrective order (or an update of the active one) from a person at the machine,
        with an optional photo; returns it with its new progress code."""
        if photo is not None:
            if photo_type not in PHOTO_TYPES:
                raise InvalidRequest(
                    f"a photo must be one of {', '.join(sorted(PHOTO_TYPES))}, not {photo_type!r}"
                )
            if len(photo) > MAX_PHOTO:
                raise InvalidRequest(
                    f"the photo is {len(photo)} bytes; send at most {MAX_PHOTO} (resize it)"
                )
        note = note.strip()
        if not note:
            raise InvalidRequest("describe the problem: what did you see, hear or measure?")
        equipment = self._storage.equipment(equipment_id)
        problem = Report(note, severity, as_principal(by))
        with self._storage.write(f"report a problem on {equipment_id}") as tx:
            recorded = recording.report(tx, equipment, OTHER, problem)
            for _ in range(5):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                try:
                    with tx.session.begin_nested():
                        tx.session.add(
                            FloorReportRow(
                                code=code,
                                work_order_id=recorded.order.id,
                                equipment_id=equipment_id,
                                note=note,
                                photo=photo,
                                photo_type=photo_type if photo is not None else None,
                                reported_by=problem.by.name,
                                created_at=tx.now,
                            )
                        )
                        tx.session.flush()
                except IntegrityError:
                    continue
                return FloorReport(recorded, code)
        raise InvalidRequest("could not draw a free progress code; try again")

    def progress(self, code: str) -> Progress:
        """What the progress code's page shows; `NotFound` for an unknown code."""
        key = code.strip().upper().replace("-", "")
        query = (
            select(FloorReportRow.code, WorkOrderRow)
            .join(WorkOrderRow, WorkOrderRow.id == FloorReportRow.work_order_id)
            .where(FloorReportRow.code == key)
        )
        with self._storage.read("read a progress code") as tx:
            found = tx.session.execute(query).first()
            if found is None:
                raise NotFound("progress code", code)
            found_code, row = found
            done = row.status in (Status.DONE, Status.CLOSED)
            return Progress(
                code=found_code,
                number=row.number or "",
                status=row.status,
                expected_at=row.due_at,
                updated_at=row.updated_at,
                done=done,
            )

    def photos(self, number: str) -> list[tuple[int, str]]:
        """(report id, content type) of the photos reported on an order, oldest first."""
        query = (
            select(FloorReportRow.id, FloorReportRow.photo_type)
            .join(WorkOrderRow, WorkOrderRow.id == FloorReportRow.work_order_id)
            .where(WorkOrderRow.number == number, FloorReportRow.photo.is_not(None))
            .order_by(FloorReportRow.id)
        )
        with self._storage.read(f"list the photos of {number}") as tx:
            return [(int(i), str(t)) for i, t in tx.session.execute(query)]
