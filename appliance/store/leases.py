"""Leases on the ledger's shards and the table of their owners (schema 6: ``ledger_shards``,
``ledger_owner``).

A lease is held for as long as the holding process lives, and no longer:

* PostgreSQL: ``pg_try_advisory_lock(<schema's ledger key>, shard)`` on a dedicated session
  connection.  The server releases it when the session ends (the process died, was killed, or lost
  its connection), and another node's next attempt takes it.
* SQLite (one node): ``flock`` on ``ledger-shard-<k>.lock`` beside the database file; the kernel
  releases it with the process.

The holder writes ``ledger_owner`` (node, local socket, TCP address, epoch + 1) once it holds the
lease; front ends read the table in one statement and again when a ledger answers "not mine".
On PostgreSQL every transaction of the owner is fenced by that epoch (``PostgresLedger.fence``): a
takeover waits for the former owner's transactions in progress, and fails those that start after.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import IO, Any

Owner = tuple[str, str, str]          # node, local socket, TCP address ("" if none)

_UPSERT = ("INSERT INTO ledger_owner (shard, node, socket, address, epoch, since) VALUES ({p}, {p}, {p}, {p}, 1, {p}) "
           "ON CONFLICT (shard) DO UPDATE SET node = excluded.node, socket = excluded.socket, "
           "address = excluded.address, epoch = ledger_owner.epoch + 1, since = excluded.since RETURNING epoch")
_PG_KEY = "hashtext(current_schema() || ':appliance:ledger-shard')"


class ShardCountChanged(Exception):
    """The store's shards were made with another ``ledger.shards``."""


class LeaseLost(Exception):
    """A transaction of a shard's former owner: another ledger has taken the shard since (its epoch
    in ``ledger_owner`` moved on).  Nothing of the transaction is kept."""

    def __init__(self, shard: int) -> None:
        super().__init__(f"shard {shard} was taken over by another ledger")
        self.shard = shard


class _Table:
    """The owners' table and the recorded shard count over a DB-API connection (autocommit)."""

    placeholder = "?"
    conn: Any

    def record_shards(self, shards: int) -> None:
        p = self.placeholder
        self.conn.execute(f"INSERT INTO ledger_shards (id, shards) VALUES (1, {p}) ON CONFLICT (id) DO NOTHING",
                          (shards,))
        recorded = self.conn.execute("SELECT shards FROM ledger_shards WHERE id = 1").fetchone()[0]
        if recorded != shards:
            raise ShardCountChanged(
                f"the store's ledger has {recorded} shards, ledger.shards says {shards}: stop every ledger "
                "and follow docs/ledger.md (changing the shard count) before changing it")

    def write_owner(self, shard: int, owner: Owner) -> int:
        """This ledger is the shard's owner from now on; its epoch (the fence of its transactions)."""
        row = self.conn.execute(_UPSERT.format(p=self.placeholder), (shard, *owner, int(time.time()))).fetchone()
        return int(row[0])

    def owners(self) -> dict[int, tuple[str, str, str, int]]:
        rows = self.conn.execute("SELECT shard, node, socket, address, epoch FROM ledger_owner").fetchall()
        return {int(r[0]): (r[1], r[2], r[3], int(r[4])) for r in rows}


class FileLeases(_Table):
    """SQLite, one node: a lock file per shard beside the database."""

    def __init__(self, database: Path) -> None:
        self.dir = database.parent
        self.conn = sqlite3.connect(str(database), timeout=30, isolation_level=None, check_same_thread=False)
        self.held: dict[int, IO[str]] = {}

    def take(self, shard: int) -> bool:
        if shard in self.held:
            return True
        fh = open(self.dir / f"ledger-shard-{shard}.lock", "a+")      # noqa: SIM115 -- held with the lease
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self.held[shard] = fh
        return True

    def check(self) -> bool:
        return True                      # a flock is lost only with the process

    def close(self) -> None:
        for fh in self.held.values():
            fh.close()
        self.held.clear()
        self.conn.close()


class PgLeases(_Table):
    """PostgreSQL: session advisory locks on one dedicated connection (the leases die with it)."""

    placeholder = "%s"

    def __init__(self, dsn: str) -> None:
        import psycopg
        self.dsn = dsn
        self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10,
                                    application_name="appliance-ledger-lease")
        self.held: set[int] = set()

    def take(self, shard: int) -> bool:
        if shard in self.held:
            return True
        got = bool(self.conn.execute(f"SELECT pg_try_advisory_lock({_PG_KEY}, %s)", (shard,)).fetchone()[0])
        if got:
            self.held.add(shard)
        return got

    def check(self) -> bool:
        """False when the session (and with it every lease) is gone; a new session is opened for the
        next attempts."""
        import psycopg
        try:
            self.conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            self.held.clear()
            try:
                self.conn.close()
            finally:
                self.conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10,
                                            application_name="appliance-ledger-lease")
            return False

    def close(self) -> None:
        self.held.clear()
        self.conn.close()


def open_leases(cfg: Any) -> FileLeases | PgLeases:
    if cfg.database.backend == "postgres":
        return PgLeases(cfg.database.dsn)
    return FileLeases(cfg.database_path)


def read_owners(cfg: Any) -> dict[int, tuple[str, str, str, int]]:
    """The owners' table in one statement, for a front end (a connection of its own, closed after)."""
    t = _Table()
    if cfg.database.backend == "postgres":
        import psycopg
        with psycopg.connect(cfg.database.dsn, autocommit=True, connect_timeout=10) as pg:
            t.conn = pg
            return t.owners()
    if not os.path.exists(cfg.database_path):
        return {}
    t.conn = sqlite3.connect(str(cfg.database_path), timeout=10)
    try:
        return t.owners()
    finally:
        t.conn.close()
