"""Copy an SQLite appliance database into PostgreSQL (an operator moving up to several nodes).

The copy is one PostgreSQL transaction: either every row arrives or none does.
The SQLite file is read inside one read transaction (a consistent snapshot even
if a node is still writing, though the appliance should be stopped so nothing
is written after the snapshot).  Both schemas must be at the same migration
version; the PostgreSQL one is migrated first.  Bucket ids are kept (reservation
holds refer to them) and the id sequence continues after SQLite's highest ever
id, so ids are never reused.
"""
from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from .postgres import migrate
from .sqlite import migrations

# Dependency order is irrelevant (no foreign keys); this is the order rows are copied and counted in.
TABLES = ("meta", "offer", "prefix_table", "product", "service", "service_identity", "bucket", "reservation",
          "last_answer", "client", "doc")


# Known and not copied: the change signal of authorization inputs (migration 0007) is refilled by
# the target's own triggers as the rows above are copied.
DERIVED = ("product_change",)
# Known and not copied: who holds the ledger's shards (runtime state, written again by the target's
# ledgers as they take their leases) and the shard count (recorded by the first ledger started on it).
LEDGER_RUNTIME = ("ledger_owner", "ledger_shards")


class CopyError(Exception):
    """The copy cannot be done as asked; nothing was written."""


def copy_sqlite_to_postgres(sqlite_path: str, dsn: str, replace: bool = False) -> dict[str, int]:
    """Copy every table; returns rows copied per table.  ``replace`` empties the target tables first."""
    try:
        src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
        src.execute("BEGIN")
        version = src.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise CopyError(f"{sqlite_path}: cannot read the SQLite database: {exc}") from None
    try:
        latest = migrations("sqlite")[-1][0]
        if version != latest:
            raise CopyError(f"{sqlite_path}: schema version {version}, this release expects {latest}: "
                            "start this release once on the SQLite database to migrate it, then copy")
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")}
        unknown = tables - set(TABLES) - set(DERIVED) - set(LEDGER_RUNTIME)
        if unknown:
            raise CopyError(f"{sqlite_path}: tables this copy does not know: {', '.join(sorted(unknown))}")
        with psycopg.connect(dsn, autocommit=True) as dst:
            target_version = migrate(dst)
            if target_version != version:
                raise CopyError(f"PostgreSQL schema version {target_version} differs from SQLite's {version}")
            with dst.transaction():
                return _copy(src, dst, replace)
    finally:
        src.close()


def _copy(src: sqlite3.Connection, dst: psycopg.Connection[Any], replace: bool) -> dict[str, int]:
    busy = [t for t in TABLES if t != "meta" and dst.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0]]
    if busy and not replace:
        raise CopyError(f"the PostgreSQL database already has rows in {', '.join(busy)} (use --replace)")
    if replace:
        dst.execute(f"TRUNCATE {', '.join(t for t in TABLES if t != 'meta')}")
    counts: dict[str, int] = {}
    for table in TABLES:
        columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        names = ", ".join(f'"{c}"' for c in columns)
        cur = src.execute(f"SELECT {names} FROM {table}")
        if table == "meta":  # counters: keep the larger, +1 so every node's caches are dropped
            n = 0
            for key, value in cur:
                dst.execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                            "SET value = greatest(meta.value, EXCLUDED.value) + 1", (key, value))
                n += 1
            counts[table] = n
            continue
        n = 0
        with dst.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in cur:
                copy.write_row(row)
                n += 1
        counts[table] = n
    high = src.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'bucket'").fetchone()[0] \
        if src.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() else 0
    dst.execute("SELECT setval(pg_get_serial_sequence('bucket', 'id'), "
                "greatest(%s, (SELECT coalesce(max(id), 0) FROM bucket), 1), %s)",
                (high, high > 0 or counts["bucket"] > 0))
    for table, n in counts.items():
        if table != "meta":
            (found,) = dst.execute(f"SELECT count(*) FROM {table}").fetchone()
            if found != n:
                raise CopyError(f"{table}: copied {n} rows but {found} are there")
    return counts
