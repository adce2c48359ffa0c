#!/usr/bin/env python3
"""Durable reserve+debit operations per second against the store.

One operation = one session UPDATE: debit the used units of the previous grant, release the
rest and reserve the next grant, committed durably (SQLite WAL, synchronous=FULL, group commit)
before it is acknowledged.  Sessions run concurrently on one asyncio loop (as a worker does).

usage: benchmarks/store_reserve_debit.py [--seconds 5] [--levels 1,16,256] [--backend sqlite|postgres --dsn DSN]
Prints the on-disk bytes of the remembered answers (SQLite) per session and per request at the end.
Bounded: each level stops after --seconds or --max-ops operations.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import Config, DatabaseConfig  # noqa: E402
from appliance.ocs.balance import NewBucket  # noqa: E402
from appliance.ocs.catalog import Offer, Price, PriceType  # noqa: E402
from appliance.ocs.charging import Charging  # noqa: E402
from appliance.ocs.inventory import Product, Service  # noqa: E402
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, Outcome, UsageItem  # noqa: E402
from appliance.ocs.units import Unit  # noqa: E402
from appliance.store import open_store  # noqa: E402

MB = 1_000_000
SUBSCRIBERS = 1000


def seed(store) -> None:
    def put(l):
        l.put_offer(Offer("bench", (Price("d", PriceType.USAGE, 20_000, Unit.OCTETS, MB),)))
        for i in range(SUBSCRIBERS):
            l.put_product(Product(f"p{i}", "bench"))
            l.put_service(Service(f"00101{i:010d}", f"p{i}", imsi=f"00101{i:010d}"))
            l.add_bucket(NewBucket(f"p{i}", Unit.MONEY, 10**15))
    store.transact(put)


async def level(charging: Charging, sessions: int, seconds: float, max_ops: int, tag: str) -> tuple[int, float, list]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    count = 0

    async def session(n: int) -> None:
        nonlocal count
        sid = f"{tag}-{n}"
        imsi = f"00101{n % SUBSCRIBERS:010d}"
        r = await charging.acharge(ChargeRequest(imsi, sid, Action.START, (UsageItem(Unit.OCTETS, requested=MB),),
                                                 request_key=f"{sid}:0"))
        assert r.outcome is Outcome.SUCCESS
        seq = 1
        while time.perf_counter() < deadline and count < max_ops:
            t0 = time.perf_counter()
            r = await charging.acharge(ChargeRequest(
                imsi, sid, Action.UPDATE, (UsageItem(Unit.OCTETS, used=700_000, requested=MB),),
                request_key=f"{sid}:{seq}"))
            latencies.append(time.perf_counter() - t0)
            assert r.outcome is Outcome.SUCCESS
            seq += 1
            count += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(session(n) for n in range(sessions)))
    return count, time.perf_counter() - t0, latencies


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def thread_cpu(thread) -> float:
    """CPU seconds of one thread (the store's writer), 0 where the platform cannot tell."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except (AttributeError, OSError, TypeError):
        return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--max-ops", type=int, default=500_000)
    ap.add_argument("--levels", default="1,16,256")
    ap.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    ap.add_argument("--dsn", default="")
    ap.add_argument("--synchronous", default="FULL")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-store-")
    cfg = Config(data_dir=tmp, base_dir=tmp, database=DatabaseConfig(
        backend=args.backend, dsn=args.dsn, path="bench.db", synchronous=args.synchronous))
    store = open_store(cfg)
    seed(store)
    charging = Charging(store, ChargingPolicy({Unit.OCTETS: 0}, 600, 60))
    try:
        import uvloop
        uvloop.install()
        loop_name = "uvloop"
    except ImportError:
        loop_name = "asyncio"
    print(f"backend={args.backend} synchronous={args.synchronous} loop={loop_name} cpus={os.cpu_count()}")
    print(f"{'sessions':>8} {'ops':>8} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'batches':>8} "
          f"{'cpu us/op':>9} {'writer us/op':>12}")
    writer = getattr(store, "_thread", None)
    total_ops = total_sessions = 0
    for sessions in (int(x) for x in args.levels.split(",")):
        b0 = getattr(store, "batches", 0)
        c0, w0 = time.process_time(), thread_cpu(writer)
        count, elapsed, lat = asyncio.run(level(charging, sessions, args.seconds, args.max_ops, f"l{sessions}"))
        cpu, wcpu = time.process_time() - c0, thread_cpu(writer) - w0
        batches = getattr(store, "batches", 0) - b0
        ops = max(count, 1)
        print(f"{sessions:>8} {count:>8} {count / elapsed:>9.0f} {pct(lat, .5):>8.2f} {pct(lat, .99):>8.2f} "
              f"{batches:>8} {cpu / ops * 1e6:>9.0f} {wcpu / ops * 1e6:>12.0f}")
        total_ops += count + sessions
        total_sessions += sessions
    store.close()
    if args.backend == "sqlite":
        answer_bytes(os.path.join(tmp, "bench.db"), total_sessions, total_ops)


def answer_bytes(path: str, sessions: int, requests: int) -> None:
    """On-disk size of the remembered answers (pages of the table and its indexes, after a checkpoint)."""
    import sqlite3
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name IN ('last_answer', 'request_log')")]
    for table in names:
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        size = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ? OR name LIKE ? || '_%'",
                            (table, table)).fetchone()[0] or 0
        print(f"answers: table {table}, {rows} rows, {size} bytes after {requests} requests of {sessions} sessions: "
              f"{size / max(sessions, 1):.0f} bytes per session, {size / max(requests, 1):.1f} per request")
    conn.close()


if __name__ == "__main__":
    main()
