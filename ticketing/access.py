"""Who may do what: API tokens (only their SHA-256 is stored) and the role and team rules.

Roles are ordered technician < planner < admin; each may do what the roles before it may. A
technician sees and updates only the orders assigned to them or to their team.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices import Organisation
from ticketing.base import Principal, Role
from ticketing.errors import InvalidRequest, NotAllowed, NotAuthenticated
from ticketing.models import TokenRow, WorkOrderRow

TOKEN_PREFIX = "fwt_"
LAST_USED_RESOLUTION = 60.0
"""Seconds: `last_used_at` is written at most this often per token."""


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a token: tokens are 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_of(row: TokenRow, now: datetime) -> Principal:
    """The principal of a token row; `NotAuthenticated` if it is revoked or expired."""
    if row.revoked_at is not None:
        raise NotAuthenticated(f"token {row.prefix}… was revoked; ask an admin for a new one")
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated(f"token {row.prefix}… expired; ask an admin for a new one")
    return Principal(row.name, row.role, row.team, row.id)


def find_token(session: Session, secret: str) -> TokenRow | None:
    return session.scalars(select(TokenRow).where(TokenRow.token_hash == digest(secret))).first()


def token_team(organisation: Organisation, name: str, role: Role, team: str | None) -> str | None:
    """The team a new token acts for: a technician's is their team in the plant file."""
    if role is not Role.TECHNICIAN:
        return team
    person = organisation.people.get(name)
    if person is not None and person.team is not None:
        if team is not None and team != person.team:
            raise InvalidRequest(
                f"{name} is in team {person.team!r} in the plant file, not {team!r}"
            )
        return person.team
    if team is None:
        known = ", ".join(sorted(p.id for p in organisation.people.values() if p.team)) or "none"
        raise InvalidRequest(
            f"a technician token needs a team: {name!r} is no technician of the plant file "
            f"(technicians: {known}); give the team"
        )
    return team


def require(principal: Principal, role: Role, doing: str) -> None:
    """`NotAllowed` unless `principal` has at least `role`."""
    if principal.role is None or principal.role.at_least(role):
        return
    who = {Role.PLANNER: "planners and admins", Role.ADMIN: "admins"}.get(role, role.value)
    raise NotAllowed(f"only {who} may {doing}; this token is a {principal.role.value}'s")


def can_see(principal: Principal, row: WorkOrderRow) -> bool:
    if principal.role is None or principal.role.at_least(Role.PLANNER):
        return True
    return row.assignee == principal.name or (
        principal.team is not None and row.team == principal.team
    )


def require_visible(principal: Principal, row: WorkOrderRow) -> None:
    if not can_see(principal, row):
        raise NotAllowed(
            f"{row.number} belongs to team {row.team!r}"
            + (f" and is assigned to {row.assignee}" if row.assignee else "")
            + "; technicians see only their own and their team's orders"
        )
