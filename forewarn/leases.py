"""Dynamic shard claims: the decisions, free of I/O (the database side is `forewarn.lease_store`,
the worker's loop `forewarn.takeover`).

A worker run with `--shards N` and no `--shard` holds at most one shard at a time, through a
lease: a row `shard_leases(shard, owner, expires_at)` of the shared PostgreSQL database. It claims
a shard that is free (never leased, or released on a clean stop) or whose lease expired (its
holder died or lost the database), renews its lease every third of `lease_timeout`, and releases
it when it stops. With every shard held it is a standby and keeps trying. So a deployment runs N
workers, one per shard, plus as many standbys as it wants spare.

Expiry is judged by the database's clock, never a worker's: the claim is a compare-and-set
(`UPDATE ... WHERE owner IS NULL OR expires_at <= clock_timestamp()`), so two workers cannot both
win a shard. The worker also keeps its own, more cautious, deadline (`Tenure`): the lease counts
as lost `lease_timeout` after the last renewal was *sent*, so a worker cut off from the database
stops reading its shard no later than the database lets another worker claim it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Lease:
    """One row of `shard_leases`."""

    shard: int
    owner: str | None
    expires_at: datetime

    def free(self, now: datetime) -> bool:
        """Nobody holds it at `now`: released, or expired."""
        return self.owner is None or self.expires_at <= now


def claim_order(leases: Iterable[Lease], shards: int, now: datetime) -> list[int]:
    """The shards of 0..shards-1 a worker may claim at `now` (the database's clock), in the
    order to try them: never leased or released first, then expired, each by shard number."""
    known = {lease.shard: lease for lease in leases if 0 <= lease.shard < shards}
    released = [s for s in range(shards) if s not in known or known[s].owner is None]
    expired = [s for s in range(shards) if s in known and known[s].owner and known[s].free(now)]
    return released + expired


@dataclass
class Tenure:
    """A held lease, on the worker's monotonic clock: when to renew it, and when it must be
    taken as lost even though no renewal said so."""

    timeout: float
    renewed_at: float
    """Monotonic time the last successful renewal (or the claim) was sent."""

    @property
    def renew_every(self) -> float:
        return self.timeout / 3

    def next_renewal(self, now: float) -> float:
        """Seconds from `now` until the next renewal is due (0 when overdue)."""
        return max(0.0, self.renewed_at + self.renew_every - now)

    def lapsed(self, now: float) -> bool:
        """No renewal for a whole `timeout`: another worker may hold the shard by now."""
        return now >= self.renewed_at + self.timeout

    def renewed(self, sent_at: float) -> None:
        self.renewed_at = max(self.renewed_at, sent_at)


def standby_poll(timeout: float) -> float:
    """Seconds between two claim attempts of a standby: a dead worker's shard is taken over at
    most `timeout` plus this after its last renewal."""
    return timeout / 5
