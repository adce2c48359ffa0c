#!/usr/bin/env python3
"""Gx CCR-I + CCR-T pairs per second and their latency.

The PCRF runs as its own process (a Diameter node with only the Gx application, a SQLite store
with synchronous=FULL group commit, as a worker runs); this process is the PCEF: ``--sessions``
concurrent IP-CAN sessions each doing CCR-I (answered with 3 rules, session QoS and a
monitoring key) then CCR-T, over one TCP connection on loopback.  Latency is per pair.

usage: benchmarks/gx_pairs.py [--pairs 3000] [--sessions 32] [--seconds 20]
Bounded by --pairs and --seconds.  The machine is shared: numbers are noisy (±40 %).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import Config, DatabaseConfig, DiameterPeer  # noqa: E402
from appliance.diameter import codec as c  # noqa: E402
from appliance.diameter.apps import gx  # noqa: E402
from appliance.diameter.node import Node  # noqa: E402
from appliance.diameter.peer import AppSupport  # noqa: E402
from appliance.diameter.worker import AppContext  # noqa: E402
from appliance.ocs.catalog import Offer  # noqa: E402
from appliance.ocs.inventory import Product, Service  # noqa: E402
from appliance.ocs.policy import Flow, MonitoringQuota, PolicyRule, PolicyTable, QoS, RuleKind, SessionQoS  # noqa: E402
from appliance.pcrf import tables as T  # noqa: E402
from appliance.store import open_store  # noqa: E402

SUBSCRIBERS = 1000
TABLE = PolicyTable("bench", (PolicyRule("predef", RuleKind.PREDEFINED),
                              PolicyRule("web", RuleKind.DYNAMIC, 100, (Flow("permit out 6 from any 80 to any"),),
                                         QoS(9, None, 10_000_000, 20_000_000), None, "mk"),
                              PolicyRule("slow", RuleKind.DYNAMIC, 10, (Flow("permit out ip from any to any"),),
                                         QoS(9, None, 64_000, 64_000))),
                    (MonitoringQuota("mk", 10**15, 10**9, "slow"),), SessionQoS(50_000_000, 100_000_000))


def imsi(n: int) -> str:
    return f"00101{n % SUBSCRIBERS:010d}"


def server(base: str, port_q: multiprocessing.Queue[int], stop_q: multiprocessing.Queue[int]) -> None:
    cfg = Config(data_dir=f"{base}/data", run_dir=f"{base}/run", log_dir=f"{base}/logs", base_dir=base,
                 database=DatabaseConfig(path="bench.db"))
    store = open_store(cfg)

    def seed(l):
        l.put_offer(Offer("bench", policy_table="bench"))
        T.put_table(l, TABLE)
        for i in range(SUBSCRIBERS):
            l.put_product(Product(f"p{i}", "bench"))
            l.put_service(Service(imsi(i), f"p{i}", imsi=imsi(i)))
    store.transact(seed)

    async def run() -> None:
        node = Node("pcrf.bench", "bench", peers=[DiameterPeer("pcef.bench")])
        gx.install(node, AppContext(cfg, store, None, 0))
        port_q.put(await node.listen("127.0.0.1", 0))
        await asyncio.get_running_loop().run_in_executor(None, stop_q.get)
        await node.stop(1)
    asyncio.run(run())
    store.close()


async def client(port: int, pairs: int, sessions: int, seconds: float) -> tuple[int, float, list[float]]:
    node = Node("pcef.bench", "pcef", peers=[DiameterPeer("pcrf.bench")])
    node.register(AppSupport(gx.GX, vendor_id=c.VENDOR_3GPP), {})
    conn = await node.connect("pcrf.bench", "127.0.0.1", port)
    for _ in range(500):
        if "pcrf.bench" in node.open or conn.closed.done():
            break
        await asyncio.sleep(0.01)
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    counter = iter(range(pairs))
    errors = 0

    def ccr(sid: str, rt: int, n: int, sub: str | None) -> list[bytes]:
        avps = [c.avp("Session-Id", sid), c.avp("Auth-Application-Id", gx.GX), c.avp("Destination-Realm", "bench"),
                c.avp("CC-Request-Type", rt), c.avp("CC-Request-Number", n)]
        if sub:
            avps.append(c.avp("Subscription-Id", [c.avp("Subscription-Id-Type", 1),
                                                  c.avp("Subscription-Id-Data", sub)]))
        return avps

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            if time.perf_counter() > deadline:
                return
            sid = f"pcef.bench;{os.getpid()};{i}"
            t0 = time.perf_counter()
            a = await node.request(272, gx.GX, ccr(sid, 1, 0, imsi(i)), host="pcrf.bench", timeout=10)
            b = await node.request(272, gx.GX, ccr(sid, 3, 1, None), host="pcrf.bench", timeout=10)
            latencies.append(time.perf_counter() - t0)
            if a.result_code != 2001 or b.result_code != 2001:
                errors += 1
    await asyncio.gather(*(worker() for _ in range(sessions)))
    elapsed = time.perf_counter() - started
    await node.stop(1)
    return errors, elapsed, latencies


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3000)
    ap.add_argument("--sessions", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as base:
        ctx = multiprocessing.get_context("spawn")
        port_q, stop_q = ctx.Queue(), ctx.Queue()
        proc = ctx.Process(target=server, args=(base, port_q, stop_q))
        proc.start()
        try:
            port = port_q.get(timeout=60)
            errors, elapsed, lat = asyncio.run(client(port, args.pairs, args.sessions, args.seconds))
        finally:
            stop_q.put(1)
            proc.join(30)
    lat.sort()
    n = len(lat)
    if not n:
        print("no pairs completed")
        return 1
    p = lambda q: lat[min(n - 1, int(q * n))] * 1000  # noqa: E731
    print(f"gx CCR-I+CCR-T pairs: {n} in {elapsed:.2f} s = {n / elapsed:.0f} pairs/s "
          f"({2 * n / elapsed:.0f} CCR/s), {args.sessions} concurrent sessions, errors {errors}")
    print(f"pair latency ms: p50 {p(0.5):.2f}  p99 {p(0.99):.2f}  max {lat[-1] * 1000:.2f}  "
          f"mean {statistics.mean(lat) * 1000:.2f}")
    print("store: SQLite WAL synchronous=FULL, group commit; shared noisy machine: compare within one run only")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
