#!/usr/bin/env python3
"""Transaction log cost: records/s, the cost of one ``translog.acct()`` call, and a Ro CCR with vs without it.

1. One process logs --records Ro-CCR-shaped records (~700 bytes) write-through (default mode: one
   flock+fstat+write per record) and buffered (flush_interval_ms=50): records/s, p50/p99 per call.
   Then the same with ``logs.fsync: batch`` (one fdatasync per written batch).
2. Two processes log write-through into the same files at once: total records/s (lock contention).
3. A Ro node (in-process, SQLite synchronous=FULL group commit) answers CCR-U from --sessions
   concurrent sessions over loopback TCP, first with the transaction log off, then on: CCR/s, p50/p99.
   The difference is what logging adds per CCR.

usage: benchmarks/translog.py [--records 50000] [--ccrs 4000] [--sessions 32]
Bounded by the counts.  The machine is shared with other work: numbers are noisy (±40 %).
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import (
    Config,
    DatabaseConfig,
    DiameterConfig,
    DiameterPeer,
    LogsConfig,
    charging_policy,
)
from appliance.logs import translog

RECORD = {"protocol": "diameter", "app": "ro", "type": "CCR", "request_type": "update", "request_number": 7,
          "peer": "pgw1.example.net", "origin_realm": "example.net", "session_id": "pgw1.example.net;1795;4242",
          "subscriber": "001010000000042", "imsi": "001010000000042", "msisdn": "14155550042",
          "action": "update", "service": "data",
          "units": [{"unit": "octets", "rating_group": 32, "requested": 0, "used": 1_048_576, "granted": 1_048_576,
                     "debited": 1_048_576, "charged": 40_000, "unpaid": 0, "outcome": "success"}],
          "charged": 40_000, "outcome": "success", "result": 2001}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def cfg_for(base: str, flush_ms: int = 0, fsync: str = "none") -> Config:
    return Config(data_dir=f"{base}/data", run_dir=f"{base}/run", log_dir=f"{base}/logs", base_dir=base,
                  database=DatabaseConfig(path="bench.db"),
                  logs=LogsConfig(acct_log_files=8, acct_log_size=64 << 20, flush_interval_ms=flush_ms,
                                  fsync=fsync))


def log_records(base: str, n: int, flush_ms: int, proc: str = "bench",
                fsync: str = "none") -> tuple[float, list[float]]:
    translog.configure(cfg_for(base, flush_ms, fsync), proc, 0)
    lat = []
    rec = dict(RECORD)
    t0 = time.perf_counter()
    for i in range(n):
        rec["request_number"] = i
        a = time.perf_counter()
        translog.acct(rec)
        lat.append(time.perf_counter() - a)
    translog.close()                      # buffered: the last batch is written here (counted in the rate)
    return time.perf_counter() - t0, lat


def _child(base: str, n: int, q) -> None:
    elapsed, _ = log_records(base, n, 0, f"p{os.getpid()}")
    q.put(elapsed)


def bench_records(n: int) -> None:
    modes = (("write-through", 0, "none"), ("buffered 50 ms", 50, "none"),
             ("w-through+fsync", 0, "batch"), ("buffered+fsync", 50, "batch"))
    for mode, flush_ms, fsync in modes:
        count = n if fsync == "none" or flush_ms else max(1, n // 20)   # one fdatasync per record: fewer
        with tempfile.TemporaryDirectory() as base:
            elapsed, lat = log_records(base, count, flush_ms, fsync=fsync)
            acct = os.path.join(base, LogsConfig().acct_log_dir)
            size = sum(os.path.getsize(os.path.join(acct, f)) for f in os.listdir(acct))
        print(f"{mode:15s}: {count / elapsed:9.0f} records/s  per call p50 {statistics.median(lat) * 1e6:6.1f} µs  "
              f"p99 {pct(lat, 0.99) * 1e6:6.1f} µs  ({size / count:.0f} bytes/record, {count} records)")
    with tempfile.TemporaryDirectory() as base:
        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        ps = [ctx.Process(target=_child, args=(base, n, q)) for _ in range(2)]
        t0 = time.perf_counter()
        for p in ps:
            p.start()
        for p in ps:
            p.join(300)
        total = time.perf_counter() - t0
        each = [q.get(timeout=5) for _ in ps]
        print(f"2 processes    : {2 * n / max(each):9.0f} records/s together (write-through, one set of files; "
              f"wall incl. start-up {total:.1f} s)")


async def ccr_run(base: str, n: int, sessions: int, logging_on: bool,
                  flush_ms: int = 0, fsync: str = "none") -> tuple[float, list[float], list[float]]:
    from appliance.diameter.apps import ro
    from appliance.diameter.client import CreditControlClient, Service, ccr
    from appliance.diameter.node import Node
    from appliance.diameter.worker import AppContext
    from appliance.ledger.api import LedgerClient
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.catalog import Offer, Price, PriceType
    from appliance.ocs.inventory import Product
    from appliance.ocs.inventory import Service as Svc
    from appliance.ocs.units import Unit
    from appliance.store import open_store

    cfg = dataclasses.replace(cfg_for(base, flush_ms, fsync),
                              diameter=DiameterConfig(peers=(DiameterPeer("gw.bench"),)))
    store = open_store(cfg)

    def seed(l):
        l.put_offer(Offer("bench", (Price("d", PriceType.USAGE, 20_000, Unit.OCTETS, 1_000_000),)))
        for i in range(sessions):
            l.put_product(Product(f"p{i}", "bench"))
            l.put_service(Svc(f"00101{i:010d}", f"p{i}", imsi=f"00101{i:010d}"))
            l.add_bucket(NewBucket(f"p{i}", Unit.MONEY, 10 ** 15))
    store.transact(seed)
    inside: list[float] = []
    if logging_on:
        translog.configure(cfg, "bench", 0)
        real_acct, real_fields = translog.acct, translog.charge_fields

        def timed_acct(rec, held=False):   # what Ro's _log spends: charge_fields + acct per CCR
            a = time.perf_counter()
            real_acct(rec, held=held)
            inside.append(time.perf_counter() - a + fields_time[0])

        fields_time = [0.0]

        def timed_fields(req, res):
            a = time.perf_counter()
            out = real_fields(req, res)
            fields_time[0] = time.perf_counter() - a
            return out
        translog.acct, translog.charge_fields = timed_acct, timed_fields
    else:
        translog.close()
    node = Node("ocs.bench", "bench", peers=cfg.diameter.peers, watchdog=30)
    ro.install(node, AppContext(cfg, store, LedgerClient(store, charging_policy(cfg))))
    port = await node.listen("127.0.0.1", 0)
    cl = CreditControlClient("gw.bench", "gw.realm")
    await cl.connect("127.0.0.1", port)
    lat: list[float] = []
    per = n // sessions

    async def session(i: int) -> None:
        sid, imsi = cl.session_id(), f"00101{i:010d}"
        await cl.send(ccr(sid, "bench", ro.INITIAL, 0, imsi, services=(Service(Unit.OCTETS, 0, rating_group=32),)))
        for k in range(1, per + 1):
            a = time.perf_counter()
            await cl.send(ccr(sid, "bench", ro.UPDATE, k, imsi,
                              services=(Service(Unit.OCTETS, 0, used=500_000, rating_group=32),)))
            lat.append(time.perf_counter() - a)
        await cl.send(ccr(sid, "bench", ro.TERMINATION, per + 1, imsi,
                          services=(Service(Unit.OCTETS, None, used=1000, rating_group=32),)))
    t0 = time.perf_counter()
    await asyncio.gather(*(session(i) for i in range(sessions)))
    elapsed = time.perf_counter() - t0
    await cl.close()
    await node.stop(1)
    if logging_on:
        translog.acct, translog.charge_fields = real_acct, real_fields
    translog.close()
    store.close()
    return elapsed, lat, inside


def bench_ccr(n: int, sessions: int) -> None:
    try:
        import appliance.diameter.apps.ro  # noqa: F401
    except ImportError:
        print("Ro CCR        : skipped (appliance.diameter.apps.ro not present)")
        return
    modes = (("off", False, 0, "none"), ("write-through", True, 0, "none"), ("buffered 50ms", True, 50, "none"),
             ("w-through+fsync", True, 0, "batch"))
    for name, on, flush_ms, fsync in modes * 2:   # repeated to spread the machine's noise over all
        with tempfile.TemporaryDirectory() as base:
            elapsed, lat, inside = asyncio.run(ccr_run(base, n, sessions, on, flush_ms, fsync))
        extra = (f"  logging inside the CCR: p50 {statistics.median(inside) * 1e6:.0f} µs "
                 f"p99 {pct(inside, 0.99) * 1e6:.0f} µs") if inside else ""
        print(f"Ro CCR-U log {name:13s}: {len(lat) / elapsed:5.0f} CCR/s  p50 {statistics.median(lat) * 1e3:6.2f} ms"
              f"  p99 {pct(lat, 0.99) * 1e3:6.2f} ms{extra}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--ccrs", type=int, default=4000)
    ap.add_argument("--sessions", type=int, default=32)
    a = ap.parse_args()
    print(f"translog benchmark: {a.records} records; Ro {a.ccrs} CCR-U over {a.sessions} sessions "
          f"(shared machine: ±40 % noise)")
    bench_records(a.records)
    bench_ccr(a.ccrs, a.sessions)


if __name__ == "__main__":
    main()
