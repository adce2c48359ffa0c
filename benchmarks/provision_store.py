#!/usr/bin/env python3
"""Where bulk provisioning's write pass goes, at a chosen SQLite schema version.

Three figures for N subscribers (one product, IMSI, MSISDN, K, OPc, a money and an octets
balance each, as ``provision_import.py`` writes them), each the process CPU of one part:
- ``store``: the store's write path (``put_subscribers`` + ``replace_buckets``) in batches of
  5,000, objects built beforehand;
- ``sql``: the same statements on a raw ``sqlite3`` connection (WAL, synchronous=FULL), their
  tuples built beforehand (``rows``: the Python that builds them);
- ``lookups``: N random look-ups of a service and its product by id.

usage: benchmarks/provision_store.py [--rows 100000] [--schema 4|5]
(--schema 4: the tables as before schema 5's WITHOUT ROWID product and service.)
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.ocs.balance import NewBucket  # noqa: E402
from appliance.ocs.inventory import Credentials, Product, Service  # noqa: E402
from appliance.ocs.units import Unit  # noqa: E402
from appliance.store import rows  # noqa: E402
from appliance.store import sqlite as sqlite_store  # noqa: E402

BATCH = 5000


def subscriber(n: int) -> tuple[Product, Service, list[NewBucket]]:
    service = Service(f"sub{n}", f"sub{n}", imsi=f"00101{n:010d}", msisdn=f"3361{n:08d}",
                      credentials=Credentials(None, n.to_bytes(16, "big"), (n * 7).to_bytes(16, "big")))
    return (Product(f"sub{n}", "bench"), service,
            [NewBucket(f"sub{n}", Unit.MONEY, 5_000_000, None, "initial"),
             NewBucket(f"sub{n}", Unit.OCTETS, 10 ** 9, None, "initial")])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--schema", type=int, default=0, help="stop at this schema version (default: the latest)")
    args = ap.parse_args()
    shipped = sqlite_store.migrations
    if args.schema:
        sqlite_store.migrations = lambda backend: [m for m in shipped(backend) if m[0] <= args.schema]  # type: ignore
    tmp = tempfile.mkdtemp(prefix="bench-provision-store-")
    try:
        subs = [subscriber(n) for n in range(args.rows)]
        store = sqlite_store.SqliteStore(os.path.join(tmp, "store.db"))
        version = store.transact(lambda l: l._conn.execute("PRAGMA user_version").fetchone()[0])
        cpu = time.process_time()
        for i in range(0, args.rows, BATCH):
            part = subs[i:i + BATCH]

            def put(l, part=part):  # type: ignore[no-untyped-def]
                l.put_subscribers([p for p, _s, _b in part], [s for _p, s, _b in part])
                l.replace_buckets([b for _p, _s, bs in part for b in bs])
            store.transact(put)
        store_cpu = time.process_time() - cpu
        box = store.box
        store.close()

        sqlite_store.SqliteStore(os.path.join(tmp, "sql.db")).close()
        cpu = time.process_time()
        products = [rows.product_row(p) for p, _s, _b in subs]
        services = [(rows.service_row(s, box), [(i, s.id) for i in s.identities()]) for _p, s, _b in subs]
        rows_cpu = time.process_time() - cpu
        conn = sqlite3.connect(os.path.join(tmp, "sql.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        cpu = time.process_time()
        for i in range(0, args.rows, BATCH):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany('INSERT OR REPLACE INTO product (id, offer, start, "end", policy_table, status, doc) '
                             "VALUES (?,?,?,?,?,?,?)", products[i:i + BATCH])
            part = services[i:i + BATCH]
            conn.executemany("DELETE FROM service_identity WHERE service_id = ?", [(r[0],) for r, _ in part])
            conn.executemany(f"INSERT OR REPLACE INTO service ({rows.SERVICE_COLUMNS}) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", [r for r, _ in part])
            conn.executemany("INSERT OR IGNORE INTO service_identity (identity, service_id) VALUES (?, ?)",
                             [pair for _r, pairs in part for pair in pairs])
            conn.executemany("DELETE FROM bucket WHERE product_id = ? AND name = ?",
                             [(p[0], "initial") for p in products[i:i + BATCH]])
            conn.executemany('INSERT INTO bucket (product_id, unit, remaining, start, "end", name) '
                             "VALUES (?,?,?,?,?,?)", [(p[0], unit, 5, None, None, "initial")
                                                      for p in products[i:i + BATCH] for unit in ("money", "octets")])
            conn.execute("COMMIT")
        sql_cpu = time.process_time() - cpu
        ids = [f"sub{random.randrange(args.rows)}" for _ in range(args.rows)]
        cpu = time.process_time()
        for ident in ids:
            conn.execute("SELECT * FROM service WHERE id = ?", (ident,)).fetchone()
            conn.execute("SELECT * FROM product WHERE id = ?", (ident,)).fetchone()
        lookups_cpu = time.process_time() - cpu
        conn.close()
        print(f"schema {version}, {args.rows:,} subscribers: store {store_cpu:.2f} s, sql {sql_cpu:.2f} s "
              f"(rows {rows_cpu:.2f} s), lookups {lookups_cpu:.2f} s (CPU)")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
