"""Shard leases and shard snapshots in the shared PostgreSQL database: the I/O side of
`forewarn.leases` (tables `shard_leases` and `shard_snapshots`, created by the work-order
migrations)."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from forewarn.errors import ForewarnError
from forewarn.leases import Lease, claim_order
from forewarn.snapshots import decode, encode
from ticketing.database import create_engine_for, parse_url, upgrade
from ticketing.errors import StorageError

log = logging.getLogger(__name__)

_EXPIRY = "clock_timestamp() + make_interval(secs => :timeout)"


def worker_owner() -> str:
    """A lease owner id unique to this process: host, pid and a random part (a restarted worker,
    even with the same pid, is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ShardLeases:
    """Claims, renews and releases this worker's lease on one shard of `shards`."""

    def __init__(self, url: str, shards: int, timeout: float, owner: str | None = None) -> None:
        parsed = parse_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise ForewarnError(
                f"--shards {shards} without --shard makes workers claim shards through leases in "
                f"a shared PostgreSQL database, and {parsed.render_as_string()} is SQLite: give "
                f"each worker its shard (--shard 0..{shards - 1}, FOREWARN_SHARD), or use "
                "PostgreSQL (--db postgresql+psycopg://user@host/database)"
            )
        self.shards = shards
        self.timeout = timeout
        self.owner = owner or worker_owner()
        self._engine = create_engine_for(url)
        try:
            upgrade(self._engine)
            with self._engine.begin() as connection:
                for shard in range(shards):
                    connection.execute(
                        text(
                            "INSERT INTO shard_leases (shard, owner, expires_at) "
                            "VALUES (:shard, NULL, clock_timestamp()) ON CONFLICT DO NOTHING"
                        ),
                        {"shard": shard},
                    )
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise StorageError(
                f"cannot prepare the shard leases in {parsed.render_as_string()}: {exc}"
            ) from exc

    def leases(self) -> tuple[datetime, list[Lease]]:
        """The database's time and every lease row."""
        with self._engine.connect() as connection:
            now = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
            rows = connection.execute(text("SELECT shard, owner, expires_at FROM shard_leases"))
            return now, [Lease(r.shard, r.owner, r.expires_at) for r in rows]

    def claim(self) -> int | None:
        """Claim a free or expired shard (`forewarn.leases.claim_order`); None when all are held.
        Each attempt is one compare-and-set, so two workers never win the same shard."""
        now, leases = self.leases()
        for shard in claim_order(leases, self.shards, now):
            with self._engine.begin() as connection:
                won = connection.execute(
                    text(
                        f"UPDATE shard_leases SET owner = :owner, expires_at = {_EXPIRY} "
                        "WHERE shard = :shard "
                        "AND (owner IS NULL OR expires_at <= clock_timestamp()) RETURNING shard"
                    ),
                    {"owner": self.owner, "shard": shard, "timeout": self.timeout},
                ).first()
            if won is not None:
                return shard
        return None

    def holders(self) -> dict[int, str]:
        """Shard -> the owner holding it now (for the standby's log and the tests)."""
        now, leases = self.leases()
        return {
            lease.shard: lease.owner
            for lease in leases
            if lease.owner is not None and not lease.free(now)
        }

    def renew(self, shard: int) -> bool:
        """Extend this worker's lease on `shard`; False when it is no longer this worker's."""
        with self._engine.begin() as connection:
            renewed = connection.execute(
                text(
                    f"UPDATE shard_leases SET expires_at = {_EXPIRY} "
                    "WHERE shard = :shard AND owner = :owner RETURNING shard"
                ),
                {"owner": self.owner, "shard": shard, "timeout": self.timeout},
            ).first()
        return renewed is not None

    def release(self, shard: int) -> bool:
        """Give `shard` up at once (a clean stop); False when it was no longer this worker's."""
        with self._engine.begin() as connection:
            released = connection.execute(
                text(
                    "UPDATE shard_leases SET owner = NULL, expires_at = clock_timestamp() "
                    "WHERE shard = :shard AND owner = :owner RETURNING shard"
                ),
                {"owner": self.owner, "shard": shard},
            ).first()
        return released is not None

    def save_snapshot(self, shard: int, state: dict[str, Any]) -> bool:
        """Store `state` as `shard`'s snapshot, only while this worker holds the shard's lease
        (the lease row is locked meanwhile): a worker that lost its shard never overwrites the
        newer state of the one that took it over. Returns whether it was stored."""
        document = encode(state)
        with self._engine.begin() as connection:
            held = connection.execute(
                text(
                    "SELECT shard FROM shard_leases WHERE shard = :shard AND owner = :owner "
                    "AND expires_at > clock_timestamp() FOR UPDATE"
                ),
                {"owner": self.owner, "shard": shard},
            ).first()
            if held is None:
                return False
            connection.execute(
                text(
                    "INSERT INTO shard_snapshots (shard, taken_at, state) "
                    "VALUES (:shard, clock_timestamp(), :state) ON CONFLICT (shard) DO UPDATE "
                    "SET taken_at = excluded.taken_at, state = excluded.state"
                ),
                {"shard": shard, "state": document},
            )
        return True

    def load_snapshot(self, shard: int) -> tuple[datetime, dict[str, Any]] | None:
        """`shard`'s newest snapshot and when it was taken; None if it has none."""
        with self._engine.connect() as connection:
            row = connection.execute(
                text("SELECT taken_at, state FROM shard_snapshots WHERE shard = :shard"),
                {"shard": shard},
            ).first()
        if row is None:
            return None
        return row.taken_at, decode(row.state)

    def close(self) -> None:
        self._engine.dispose()


class DatabaseSnapshots:
    """`forewarn.snapshots.SnapshotStore` of a claimed shard: its row of `shard_snapshots`."""

    def __init__(self, leases: ShardLeases, shard: int) -> None:
        self._leases = leases
        self.shard = shard

    @property
    def where(self) -> str:
        return f"the database (shard {self.shard} of {self._leases.shards})"

    def save(self, state: dict[str, Any]) -> None:
        try:
            stored = self._leases.save_snapshot(self.shard, state)
        except SQLAlchemyError as exc:
            log.warning("cannot store the detector snapshot of shard %d: %s", self.shard, exc)
            return
        if not stored:
            log.warning(
                "not storing the detector snapshot of shard %d: this worker no longer holds its "
                "lease",
                self.shard,
            )

    def load(self) -> dict[str, Any] | None:
        try:
            found = self._leases.load_snapshot(self.shard)
        except SQLAlchemyError as exc:
            raise ValueError(f"cannot read it: {exc}") from exc
        if found is None:
            return None
        taken_at, state = found
        log.info("shard %d's detector snapshot was taken at %s", self.shard, taken_at.isoformat())
        return state
