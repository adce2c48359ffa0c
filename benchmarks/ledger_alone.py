#!/usr/bin/env python3
"""Durable ledger operations per second: the ledger role alone, driven on its local socket.

Starts ``appliance run ledger`` (SQLite, synchronous=FULL group commit, as in production) on a
seeded store, opens ``--sessions`` Ro sessions with a credit-control INITIAL each (not measured),
then sends credit-control UPDATEs (1,000 octets used, the next grant reserved) from this process
with at most ``--window`` in flight, for ``--seconds``.  Prints operations/s, p50/p99 latency and
the ledger's CPU µs per operation.  ``--reads`` also measures ``balance`` reads alone and beside
the write load.  Bounded by --seconds per phase; loopback (a Unix socket) only.

``--reference`` first runs the same phases against a canned-answer ledger in the same run: the
ledger's own socket and framing (``server._Connection``, ``protocol``), answering each request with
a fixed answer of the same shape without the store.  Every figure is then also printed as a ratio
to that transport ceiling (the client, the socket, the framing, the event loops).

usage: benchmarks/ledger_alone.py [--seconds 6] [--sessions 256] [--window 256] [--subscribers 1000]
       [--reads] [--reference]   (sessions spread evenly over all --subscribers; the ledger's RSS printed)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import Config, DatabaseConfig
from appliance.ledger import protocol
from appliance.ledger.remote import RemoteLedger
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Product, Service
from appliance.ocs.rating import Action, ChargeRequest, UsageItem
from appliance.ocs.units import Unit


def imsi(n: int) -> str:
    return f"00101{n:010d}"


def seed(cfg: Config, subscribers: int) -> None:
    from appliance.store import open_store
    store = open_store(cfg)
    offer = Offer("data", (Price("data", PriceType.USAGE, amount=1, unit=Unit.OCTETS, size=1_000_000),))

    store.transact(lambda l: l.put_offer(offer))
    for first in range(0, subscribers, 20_000):        # bulk, as `appliance import` writes
        part = range(first, min(subscribers, first + 20_000))

        def put(l, part=part):
            l.put_subscribers([Product(f"p{n}", "data") for n in part],
                              [Service(imsi(n), f"p{n}", imsi=imsi(n)) for n in part])
            l.replace_buckets([NewBucket(f"p{n}", Unit.MONEY, 10**15, None, "initial") for n in part])
        store.transact(put)
    store.close()


# The canned ledger's answers: the shapes the real one sends (one granted item, a balance).
CANNED = {
    "credit_control": ((0, ((0, "octets", 1, None, 1_000_000, False, 3600, 1000, 1, 0),), {"money": 10**15}, False),
                       "001010000000000", ""),
    "balance": ("001010000000000", "p0", {"money": 10**15}, {"octets": 1_000_000}),
    "authorize": (True, "", None, {"octets": 10**9, "seconds": 10**9}, "p0", "001010000000000"),
    "ping": "pong",
}


class _Canned:
    """Stands where ``LedgerServer`` stands behind ``server._Connection``: each request answered at
    once with its operation's canned answer."""

    def submit(self, conn, message) -> None:
        conn.send(protocol.frame((message[0], True, CANNED.get(message[1]))))


def serve_canned(path: str) -> None:
    from appliance.ledger.server import _Connection
    from appliance.runtime import new_event_loop

    async def main() -> None:
        canned = _Canned()
        server = await asyncio.get_running_loop().create_unix_server(lambda: _Connection(canned), path)
        async with server:
            await asyncio.Event().wait()
    loop = new_event_loop()
    loop.run_until_complete(main())


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


async def load(path: str, args: argparse.Namespace, pid: int) -> dict:
    remote = RemoteLedger(path, timeout=10)
    sessions = [f"bench;{n}" for n in range(args.sessions)]
    # sessions spread over every subscriber (evenly, not the first ones): the working set is
    # --sessions subscribers whatever the store holds
    step = max(1, args.subscribers // args.sessions)
    subs = [imsi((n * step) % args.subscribers) for n in range(args.sessions)]
    now = int(time.time())

    def wire(n: int, action: Action, seq: int) -> tuple:
        items = (UsageItem(Unit.OCTETS, 1_000_000, 1000 if action is Action.UPDATE else 0, 1, None),)
        r = ChargeRequest(subs[n], sessions[n], action, items, f"{sessions[n]}:{seq}", now=now)
        return protocol.request_to_wire(r)

    await asyncio.gather(*[remote.call("credit_control", (wire(n, Action.START, 0), 1, (subs[n],), None))
                           for n in range(args.sessions)])
    out: dict = {}
    seq = [1] * args.sessions

    async def lanes(op, width: int) -> tuple[int, list[float], float]:
        """``width`` lanes calling ``op`` back to back for --seconds: (calls, latencies, wall)."""
        lat: list[float] = []
        done = 0
        stop = time.monotonic() + args.seconds
        t0 = time.monotonic()

        async def lane(k: int) -> None:
            nonlocal done
            n = k
            while time.monotonic() < stop:
                t = time.perf_counter()
                await op(n % args.sessions)
                lat.append(time.perf_counter() - t)
                done += 1
                n += width
        await asyncio.gather(*[lane(k) for k in range(width)])
        return done, lat, time.monotonic() - t0

    def summary(done: int, lat: list[float], wall: float) -> dict:
        return {"ops_s": round(done / wall), "p50_ms": round(pct(lat, 0.5) * 1e3, 2),
                "p99_ms": round(pct(lat, 0.99) * 1e3, 2), "ops": done}

    async def phase(name: str, op) -> None:
        c0 = cpu_seconds(pid)
        done, lat, wall = await lanes(op, args.window)
        out[name] = {**summary(done, lat, wall),
                     "ledger_cpu_us": round((cpu_seconds(pid) - c0) / max(done, 1) * 1e6, 1)}

    async def update(n: int) -> None:
        s = seq[n]
        seq[n] += 1
        await remote.call("credit_control", (wire(n, Action.UPDATE, s), 2, (), None))

    async def balance(n: int) -> None:
        await remote.call("balance", (subs[n], now))

    async def authorize(n: int) -> None:
        await remote.call("authorize", (subs[n], now, ("octets",), "", "UTC"))

    await phase("credit_control_update", update)
    if args.reads:
        await phase("balance", balance)
        await phase("authorize", authorize)
        reads = RemoteLedger(path, timeout=10)

        async def read_beside(n: int) -> None:
            await reads.call("balance", (subs[n], now))
        writes = asyncio.ensure_future(phase("update_beside_reads", update))
        out["balance_beside_writes"] = summary(*await lanes(read_beside, 64))
        await writes
        reads.close()
    remote.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--sessions", type=int, default=256)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--reads", action="store_true")
    ap.add_argument("--profile", help="run the ledger under cProfile, its stats to this file (all phases)")
    ap.add_argument("--reference", action="store_true", help="also measure a canned-answer ledger, same run")
    ap.add_argument("--canned", help=argparse.SUPPRESS)      # internal: serve the canned ledger on this path
    args = ap.parse_args()
    if args.canned:
        serve_canned(args.canned)
        return
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        reference = None
        if args.reference:
            path = os.path.join(tmp, "canned.sock")
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--canned", path])
            try:
                wait_for(path)
                reference = asyncio.run(load(path, args, proc.pid))
            finally:
                proc.terminate()
                proc.wait(10)
        cfg = Config(data_dir=os.path.join(tmp, "data"), run_dir=os.path.join(tmp, "run"),
                     log_dir=os.path.join(tmp, "logs"), base_dir=tmp, database=DatabaseConfig(path="bench.db"))
        t0 = time.monotonic()
        seed(cfg, args.subscribers)
        seeded = round(time.monotonic() - t0, 1)
        conf = os.path.join(tmp, "appliance.yaml")
        with open(conf, "w") as fh:
            json.dump({"data_dir": cfg.data_dir, "run_dir": cfg.run_dir, "log_dir": cfg.log_dir,
                       "database": {"path": "bench.db"}, "processes": {"ledger": 1}}, fh)
        env = dict(os.environ, APPLIANCE_CONFIG=conf)
        profile = ["-m", "cProfile", "-o", os.path.abspath(args.profile)] if args.profile else []
        proc = subprocess.Popen([sys.executable, *profile, "-m", "appliance", "run", "ledger"], env=env,
                                stderr=open(os.path.join(tmp, "ledger.log"), "w"))
        path = os.path.join(cfg.run_dir, "ledger.sock")
        wait_for(path)
        try:
            result = asyncio.run(load(path, args, proc.pid))
            with open(f"/proc/{proc.pid}/status") as fh:
                rss = round(int(next(x for x in fh if x.startswith("VmRSS")).split()[1]) / 1024, 1)
        finally:
            proc.terminate()
            proc.wait(10)
    report: dict = {"sessions": args.sessions, "window": args.window, "subscribers": args.subscribers,
                    "seed_s": seeded, "ledger_rss_mb": rss, **result}
    if reference is not None:
        report["reference"] = reference
        report["ratio"] = {name: round(v["ops_s"] / reference[name]["ops_s"], 3)
                           for name, v in result.items() if reference.get(name, {}).get("ops_s")}
    print(json.dumps(report, indent=1))


def wait_for(path: str) -> None:
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)

if __name__ == "__main__":
    main()
