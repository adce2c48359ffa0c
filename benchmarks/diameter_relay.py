#!/usr/bin/env python3
"""What the inter-worker relay adds to a request (appliance/diameter/relay.py).

Three processes on loopback: a peer that answers at once (the HSS / gateway), "worker 0" (a node
with its relay socket, holding the only connection to the peer), and this process, which sends
the same request two ways: directly on its own connection to the peer, and as "worker 1" with no
connection, so every request goes worker 1 -> unix socket -> worker 0 -> TCP -> peer and back.
Prints p50/p99 latency of both with one request in flight and with ``--window`` in flight, the
difference (the relay's cost), throughput, and this process's CPU per request (the sender's side:
building, routing, decoding the answer; worker 0's forwarding is not in it).

usage: benchmarks/diameter_relay.py [--requests 3000] [--window 32]
Bounded by --requests per measurement.  The machine is shared: compare runs made side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter.node import Node
from appliance.diameter.peer import AppSupport
from appliance.diameter.relay import WorkerRelay

APP = 16777265          # SWx
MAR = 303


async def _answer(req):
    return req.answer(c.SUCCESS, [c.encode_avp(1, req.message.text(1) or "")])


async def _wait_open(node: Node, host: str, conn) -> None:
    for _ in range(1000):
        if host in node.open or conn.closed.done():
            return
        await asyncio.sleep(0.01)


def peer_process(port_q, stop_ev) -> None:
    async def main():
        node = Node("hss.bench", "hss.realm", peers=[DiameterPeer("ocs.bench"), DiameterPeer("direct.bench")])
        node.register(AppSupport(APP), {MAR: _answer})
        port_q.put(await node.listen("127.0.0.1", 0))
        while not stop_ev.is_set():
            await asyncio.sleep(0.1)
        await node.stop(1)
    asyncio.run(main())


def worker0_process(run_dir, port, ready, stop_ev) -> None:
    async def main():
        node = Node("ocs.bench", "ocs.realm", run_dir=run_dir)
        node.register(AppSupport(APP), {})
        await WorkerRelay(node, run_dir, 0).listen()
        await _wait_open(node, "hss.bench", await node.connect("hss.bench", "127.0.0.1", port))
        node._write_peers()
        ready.set()
        while not stop_ev.is_set():
            await asyncio.sleep(0.1)
        await node.stop(1)
    asyncio.run(main())


def avps(node: Node, i: int) -> list[bytes]:
    return [c.encode_avp(c.SESSION_ID, f"{node.host};1;{i}"), c.encode_avp(c.DESTINATION_REALM, "hss.realm"),
            c.encode_avp(c.DESTINATION_HOST, "hss.bench"), c.encode_avp(1, "001010000000001")]


async def measure(node: Node, requests: int, window: int) -> tuple[list[float], float, float]:
    lat: list[float] = []
    sent = 0

    async def lane() -> None:
        nonlocal sent
        while sent < requests:
            sent += 1
            t = time.perf_counter()
            ans = await node.request(MAR, APP, avps(node, sent), host="hss.bench", timeout=5)
            lat.append(time.perf_counter() - t)
            assert ans.result_code == c.SUCCESS
    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane() for _ in range(window)))
    return sorted(lat), requests / (time.perf_counter() - t0), (time.process_time() - cpu0) / requests * 1e6


def pct(lat: list[float], p: float) -> float:
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1e6


async def bench(run_dir: str, port: int, requests: int, window: int) -> None:
    direct = Node("direct.bench", "ocs.realm")
    direct.register(AppSupport(APP), {})
    await _wait_open(direct, "hss.bench", await direct.connect("hss.bench", "127.0.0.1", port))
    worker1 = Node("ocs.bench", "ocs.realm", run_dir=run_dir)
    worker1.register(AppSupport(APP), {})
    await WorkerRelay(worker1, run_dir, 1).listen()
    await measure(worker1, 200, 1)                        # warm up: link opened, tables cached
    await measure(direct, 200, 1)
    for label, w in (("one in flight", 1), (f"{window} in flight", window)):
        d_lat, d_rate, d_cpu = await measure(direct, requests, w)
        r_lat, r_rate, r_cpu = await measure(worker1, requests, w)
        print(f"{label}: direct p50 {pct(d_lat, .5):.0f} us p99 {pct(d_lat, .99):.0f} us {d_rate:.0f}/s "
              f"{d_cpu:.0f} us CPU | relayed p50 {pct(r_lat, .5):.0f} us p99 {pct(r_lat, .99):.0f} us "
              f"{r_rate:.0f}/s {r_cpu:.0f} us CPU | "
              f"added p50 {pct(r_lat, .5) - pct(d_lat, .5):.0f} us p99 {pct(r_lat, .99) - pct(d_lat, .99):.0f} us")
    await worker1.stop(1)
    await direct.stop(1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--window", type=int, default=32)
    args = ap.parse_args()
    ctx = multiprocessing.get_context("spawn")
    port_q, ready, stop_ev = ctx.Queue(), ctx.Event(), ctx.Event()
    with tempfile.TemporaryDirectory() as run_dir:
        peer = ctx.Process(target=peer_process, args=(port_q, stop_ev))
        peer.start()
        port = port_q.get(timeout=30)
        w0 = ctx.Process(target=worker0_process, args=(run_dir, port, ready, stop_ev))
        w0.start()
        try:
            if not ready.wait(30):
                print("worker 0 did not connect", file=sys.stderr)
                return 1
            asyncio.run(bench(run_dir, port, args.requests, args.window))
        finally:
            stop_ev.set()
            for p in (w0, peer):
                p.join(10)
                if p.is_alive():
                    p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
