#!/usr/bin/env python3
"""The Diameter node's own cost per CCR: two in-process nodes over loopback TCP, a handler that
answers at once (no decoding beyond the node's, no store), ``--window`` requests in flight.

Measures what the node adds around an application (framing, the peer machine, the duplicate
cache, counters, per-peer per-command counts), which the store-bound benchmarks/diameter_ro.py
hides.  Prints requests/s and the process CPU time per request (client and server share the
process: both sides are counted).

usage: benchmarks/diameter_node.py [--requests 20000] [--window 64] [--rounds 3]
Bounded by --requests per round.  The machine is shared: compare runs made side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport

RO = 4


async def answer_at_once(req):
    return req.answer(c.SUCCESS)


async def one_round(requests: int, window: int) -> tuple[float, float]:
    server = Node("ocs.bench", "bench", peers=[DiameterPeer("gw.bench")])
    server.register(AppSupport(RO), {272: answer_at_once})
    port = await server.listen("127.0.0.1", 0)
    client = Node("gw.bench", "gw")
    client.register(AppSupport(RO), {})
    conn = await client.connect("ocs.bench", "127.0.0.1", port)
    for _ in range(500):
        if "ocs.bench" in client.open or conn.closed.done():
            break
        await asyncio.sleep(0.01)
    avps = [c.avp("Session-Id", "gw.bench;1;1"), c.avp("Destination-Realm", "bench"),
            c.avp("Auth-Application-Id", RO), c.avp("CC-Request-Type", 2), c.avp("CC-Request-Number", 1)]
    sent = 0

    async def lane() -> None:
        nonlocal sent
        while sent < requests:
            sent += 1
            await client.request(272, RO, avps, host="ocs.bench")
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane() for _ in range(window)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.stop(1)
    await server.stop(1)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    for r in range(args.rounds):
        wall, cpu = asyncio.run(one_round(args.requests, args.window))
        print(f"round {r + 1}: {args.requests / wall:,.0f} CCR/s, {cpu / args.requests * 1e6:.1f} µs CPU per CCR "
              f"(client + server)")


if __name__ == "__main__":
    main()
