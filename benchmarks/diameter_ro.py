#!/usr/bin/env python3
"""CCR-U per second and p50/p99 latency: the Ro/Gy worker with durable SQLite debits, next to a
canned-answer asyncio Diameter server (the Python transport ceiling), over 1 and 4 connections.

The server runs as its own process(es) (``appliance run diameter``: uvloop, SQLite store with
synchronous=FULL group commit, as in production; ``--workers`` share the port by SO_REUSEPORT);
this process is the load client: ``--sessions`` Gy sessions spread over the connections, each
opened with a CCR-I (not measured), then CCR-U pipelined with at most ``--window`` requests in
flight per connection.  Each CCR-U debits 1,000 octets used and reserves the next grant in one
store transaction.  The canned server answers every request with a prebuilt CCA (hop-by-hop and
end-to-end ids copied), nothing decoded beyond the header.

usage: benchmarks/diameter_ro.py [--seconds 8] [--sessions 400] [--window 64] [--workers 1]
       [--connections 1,4] [--target RATE]   (--target: also an open-loop run, one CCR-U every 1/RATE s
       whatever the answers do, for the p99-at-load check)
Bounded by --seconds per scenario.  The machine is shared: numbers are noisy (±40 %).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import Config, DatabaseConfig
from appliance.diameter import codec as c
from appliance.diameter.apps import ro
from appliance.diameter.client import Service, ccr
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Product
from appliance.ocs.inventory import Service as InvService
from appliance.ocs.units import Unit

SUBSCRIBERS = 1000
HOST, REALM = "bench.client", "bench.realm"


def imsi(n: int) -> str:
    return f"00101{n % SUBSCRIBERS:010d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- servers ------------------------------------------------------------------------------------

def seed(cfg: Config) -> None:
    from appliance.store import open_store
    store = open_store(cfg)
    offer = Offer("data", (Price("data", PriceType.USAGE, amount=1, unit=Unit.OCTETS, size=1_000_000),))

    def put(ledger):
        ledger.put_offer(offer)
        for n in range(SUBSCRIBERS):
            ledger.put_product(Product(f"p{n}", "data"))
            ledger.put_service(InvService(imsi(n), f"p{n}", imsi=imsi(n)))
            ledger.add_bucket(NewBucket(f"p{n}", Unit.MONEY, 10**15))
    store.transact(put)
    store.close()


def start_durable(tmp: str, workers: int, log_flush_ms: int = 0,
                  ledger: bool = False) -> tuple[list[subprocess.Popen], int]:
    port = free_port()
    tmp = os.path.join(tmp, "ledger" if ledger else "inproc")
    os.makedirs(tmp, exist_ok=True)
    cfg = Config(data_dir=os.path.join(tmp, "data"), run_dir=os.path.join(tmp, "run"),
                 log_dir=os.path.join(tmp, "logs"), base_dir=tmp, database=DatabaseConfig(path="bench.db"))
    seed(cfg)
    conf = os.path.join(tmp, "appliance.yaml")
    with open(conf, "w") as fh:
        json.dump({"data_dir": cfg.data_dir, "run_dir": cfg.run_dir, "log_dir": cfg.log_dir,
                   "database": {"path": "bench.db"}, "node": {"realm": "ocs.bench", "host": "ocs.bench"},
                   "logs": {"acct_log_dir": os.path.join(tmp, "acct"), "auth_log_dir": os.path.join(tmp, "auth"),
                            "flush_interval_ms": log_flush_ms},
                   "diameter": {"address": "127.0.0.1", "port": port, "applications": ["ro"],
                                "accept_realms": [REALM]},
                   "processes": {"ledger": 1 if ledger else 0}}, fh)
    env = dict(os.environ, APPLIANCE_CONFIG=conf)
    first = []
    if ledger:
        first.append(subprocess.Popen([sys.executable, "-m", "appliance", "run", "ledger"], env=env,
                                      stderr=open(os.path.join(tmp, "ledger.log"), "w")))
        sock = os.path.join(cfg.run_dir, "ledger.sock")
        deadline = time.monotonic() + 30
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
    procs = first + [subprocess.Popen([sys.executable, "-m", "appliance", "run", "diameter", "--index", str(i)],
                                      env=env, stderr=open(os.path.join(tmp, f"worker{i}.log"), "w"))
                     for i in range(workers)]
    wait_port(port)
    time.sleep(0.5 * workers)
    return procs, port


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on {port} did not start")


class Canned(asyncio.Protocol):
    """The transport ceiling: frame, answer CER with a CEA and anything else with one canned CCA."""

    CEA = c.encode(257, 0, 0, 0, 0, [c.encode_avp(c.RESULT_CODE, 2001), c.encode_avp(c.ORIGIN_HOST, "canned"),
                                      c.encode_avp(c.ORIGIN_REALM, "ocs.bench"),
                                      c.encode_avp(c.HOST_IP_ADDRESS, "127.0.0.1"), c.encode_avp(c.VENDOR_ID, 0),
                                      c.encode_avp(c.PRODUCT_NAME, "canned"), c.encode_avp(c.AUTH_APPLICATION_ID, 4)])
    CCA = c.encode(272, 4, 0, 0, 0, [c.encode_avp(c.SESSION_ID, "canned;1;1"), c.encode_avp(c.RESULT_CODE, 2001),
                                     c.encode_avp(c.ORIGIN_HOST, "canned"), c.encode_avp(c.ORIGIN_REALM, "ocs.bench"),
                                     c.encode_avp(c.AUTH_APPLICATION_ID, 4), c.encode_avp(ro.CC_REQUEST_TYPE, 2),
                                     c.encode_avp(ro.CC_REQUEST_NUMBER, 1),
                                     c.encode_avp(ro.MSCC, [c.encode_avp(ro.GSU, [c.encode_avp(ro.CC_TOTAL, 10**6)]),
                                                            c.encode_avp(ro.RATING_GROUP, 1),
                                                            c.encode_avp(c.RESULT_CODE, 2001)])])

    def connection_made(self, transport):
        self.t = transport
        self.buf = bytearray()

    def data_received(self, data):
        buf = self.buf
        buf += data
        out = []
        pos = 0
        while len(buf) - pos >= 20:
            n = int.from_bytes(buf[pos + 1:pos + 4], "big")
            if len(buf) - pos < n:
                break
            ids = bytes(buf[pos + 12:pos + 20])
            tpl = self.CEA if buf[pos + 5:pos + 8] == b"\x00\x01\x01" else self.CCA
            out.append(tpl[:12] + ids + tpl[20:])
            pos += n
        del buf[:pos]
        if out:
            self.t.write(b"".join(out))


def serve_canned(port: int) -> None:
    from appliance.runtime import new_event_loop
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(loop.create_server(Canned, "127.0.0.1", port, reuse_port=True))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


def start_canned(workers: int) -> tuple[list[subprocess.Popen], int]:
    port = free_port()
    procs = [subprocess.Popen([sys.executable, __file__, "--serve-canned", str(port)]) for _ in range(workers)]
    wait_port(port)
    return procs, port


# ---- load client --------------------------------------------------------------------------------

class Conn(asyncio.Protocol):
    """One peer connection of the load client: CER, then pipelined CCRs; latency per answer."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiters: dict[int, tuple[float, asyncio.Future]] = {}
        self.opened = asyncio.get_running_loop().create_future()
        self.hbh = 1
        self.bad = 0

    def connection_made(self, transport):
        self.t = transport
        self.t.write(c.encode(257, 0, c.FLAG_R, 0, 0, [
            c.encode_avp(c.ORIGIN_HOST, HOST + str(id(self))), c.encode_avp(c.ORIGIN_REALM, REALM),
            c.encode_avp(c.HOST_IP_ADDRESS, "127.0.0.1"), c.encode_avp(c.VENDOR_ID, 0),
            c.encode_avp(c.PRODUCT_NAME, "bench"), c.encode_avp(c.AUTH_APPLICATION_ID, 4)]))

    def data_received(self, data):
        buf = self.buf
        buf += data
        pos = 0
        now = time.perf_counter()
        while len(buf) - pos >= 20:
            n = int.from_bytes(buf[pos + 1:pos + 4], "big")
            if len(buf) - pos < n:
                break
            cmd = int.from_bytes(buf[pos + 5:pos + 8], "big")
            hbh = int.from_bytes(buf[pos + 12:pos + 16], "big")
            if cmd == 257:
                if not self.opened.done():
                    self.opened.set_result(_result(bytes(buf[pos:pos + n])))
            elif cmd == 280 and buf[pos + 4] & c.FLAG_R:
                self.t.write(c.encode(280, 0, 0, hbh, int.from_bytes(buf[pos + 16:pos + 20], "big"), [
                    c.encode_avp(c.RESULT_CODE, 2001), c.encode_avp(c.ORIGIN_HOST, HOST),
                    c.encode_avp(c.ORIGIN_REALM, REALM)]))
            else:
                w = self.waiters.pop(hbh, None)
                if w is not None:
                    if _result(bytes(buf[pos:pos + n])) != 2001:
                        self.bad += 1
                    w[1].set_result(now - w[0])
            pos += n
        del buf[:pos]

    def send(self, body: bytes) -> asyncio.Future:
        self.hbh += 1
        fut = asyncio.get_running_loop().create_future()
        self.waiters[self.hbh] = (time.perf_counter(), fut)
        self.t.write(body[:12] + struct.pack("!II", self.hbh, self.hbh) + body[20:])
        return fut


def _result(msg: bytes) -> int | None:
    from appliance.diameter.node import _answer_result
    return _answer_result(msg)


def request(sid: str, rt: int, n: int, who: str) -> bytes:
    avps = ccr(sid, "ocs.bench", rt, n, who,
               services=(Service(Unit.OCTETS, 0, used=1000 if rt == ro.UPDATE else None, rating_group=1),))
    avps.insert(1, c.encode_avp(c.ORIGIN_HOST, HOST) + c.encode_avp(c.ORIGIN_REALM, REALM))
    return c.encode(272, 4, c.FLAG_R | c.FLAG_P, 0, 0, avps)


async def load(port: int, connections: int, sessions: int, window: int, seconds: float,
               rate: float | None = None) -> dict:
    loop = asyncio.get_running_loop()
    conns: list[Conn] = []
    for _ in range(connections):
        _t, conn = await loop.create_connection(Conn, "127.0.0.1", port)
        if await asyncio.wait_for(conn.opened, 10) != 2001:
            raise SystemExit("CER refused")
        conns.append(conn)
    tag = os.urandom(3).hex()
    sess = [(f"{HOST};{tag};{i}", imsi(i)) for i in range(sessions)]
    for i in range(0, sessions, window):
        await asyncio.gather(*(conns[j % connections].send(request(s, ro.INITIAL, 0, w))
                               for j, (s, w) in enumerate(sess[i:i + window], start=i)))
    latencies: list[float] = []
    numbers = [0] * sessions
    marker = c.encode_avp(ro.CC_REQUEST_NUMBER, 0x5EED5EED)
    templates = []
    for sid, who in sess:        # one prebuilt CCR-U per session; the request number is patched in
        body = bytearray(request(sid, ro.UPDATE, 0x5EED5EED, who))
        templates.append((body, body.index(marker) + 8))
    deadline = loop.time() + seconds
    start = time.perf_counter()

    async def driver(k: int) -> None:
        conn = conns[k % connections]
        mine = list(range(k, sessions, connections * window))
        i = 0
        while loop.time() < deadline and mine:
            s = mine[i % len(mine)]
            i += 1
            numbers[s] += 1
            body, at = templates[s]
            struct.pack_into("!I", body, at, numbers[s])
            latencies.append(await conn.send(bytes(body)))

    async def paced(rate: float) -> None:
        """Open loop: one CCR-U every 1/rate s whatever the answers do (sessions round-robin)."""
        sent: list[asyncio.Future] = []
        interval, due, i = 1.0 / rate, loop.time(), 0
        while loop.time() < deadline:
            s = i % sessions
            i += 1
            numbers[s] += 1
            body, at = templates[s]
            struct.pack_into("!I", body, at, numbers[s])
            fut = conns[s % connections].send(bytes(body))
            fut.add_done_callback(lambda f: latencies.append(f.result()))
            sent.append(fut)
            due += interval
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
        await asyncio.wait(sent, timeout=30)
    if rate:
        await paced(rate)
    else:
        await asyncio.gather(*(driver(k) for k in range(connections * window)))
    elapsed = time.perf_counter() - start
    for conn in conns:
        conn.t.close()
    latencies.sort()
    n = len(latencies)
    return {"connections": connections, "in_flight": connections * window, "ccr_u": n,
            "per_s": round(n / elapsed), "p50_ms": round(latencies[n // 2] * 1000, 2),
            "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2),
            "errors": sum(conn.bad for conn in conns)}


def cpu_seconds(pids: list[int], main_thread: bool = False) -> float:
    """User+system CPU of the server processes (and their threads) so far; ``main_thread``: only
    each process's main thread (the event loop: decode, Ro, CCA, log; the store writer excluded)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/task/{pid}/stat" if main_thread else f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--sessions", type=int, default=400)
    ap.add_argument("--window", type=int, default=64, help="requests in flight in total (split over connections)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", default="1,4")
    ap.add_argument("--log-flush-ms", type=int, default=0,
                    help="transaction log: 0 write-through (default, as shipped), >0 buffered")
    ap.add_argument("--target", type=float, help="also run open-loop at this CCR-U/s (p99 at load)")
    ap.add_argument("--ledger", choices=("off", "on", "both"), default="both",
                    help="charging in the worker (off), in the ledger role (on), or both in one run")
    ap.add_argument("--serve-canned", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_canned:
        serve_canned(args.serve_canned)
        return
    from appliance.runtime import new_event_loop
    counts = [int(x) for x in args.connections.split(",")]
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = [("canned", lambda: start_canned(args.workers))]
        if args.ledger in ("off", "both"):
            servers.append(("durable", lambda: start_durable(tmp, args.workers, args.log_flush_ms)))
        if args.ledger in ("on", "both"):
            servers.append(("ledger", lambda: start_durable(tmp, args.workers, args.log_flush_ms, ledger=True)))
        for name, starter in servers:
            procs, port = starter()
            try:
                for n in counts:
                    loop = new_event_loop()
                    pids = [p.pid for p in procs]
                    cpu0, loop0, t0 = cpu_seconds(pids), cpu_seconds(pids, True), time.process_time()
                    ledger0, ledger_loop0 = cpu_seconds(pids[:1]), cpu_seconds(pids[:1], True)
                    r = loop.run_until_complete(load(port, n, args.sessions, args.window // n or 1, args.seconds))
                    r["server_cpu_us"] = round((cpu_seconds(pids) - cpu0) / r["ccr_u"] * 1e6, 1)
                    r["loop_cpu_us"] = round((cpu_seconds(pids, True) - loop0) / r["ccr_u"] * 1e6, 1)
                    r["client_cpu_us"] = round((time.process_time() - t0) / r["ccr_u"] * 1e6, 1)
                    if name == "ledger":          # procs[0] is the ledger role: its share of the server CPU
                        r["ledger_cpu_us"] = round((cpu_seconds(pids[:1]) - ledger0) / r["ccr_u"] * 1e6, 1)
                        r["ledger_loop_cpu_us"] = round((cpu_seconds(pids[:1], True) - ledger_loop0)
                                                        / r["ccr_u"] * 1e6, 1)
                    loop.close()
                    r["server"] = name
                    print(json.dumps(r), flush=True)
                    results.setdefault(name, []).append(r)
                if args.target and name != "canned":
                    loop = new_event_loop()
                    r = loop.run_until_complete(load(port, counts[-1], args.sessions, args.window // counts[-1] or 1,
                                                     args.seconds, rate=args.target))
                    loop.close()
                    r["server"], r["open_loop_target"] = name, args.target
                    print(json.dumps(r), flush=True)
            finally:
                for p in procs:
                    p.send_signal(signal.SIGTERM)
                for p in procs:
                    try:
                        p.wait(15)
                    except subprocess.TimeoutExpired:
                        p.kill()
    print(f"\n{'connections':>11} {'canned/s':>9} {'durable/s':>10} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'server CPU us/CCR-U':>20} {'of it loop thread':>18}")
    for name in [n for n in ("durable", "ledger") if n in results]:
        for can, dur in zip(results["canned"], results[name]):
            print(f"{can['connections']:>11} {can['per_s']:>9} {dur['per_s']:>10} {dur['per_s'] / can['per_s']:>6.2f} "
                  f"{dur['p50_ms']:>7} {dur['p99_ms']:>7} {dur['server_cpu_us']:>20} {dur['loop_cpu_us']:>18}  {name}")
    print("(durable = appliance diameter worker, Ro app, SQLite synchronous=FULL group commit, charging in the "
          "worker; ledger = the same with charging in the ledger role (own process); loop thread = the "
          "processes' main threads; shared machine, ±40 % noise)")


if __name__ == "__main__":
    main()
