"""Why a finding may open no work order: a maintenance window over its equipment, a shelved
alarm, or feedback that made its equipment and signal less sensitive. The finding and its alarm
are recorded all the same.

- Maintenance windows cover an ISA-95 path prefix (site, area, line or one equipment), once or
  recurring daily or weekly at the same local time in their time zone (so a weekly Sunday 06:00
  window stays at 06:00 across daylight-saving changes), and apply at the finding's source time.
- A shelf covers one equipment (one failure mode, or all) from now until it expires.
- Feedback: each false alarm closed on an equipment + signal raises the score its drift and
  anomaly warnings need to open an order by `FEEDBACK_STEP`, up to `FEEDBACK_MAX`; each
  confirmed finding lowers it back. Limit crossings, sensor faults and alarms always open one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from devices import Finding, FindingKind, Severity
from ticketing.base import Outcome, Recurrence
from ticketing.models import SensitivityRow, ShelfRow, WindowRow
from ticketing.tx import Tx

FEEDBACK_BASE = 0.5
FEEDBACK_STEP = 0.1
FEEDBACK_MAX = 0.8
_PERIOD = {Recurrence.DAILY: 1, Recurrence.WEEKLY: 7}


def covers(target: str, equipment_path: str) -> bool:
    """Whether a window's path prefix covers the equipment at `equipment_path`."""
    want = [p for p in target.strip("/").split("/") if p]
    have = equipment_path.split("/")
    return bool(want) and have[: len(want)] == want


def in_window(
    at: datetime,
    *,
    starts_at: datetime,
    ends_at: datetime,
    recurrence: Recurrence,
    timezone: str,
    until: datetime | None = None,
) -> bool:
    """Whether `at` falls in a window (one occurrence, or any occurrence of a recurring one)."""
    if recurrence is Recurrence.NONE:
        return starts_at <= at < ends_at
    if at < starts_at or (until is not None and at >= until):
        return False
    zone = ZoneInfo(timezone)
    first = starts_at.astimezone(zone)
    length = ends_at - starts_at
    period = _PERIOD[recurrence]
    days = (at.astimezone(zone).date() - first.date()).days
    latest = days - days % period
    for k in (latest, latest - period):
        if k < 0:
            continue
        local = datetime.combine(
            first.date() + timedelta(days=k), first.timetz().replace(tzinfo=None)
        )
        start = local.replace(tzinfo=zone)
        if start <= at < start + length:
            return True
    return False


def windows_at(tx: Tx, at: datetime) -> list[WindowRow]:
    """The maintenance windows open at `at` (once, or in one of their occurrences)."""
    query = select(WindowRow).where(
        WindowRow.cancelled_at.is_(None),
        WindowRow.starts_at <= at,
        or_(WindowRow.until.is_(None), WindowRow.until > at),
    )
    return [
        window
        for window in tx.session.scalars(query)
        if in_window(
            at,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
            recurrence=window.recurrence,
            timezone=window.timezone,
            until=window.until,
        )
    ]


def covering(windows: Iterable[WindowRow], equipment_path: str) -> WindowRow | None:
    """The first of `windows` whose target covers the equipment at `equipment_path`."""
    return next((w for w in windows if covers(w.target, equipment_path)), None)


def window_over(tx: Tx, equipment_path: str, at: datetime) -> WindowRow | None:
    """An active maintenance window over the equipment at source time `at`, if any."""
    return covering(windows_at(tx, at), equipment_path)


def shelf_over(tx: Tx, equipment_id: str, mode_code: str) -> ShelfRow | None:
    """An unexpired shelf of this equipment and failure mode (or of all its modes), if any."""
    query = select(ShelfRow).where(
        ShelfRow.equipment_id == equipment_id,
        or_(ShelfRow.failure_mode_code.is_(None), ShelfRow.failure_mode_code == mode_code),
        ShelfRow.cancelled_at.is_(None),
        ShelfRow.expires_at > tx.now,
    )
    return tx.session.scalars(query.limit(1)).first()


def below_feedback(tx: Tx, finding: Finding) -> float | None:
    """The score the finding needed, if feedback says it is too weak to open an order."""
    if finding.kind not in (FindingKind.DRIFT, FindingKind.ANOMALY):
        return None
    if finding.severity >= Severity.ALARM:
        return None
    rows = tx.session.scalars(
        select(SensitivityRow).where(
            SensitivityRow.equipment_id == finding.equipment_id,
            SensitivityRow.signal.in_(finding.signals),
        )
    )
    needed = max((row.min_score for row in rows), default=FEEDBACK_BASE)
    return needed if finding.score < needed else None


def learn(tx: Tx, equipment_id: str, signals: Iterable[str], outcome: Outcome) -> None:
    """Fold a closed order's outcome into the sensitivity of its equipment and signals."""
    for signal in sorted(set(signals)):
        row = tx.session.get(SensitivityRow, (equipment_id, signal), with_for_update=True)
        if row is None:
            row = SensitivityRow(
                equipment_id=equipment_id,
                signal=signal,
                false_alarms=0,
                confirmed=0,
                min_score=FEEDBACK_BASE,
                updated_at=tx.now,
            )
            tx.session.add(row)
        if outcome is Outcome.FALSE_ALARM:
            row.false_alarms += 1
            row.min_score = min(row.min_score + FEEDBACK_STEP, FEEDBACK_MAX)
        else:
            row.confirmed += 1
            row.min_score = max(row.min_score - FEEDBACK_STEP, FEEDBACK_BASE)
        row.updated_at = tx.now
