#!/usr/bin/env python3
"""CPU per CCR-U of the Diameter worker with the ledger taken out: an in-memory ledger stub answers
every credit-control request at once, so what is left is the node (framing, the peer machine, the
duplicate cache), decode, ``parse_ccr``, the CCA, its encoding and the transaction-log record.

Two servers run in turn, each as its own process, against the same load client (this process):
- ``stub``: a real Diameter node with the Ro application (RFC 4006) whose ``charging.credit_control``
  is a stub that grants 1 MB to every item, transaction log on (write-through, held records);
- ``canned``: the minimal asyncio server of benchmarks/diameter_ro.py answering a prebuilt CCA.
Printed per server: CCR-U/s and CPU µs per CCR-U of the server and of the client.

``--micro N``: no sockets; N times decode + Ro handler (stub ledger, log record) + answer encoding
in this process, µs per CCR-U (the figure a compiled codec changes).

``--node N``: no sockets, the whole worker path in this process: N bursts of ``--window`` CCR-U
into one peer connection's ``data_received`` (after a CER), the event loop run until every CCA is
written to a transport stub; best of 5 runs, CPU µs per CCR-U.  Node, Ro handler, held log records
(write-through, written to the file) and framing without the load client or the kernel: the
steadiest figure for comparing two versions of the worker on a shared machine.

``--canned-node N``: the node's own overhead, no sockets: the same bursts into (a) a node whose Ro
handler answers a canned CCA without reading the request (framing, decode, the peer machine, the
duplicate cache, the M-bit/realm checks, counters, the answer path) and (b) the canned server of
benchmarks/diameter_ro.py (framing and a template only), alternating, ``--rounds`` each, best of 5
per round; prints CPU µs per CCR-U of each and canned/node (the node's share of the ceiling).
In socket mode, ``--servers stub,nodecanned,canned`` picks the servers (default stub,canned).

usage: benchmarks/diameter_worker.py [--seconds 6] [--sessions 400] [--window 64] [--rounds 2]
                                    [--servers stub,nodecanned,canned]
       benchmarks/diameter_worker.py --micro 20000
       benchmarks/diameter_worker.py --node 100 [--window 64]
       benchmarks/diameter_worker.py --canned-node 100 [--window 64] [--rounds 3]
``APPLIANCE_PURE_PYTHON=1`` runs the interpreted modules even where a compiled codec is built.
The machine is shared: numbers are noisy (±40 %); compare only within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from diameter_ro import REALM, Canned, cpu_seconds, free_port, load, request, wait_port  # noqa: I001

from appliance.config import Config
from appliance.diameter import codec as c
from appliance.diameter.apps import ro
from appliance.ocs.rating import ChargeRequest, ChargeResult, ItemResult, Outcome


class StubLedger:
    """``credit_control`` answered in memory: every item granted 1 MB, valid 600 s (no store)."""

    def __init__(self) -> None:
        self.clock = time.time
        self.policy = SimpleNamespace(validity=600)

    async def credit_control(self, request: ChargeRequest, request_type: int, candidates: tuple[str, ...],
                             redirect: str | None) -> tuple[ChargeResult, str, str]:
        items = tuple(ItemResult(Outcome.SUCCESS, i.unit, i.rating_group, i.service_identifier,
                                 granted=1_000_000, validity=600, debited=i.used or 0) for i in request.items)
        return ChargeResult(Outcome.SUCCESS, items, {"octets": 10**12}), candidates[0], ""


def stub_config(tmp: str, port: int, flush_ms: int = 0) -> Config:
    from appliance.config import load as load_config
    conf = os.path.join(tmp, "appliance.yaml")
    with open(conf, "w") as fh:
        json.dump({"data_dir": os.path.join(tmp, "data"), "run_dir": os.path.join(tmp, "run"),
                   "log_dir": os.path.join(tmp, "logs"), "node": {"realm": "ocs.bench", "host": "ocs.bench"},
                   "logs": {"acct_log_dir": os.path.join(tmp, "acct"), "auth_log_dir": os.path.join(tmp, "auth"),
                            "flush_interval_ms": flush_ms},
                   "diameter": {"address": "127.0.0.1", "port": port, "applications": ["ro"],
                                "accept_realms": [REALM]}}, fh)
    return load_config(conf)


def stub_node(cfg: Config):
    from appliance.diameter.worker import AppContext, build_node
    return build_node(cfg, AppContext(cfg, None, StubLedger()))


def canned_node(cfg: Config):
    """The stub node with its Ro handler replaced by one answering Canned.CCA (the request's ids
    patched in) without reading the request: what is left is the node's own work."""
    import struct

    from appliance.diameter.node import Request
    node = stub_node(cfg)
    cca, ids = Canned.CCA, struct.Struct("!II")

    async def on_ccr(req: Request) -> bytes:
        m = req.message
        return cca[:12] + ids.pack(m.hbh, m.e2e) + cca[20:]
    node.handlers[(ro.APP_ID, ro.CMD_CC)] = on_ccr
    return node


def serve(kind: str, port: int, tmp: str) -> None:
    from appliance.logs import translog
    from appliance.runtime import new_event_loop
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    if kind == "canned":
        loop.run_until_complete(loop.create_server(Canned, "127.0.0.1", port, reuse_port=True))
    else:
        cfg = stub_config(tmp, port)
        translog.configure(cfg, "diameter", 0)
        node = stub_node(cfg) if kind == "stub" else canned_node(cfg)
        loop.run_until_complete(node.listen("127.0.0.1", port))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


def micro(n: int) -> dict:
    """decode + Ro handler (stub ledger, log record) + answer, n times, no sockets, no event loop."""
    from appliance.diameter.events import PeerInfo
    from appliance.diameter.node import Request
    from appliance.logs import translog
    with tempfile.TemporaryDirectory() as tmp:
        cfg = stub_config(tmp, 3868, flush_ms=60_000)        # buffered: the record is built, not awaited
        translog.configure(cfg, "diameter", 0)
        node = stub_node(cfg)
        handler = node.handlers[(ro.APP_ID, ro.CMD_CC)]
        peer = PeerInfo("bench.client", REALM)
        frames = [request(f"bench.client;1;{i}", ro.UPDATE, i + 1, f"00101{i:010d}") for i in range(64)]

        def one(frame: bytes) -> bytes:
            coro = handler(Request(c.decode(frame), peer, node))
            try:
                coro.send(None)
            except StopIteration as stop:
                return stop.value
            raise RuntimeError("the handler suspended")
        for f in frames:
            one(f)
        t0, cpu0 = time.perf_counter(), time.process_time()
        for i in range(n):
            one(frames[i & 63])
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        translog.close()
        parse = ro.parse_ccr
        cpu1 = time.process_time()
        for i in range(n):
            c.decode(frames[i & 63])
        cpu2 = time.process_time()
        for i in range(n):
            parse(c.decode(frames[i & 63]))
        cpu3 = time.process_time()
    return {"mode": "micro", "compiled": c.COMPILED, "requests": n, "us_per_ccr_u": round(cpu / n * 1e6, 2),
            "wall_us": round(wall / n * 1e6, 2), "decode_us": round((cpu2 - cpu1) / n * 1e6, 2),
            "decode_parse_ccr_us": round((cpu3 - cpu2) / n * 1e6, 2)}


class _TransportStub:
    """Counts the Diameter messages written to it."""

    def __init__(self) -> None:
        self.messages, self.rest = 0, b""

    def get_extra_info(self, key: str, default: object = None) -> object:
        return ("127.0.0.1", 3868) if key == "peername" else default

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        buf, pos = self.rest + data, 0
        while len(buf) - pos >= 20:
            n = int.from_bytes(buf[pos + 1:pos + 4], "big")
            if len(buf) - pos < n:
                break
            self.messages += 1
            pos += n
        self.rest = buf[pos:]


def _bursts(kind: str, bursts: int, window: int, tmp: str) -> float:
    """CPU seconds per CCR-U, best of 5 runs of ``bursts`` bursts of ``window`` CCR-U into one connection
    of ``kind``: ``stub`` (the worker with the Ro application), ``nodecanned`` or ``canned``."""
    import struct

    from diameter_ro import HOST

    from appliance.diameter.node import Connection
    from appliance.logs import translog

    async def run() -> float:
        out = _TransportStub()
        conn: Any
        if kind == "canned":
            conn = Canned()
        else:
            cfg = stub_config(tmp, 3868)                # write-through, held records: as in production
            translog.configure(cfg, "diameter", 0)
            conn = Connection(stub_node(cfg) if kind == "stub" else canned_node(cfg), False)
        conn.connection_made(out)
        conn.data_received(c.encode(257, 0, c.FLAG_R, 0, 0, [
            c.encode_avp(c.ORIGIN_HOST, HOST), c.encode_avp(c.ORIGIN_REALM, REALM),
            c.encode_avp(c.HOST_IP_ADDRESS, "127.0.0.1"), c.encode_avp(c.VENDOR_ID, 0),
            c.encode_avp(c.PRODUCT_NAME, "bench"), c.encode_avp(c.AUTH_APPLICATION_ID, ro.APP_ID)]))
        frames = [request(f"{HOST};1;{i}", ro.UPDATE, i + 1, f"00101{i:010d}") for i in range(window)]
        ids = [0]

        async def go(k: int) -> None:
            for _ in range(k):
                burst = []
                for f in frames:                    # fresh Hop-by-Hop and End-to-End ids: no duplicates
                    ids[0] += 1
                    burst.append(f[:12] + struct.pack("!II", ids[0], ids[0]) + f[20:])
                want = out.messages + window
                conn.data_received(b"".join(burst))
                while out.messages < want:
                    await asyncio.sleep(0)
        await go(20)
        best = float("inf")
        for _ in range(5):
            t0 = time.process_time()
            await go(bursts)
            best = min(best, (time.process_time() - t0) / (bursts * window))
        if kind != "canned":
            translog.close()
        return best
    from appliance.runtime import new_event_loop
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def node_path(bursts: int, window: int) -> dict:
    """The worker path in process: bursts of ``window`` CCR-U into ``data_received``, CCAs out."""
    with tempfile.TemporaryDirectory() as tmp:
        cpu = _bursts("stub", bursts, window, tmp)
    return {"mode": "node", "compiled": c.COMPILED, "requests": bursts * window, "window": window,
            "us_per_ccr_u": round(cpu * 1e6, 2)}


def canned_path(bursts: int, window: int, rounds: int) -> list[dict]:
    """The node answering canned CCAs vs the canned server, in process, alternating ``rounds`` times."""
    rows = []
    for rnd in range(rounds):
        row: dict[str, Any] = {"mode": "canned-node", "round": rnd, "compiled": c.COMPILED, "window": window}
        for kind in ("nodecanned", "canned"):
            with tempfile.TemporaryDirectory() as tmp:
                row[f"{kind}_us"] = round(_bursts(kind, bursts, window, tmp) * 1e6, 2)
        row["canned_over_node"] = round(row["canned_us"] / row["nodecanned_us"], 3)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--sessions", type=int, default=400)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2, help="alternating stub/canned rounds")
    ap.add_argument("--micro", type=int, help="in-process loop of N CCR-U, no sockets")
    ap.add_argument("--node", type=int, help="in-process worker path: N bursts of --window CCR-U, no sockets")
    ap.add_argument("--canned-node", type=int, help="in-process: the node answering canned CCAs vs the canned server")
    ap.add_argument("--servers", default="stub,canned", help="socket mode: of stub, nodecanned, canned")
    ap.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "TMP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return
    if args.micro:
        print(json.dumps(micro(args.micro)))
        return
    if args.node:
        print(json.dumps(node_path(args.node, args.window)))
        return
    if args.canned_node:
        canned_path(args.canned_node, args.window, args.rounds)
        return
    from appliance.runtime import new_event_loop
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for kind in args.servers.split(","):
                port = free_port()
                d = os.path.join(tmp, f"{kind}{rnd}")
                os.makedirs(d)
                proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port), d])
                try:
                    wait_port(port)
                    time.sleep(0.3)
                    loop = new_event_loop()
                    cpu0, t0 = cpu_seconds([proc.pid]), time.process_time()
                    r = loop.run_until_complete(load(port, 1, args.sessions, args.window, args.seconds))
                    r["server_cpu_us"] = round((cpu_seconds([proc.pid]) - cpu0) / r["ccr_u"] * 1e6, 1)
                    r["client_cpu_us"] = round((time.process_time() - t0) / r["ccr_u"] * 1e6, 1)
                    loop.close()
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(15)
                r["server"], r["round"], r["compiled"] = kind, rnd, c.COMPILED
                print(json.dumps(r), flush=True)
                rows.append(r)
    print(f"\n{'server':>7} {'CCR-U/s':>8} {'server µs/CCR-U':>16} {'client µs/CCR-U':>16} {'both':>6}")
    for r in rows:
        print(f"{r['server']:>7} {r['per_s']:>8} {r['server_cpu_us']:>16} {r['client_cpu_us']:>16} "
              f"{r['server_cpu_us'] + r['client_cpu_us']:>6.1f}")
    print("(stub = Diameter worker + Ro with an in-memory ledger stub, log record written; nodecanned = the node "
          "answering a prebuilt CCA without reading the request; canned = the minimal server answering a prebuilt "
          "CCA; the CCR-U leaves the (initial) CCR-I out; shared machine, ±40 % noise)")


if __name__ == "__main__":
    main()
