"""What the change signal (migration 0007's triggers) costs a balance write: CPU per bucket UPDATE
in transactions of 64 (the ledger's group commit), the schema with and without migration 0007,
alternating, synchronous off (the fsync is not what is compared); and bulk provisioning: CPU per
subscriber of ``put_subscribers`` + ``replace_buckets`` (5,000 per transaction, as an import).

    .venv/bin/python benchmarks/change_signal_cost.py
"""
from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from appliance.store.sqlite import migrations, split_sql  # noqa: E402

SIGNAL = 7
ROWS = 20_000


def database(with_signal: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(os.path.join(tempfile.mkdtemp(), "a.db"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    for number, sql in migrations("sqlite"):
        if number != SIGNAL or with_signal:
            for statement in split_sql(sql):
                conn.execute(statement)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO bucket (product_id, unit, remaining) VALUES (?, 'money', ?)",
                     [(f"p{i}", 10 ** 12) for i in range(ROWS)])
    conn.execute("COMMIT")
    return conn


def provisioning(with_signal: bool, count: int = 20_000) -> float:
    """Store CPU µs per subscriber provisioned (product, service with NAI and MSISDN, a balance)."""
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.inventory import Credentials, Product, Service
    from appliance.ocs.units import Unit
    from appliance.store.sqlite import SqliteStore
    path = os.path.join(tempfile.mkdtemp(), "a.db")
    store = SqliteStore(path, synchronous="OFF")
    if not with_signal:
        conn = sqlite3.connect(path)
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                    "AND name LIKE 'product_change%'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.commit()
        conn.close()

    def seed(ledger, first: int) -> None:
        ids = range(first, first + 5_000)
        ledger.put_subscribers([Product(f"p{i}", "bench") for i in ids],
                               [Service(f"s{i}", f"p{i}", nai=f"user{i}@bench", msisdn=f"336{i:08d}",
                                        credentials=Credentials(password="pw")) for i in ids])
        ledger.replace_buckets([NewBucket(f"p{i}", Unit.MONEY, 10 ** 9) for i in ids])
    started = time.process_time()
    for first in range(0, count, 5_000):
        store.transact(lambda ledger, first=first: seed(ledger, first))
    spent = (time.process_time() - started) / count * 1e6
    store.close()
    return spent


def main() -> None:
    for _round in range(3):
        for with_signal in (False, True):
            print(f"{'with' if with_signal else 'without':<8} the change signal: "
                  f"{provisioning(with_signal):.1f} us per subscriber provisioned")
    for _round in range(3):
        for with_signal in (False, True):
            conn = database(with_signal)
            ids = [r[0] for r in conn.execute("SELECT id FROM bucket")]
            started = time.process_time()
            for k in range(0, ROWS, 64):
                conn.execute("BEGIN")
                conn.executemany("UPDATE bucket SET remaining = ? WHERE id = ?",
                                 [(10 ** 12 - k, ids[(k + j) % ROWS]) for j in range(64)])
                conn.execute("COMMIT")
            spent = (time.process_time() - started) / ROWS * 1e6
            print(f"{'with' if with_signal else 'without':<8} the change signal: {spent:.2f} us per bucket UPDATE")
            conn.close()


if __name__ == "__main__":
    main()
