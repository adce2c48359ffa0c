#!/usr/bin/env python3
"""RADIUS load: PAP Access-Request/s and accounting Interim-Update/s (durable debits), with p50/p99,
against the appliance's radius workers AND FreeRADIUS 3.2 (PAP from a users file) in the same run.

    python3 benchmarks/radius_load.py [--requests 30000] [--window 512] [--workers 2] [--no-freeradius]

Everything runs on loopback in a temporary directory: the script seeds subscribers in a fresh
SQLite store, starts ``appliance run radius`` workers (SO_REUSEPORT) and ``freeradius -f`` with its
own config directory under /tmp on other ports, then drives both with the same asyncio client
(uvloop when installed).  Bounded: a fixed number of requests per phase and a time limit.
Both servers get a 4 MiB socket receive buffer (the appliance sets SO_RCVBUF itself; FreeRADIUS
``recv_buff``): with the default 208 KiB FreeRADIUS drops ~1 % of the first burst, and the client
holds those Identifiers until its 3 s timeout, running FreeRADIUS with a smaller window.
The machine is shared and has 2 cores (client, servers and other people's work compete):
numbers are noisy (±40 %), compare only within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.radius import packet as rp

SECRET = b"testing123"
USERS = 1000
PASSWORD = "bench-pw"
PRELOAD = False


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------- packets

def pap_request(ident: int, user: bytes) -> bytes:
    auth = os.urandom(16)
    attrs = rp.encode_attributes([(rp.USER_NAME, user),
                                  (rp.USER_PASSWORD, rp.encrypt_password(PASSWORD.encode(), SECRET, auth)),
                                  (rp.NAS_IP_ADDRESS, b"\x7f\x00\x00\x01")])
    body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + attrs
    raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, ident, 20 + len(body)) + auth + body)
    raw[22:38] = hmac.new(SECRET, bytes(raw), hashlib.md5).digest()
    return bytes(raw)


def acct_request(ident: int, status: int, user: bytes, sid: bytes, octets: int, seconds: int) -> bytes:
    attrs = [(rp.ACCT_STATUS_TYPE, status.to_bytes(4, "big")), (rp.USER_NAME, user), (rp.ACCT_SESSION_ID, sid),
             (rp.NAS_IP_ADDRESS, b"\x7f\x00\x00\x01"), (rp.ACCT_INPUT_OCTETS, (octets & 0xFFFFFFFF).to_bytes(4, "big")),
             (rp.ACCT_INPUT_GIGAWORDS, (octets >> 32).to_bytes(4, "big")),
             (rp.ACCT_SESSION_TIME, seconds.to_bytes(4, "big"))]
    return rp.encode_request(rp.ACCOUNTING_REQUEST, ident, attrs, SECRET, with_message_authenticator=False)


# ----------------------------------------------------------------------------------- client

class Lane(asyncio.DatagramProtocol):
    """One socket with up to 256 outstanding Identifiers."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, float] = {}
        self.free = list(range(256))
        random.shuffle(self.free)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 20:
            return
        sent = self.pending.pop(data[1], None)
        if sent is None:
            return
        self.free.append(data[1])
        self.runner.done(data[0], time.perf_counter() - sent)


class Runner:
    def __init__(self, port: int, make, total: int, window: int, lanes: int, timeout: float = 3.0) -> None:
        self.port, self.make, self.total, self.window = port, make, total, window
        self.lanes_n, self.timeout = lanes, timeout
        self.sent = self.answered = self.lost = 0
        self.codes: dict[int, int] = {}
        self.latencies: list[float] = []
        self.wake = asyncio.Event()

    def done(self, code: int, latency: float) -> None:
        self.answered += 1
        self.codes[code] = self.codes.get(code, 0) + 1
        self.latencies.append(latency)
        self.wake.set()

    async def run(self, limit: float) -> dict[str, float]:
        loop = asyncio.get_running_loop()
        lanes: list[Lane] = []
        for _ in range(self.lanes_n):
            _t, lane = await loop.create_datagram_endpoint(lambda: Lane(self), remote_addr=("127.0.0.1", self.port))
            lanes.append(lane)
        start = time.perf_counter()
        deadline = start + limit
        i = 0
        while (self.answered + self.lost) < self.total and time.perf_counter() < deadline:
            inflight = sum(len(lane.pending) for lane in lanes)
            while self.sent < self.total and inflight < self.window:
                lane = lanes[i % len(lanes)]
                i += 1
                if not lane.free:
                    break
                ident = lane.free.pop()
                lane.pending[ident] = time.perf_counter()
                assert lane.transport is not None
                lane.transport.sendto(self.make(ident, self.sent))
                self.sent += 1
                inflight += 1
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), 0.05)
            except TimeoutError:
                pass
            now = time.perf_counter()
            for lane in lanes:                           # expire lost requests (no retransmission)
                for ident, t0 in list(lane.pending.items()):
                    if now - t0 > self.timeout:
                        del lane.pending[ident]
                        lane.free.append(ident)
                        self.lost += 1
        elapsed = time.perf_counter() - start
        for lane in lanes:
            assert lane.transport is not None
            lane.transport.close()
        lat = sorted(self.latencies) or [0.0]
        return {"rate": self.answered / elapsed, "p50_ms": lat[len(lat) // 2] * 1000,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, "answered": self.answered,
                "lost": self.lost, "elapsed": elapsed, "codes": dict(self.codes), "lat": lat}


LANES = 8          # client sockets per load process (--lanes; 1: one NAS socket)
SPREAD = ""        # radius.spread for the appliance (--spread; empty: its default)
CLEAR_SECRETS = False   # --clear-secrets: database.secret_key_file "" (passwords stored in clear)


def drive(port: int, make, total: int, window: int, lanes: int | None = None, limit: float = 120.0) -> dict:
    lanes = lanes or LANES
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(Runner(port, make, total, window, lanes).run(limit))
    finally:
        loop.close()


def wait_ready(port: int, limit: float = 30.0) -> None:
    """Status-Server (RFC 5997) until answered."""
    deadline = time.monotonic() + limit
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        while time.monotonic() < deadline:
            auth = os.urandom(16)
            body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16)
            raw = bytearray(struct.pack("!BBH", rp.STATUS_SERVER, 1, 20 + len(body)) + auth + body)
            raw[22:38] = hmac.new(SECRET, bytes(raw), hashlib.md5).digest()
            s.sendto(bytes(raw), ("127.0.0.1", port))
            try:
                s.recv(4096)
                return
            except TimeoutError:
                continue
    raise SystemExit(f"server on port {port} did not answer Status-Server")


# ----------------------------------------------------------------------------------- servers

def start_appliance(tmp: Path, workers: int, logs: str = "", profile: bool = False, cache_ttl: float | None = None,
                    ledger: bool = False) -> tuple[list[subprocess.Popen], int, int]:
    from appliance.config import Config, DatabaseConfig
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.catalog import Offer, Price, PriceType
    from appliance.ocs.inventory import Credentials, Product, Service
    from appliance.ocs.units import Unit
    from appliance.store import open_store
    auth, acct = free_udp_port(), free_udp_port()
    (tmp / "data").mkdir()
    conf = tmp / "appliance.yaml"
    conf.write_text(f"data_dir: {tmp}/data\nrun_dir: {tmp}/run\nlog_dir: {tmp}/logs\nlog_level: WARNING\n"
                    + ("database: {path: appliance.db, secret_key_file: ''}\n" if CLEAR_SECRETS
                       else "database: {path: appliance.db}\n")
                    + f"radius:\n  address: 127.0.0.1\n  auth_port: {auth}\n  acct_port: {acct}\n"
                    + (f"  spread: {SPREAD}\n" if SPREAD else "")
                    + f"  clients:\n    - {{address: 127.0.0.1, secret: {SECRET.decode()}}}\n"
                    + (f"  auth_cache_ttl: {cache_ttl}\n" if cache_ttl is not None else "")
                    + (f"logs:\n  {logs}\n" if logs else "")
                    + ("  auth_cache_preload: true\n" if PRELOAD else "")
                    + ("processes:\n  ledger: 1\n" if ledger else ""))
    cfg = Config(data_dir=f"{tmp}/data", run_dir=f"{tmp}/run", base_dir=str(tmp),
                 database=DatabaseConfig(secret_key_file="") if CLEAR_SECRETS else DatabaseConfig())
    store = open_store(cfg)
    offer = Offer("bench", (Price("data", PriceType.USAGE, amount=1_000, unit=Unit.OCTETS, size=1_000_000),))

    def seed(ledger, first: int, last: int) -> None:
        if first == 0:
            ledger.put_offer(offer)
        ledger.put_subscribers([Product(f"p{i}", "bench") for i in range(first, last)],
                               [Service(f"s{i}", f"p{i}", nai=f"user{i}@bench",
                                        credentials=Credentials(password=PASSWORD)) for i in range(first, last)])
        ledger.replace_buckets([NewBucket(f"p{i}", Unit.MONEY, 10 ** 15) for i in range(first, last)])
    for first in range(0, USERS, 10_000):
        store.transact(lambda ledger, first=first: seed(ledger, first, min(USERS, first + 10_000)))
    store.close()
    env = dict(os.environ, APPLIANCE_CONFIG=str(conf))
    prof = ["-m", "cProfile", "-o", str(tmp / "worker{i}.prof")] if profile else []
    first = []
    if ledger:                                    # accounting charged by the ledger role
        first.append(subprocess.Popen([sys.executable, *[a.format(i="-ledger") for a in prof], "-m", "appliance",
                                       "-c", str(conf), "run", "ledger"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=open(tmp / "ledger.log", "wb")))  # noqa: SIM115
        deadline = time.monotonic() + 30
        while not (tmp / "run" / "ledger.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    procs = first + [subprocess.Popen([sys.executable, *[a.format(i=i) for a in prof], "-m", "appliance", "-c",
                                       str(conf), "run", "radius", "--index", str(i)],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / f"radius{i}.log", "wb"))  # noqa: SIM115
             for i in range(workers)]
    wait_ready(auth)
    if PRELOAD:                                   # every worker holds every subscriber's decision
        from appliance.telemetry import metrics
        started, deadline = time.monotonic(), time.monotonic() + 600
        while metrics.read_all(tmp / "run").get("radius.auth.preload_done", 0) < workers:
            if time.monotonic() > deadline:
                raise SystemExit("preload did not finish")
            time.sleep(0.2)
        print(f"preloaded {metrics.read_all(tmp / 'run').get('radius.auth.preloaded', 0)} decisions over "
              f"{workers} workers in {time.monotonic() - started:.1f} s, "
              f"CPU {cpu_seconds([p.pid for p in procs]):.1f} s (all processes since start)")
    return procs, auth, acct


FREERADIUS_CONF = """
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = {tmp}
sbindir = /usr/sbin
logdir = {tmp}/log
raddbdir = {tmp}
radacctdir = {tmp}/radacct
name = freeradius
confdir = {tmp}
modconfdir = {tmp}
run_dir = {tmp}/run
db_dir = {tmp}
libdir = /usr/lib/freeradius
pidfile = {tmp}/run/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {{
    destination = files
    file = {tmp}/log/radius.log
    auth = no
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = yes
}}
thread pool {{
    start_servers = 8
    max_servers = 32
    min_spare_servers = 3
    max_spare_servers = 16
    max_requests_per_server = 0
}}
client localhost {{
    ipaddr = 127.0.0.1
    secret = {secret}
    require_message_authenticator = yes
}}
modules {{
    pap {{
    }}
    files {{
        filename = {tmp}/users
    }}
    detail {{
        filename = {tmp}/radacct/detail
        permissions = 0600
    }}
}}
server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {auth}
        recv_buff = 4194304
    }}
    listen {{
        type = acct
        ipaddr = 127.0.0.1
        port = {acct}
        recv_buff = 4194304
    }}
    authorize {{
        files
        pap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
    }}
    preacct {{
    }}
    accounting {{
        detail
    }}
    post-auth {{
    }}
}}
"""


def start_freeradius(tmp: Path) -> tuple[subprocess.Popen, int, int] | None:
    exe = shutil.which("freeradius") or shutil.which("radiusd")
    if exe is None:
        print("freeradius not installed: skipping the reference run")
        return None
    auth, acct = free_udp_port(), free_udp_port()
    for sub in ("log", "run", "radacct"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    (tmp / "radiusd.conf").write_text(FREERADIUS_CONF.format(tmp=tmp, secret=SECRET.decode(), auth=auth, acct=acct))
    (tmp / "users").write_text("".join(f'user{i}@bench Cleartext-Password := "{PASSWORD}"\n' for i in range(USERS)))
    proc = subprocess.Popen([exe, "-f", "-d", str(tmp)], stdout=subprocess.DEVNULL,
                            stderr=open(tmp / "stderr.log", "wb"))  # noqa: SIM115
    try:
        wait_ready(auth)
    except SystemExit:
        proc.kill()
        print("freeradius did not start; see", tmp / "stderr.log", (tmp / "stderr.log").read_text()[-2000:])
        return None
    return proc, auth, acct


def cpu_times(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of the processes (all their threads) from /proc/<pid>/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11]) / tick
        system += int(fields[12]) / tick
    return user, system


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of the processes (all their threads) from /proc/<pid>/stat."""
    return sum(cpu_times(pids))


def server_latency(run_dir: Path | None) -> dict[str, int]:
    """The appliance's own lat.radius.access_request cells (request received -> answer sent)."""
    if run_dir is None:
        return {}
    from appliance.telemetry import metrics
    return {k: v for k, v in metrics.read_all(run_dir).items() if k.startswith("lat.radius.access_request.")}


def latency_summary(before: dict[str, int], after: dict[str, int]) -> str:
    """p50 / p99 bucket bounds and the mean of the server-side histogram between two readings."""
    from appliance.telemetry import metrics
    bounds = metrics.LATENCY_BOUNDS_US
    cells = [after.get(f"lat.radius.access_request.b{i}", 0) - before.get(f"lat.radius.access_request.b{i}", 0)
             for i in range(len(bounds) + 1)]
    total = sum(cells)
    if not total:
        return ""
    mean = (after.get("lat.radius.access_request.sum_us", 0) - before.get("lat.radius.access_request.sum_us", 0))

    def bound(q: float) -> str:
        running = 0
        for i, n in enumerate(cells):
            running += n
            if running >= q * total:
                return f"<= {bounds[i]} us" if i < len(bounds) else f"> {bounds[-1]} us"
        return "?"
    return f"server-side latency p50 {bound(0.5)}, p99 {bound(0.99)}, mean {mean / total:.0f} us"


def measured_pap(pids: list[int], port: int, total: int, window: int, clients: int,
                 run_dir: Path | None = None) -> dict:
    """The PAP phase plus the servers' CPU µs per answered Access-Request (steadier than the rate),
    split into user and system time, and (the appliance) its own server-side latency histogram."""
    before, lat_before = cpu_times(pids), server_latency(run_dir)
    res = pap_phase(port, total, window, clients)
    after, lat_after = cpu_times(pids), server_latency(run_dir)
    n = max(res["answered"], 1)
    res["cpu_us"] = (sum(after) - sum(before)) * 1e6 / n
    res["user_us"], res["sys_us"] = (after[0] - before[0]) * 1e6 / n, (after[1] - before[1]) * 1e6 / n
    res["server_latency"] = latency_summary(lat_before, lat_after)
    return res


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


# ----------------------------------------------------------------------------------- phases

def _pap_child(port: int, total: int, window: int, offset: int, out: object, sweep: bool = False) -> None:
    users = [f"user{i}@bench".encode() for i in range(USERS)]
    if sweep:                                          # every subscriber once, in order
        out.put(drive(port, lambda ident, n: pap_request(ident, users[n % USERS]), total, window))  # type: ignore[attr-defined]
        return
    pick = random.Random(offset).randrange            # users spread over all subscribers
    out.put(drive(port, lambda ident, n: pap_request(ident, users[pick(USERS)]), total, window))  # type: ignore[attr-defined]


def rss_mib(pids: list[int]) -> float:
    """Resident memory of these processes, MiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def pap_phase(port: int, total: int, window: int, clients: int = 1, sweep: bool = False) -> dict:
    """PAP load from ``clients`` processes (one asyncio client each), merged."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_pap_child, args=(port, total // clients, max(1, window // clients),
                                                     i * 997, queue, sweep)) for i in range(clients)]
    for child in children:
        child.start()
    parts = [queue.get(timeout=300) for _ in children]
    for child in children:
        child.join(10)
    lat = sorted(x for part in parts for x in part["lat"]) or [0.0]
    codes: dict[int, int] = {}
    for part in parts:
        for code, n in part["codes"].items():
            codes[code] = codes.get(code, 0) + n
    answered = sum(p["answered"] for p in parts)
    elapsed = max(p["elapsed"] for p in parts)
    return {"rate": answered / elapsed, "p50_ms": lat[len(lat) // 2] * 1000,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, "answered": answered,
            "lost": sum(p["lost"] for p in parts), "elapsed": elapsed, "codes": codes}


def acct_phase(port: int, total: int, window: int, sessions: int = 500) -> tuple[dict, dict]:
    users = [f"user{i % USERS}@bench".encode() for i in range(sessions)]
    sids = [f"bench-{os.getpid()}-{i}".encode() for i in range(sessions)]
    start = drive(port, lambda ident, n: acct_request(ident, rp.ACCT_START, users[n % sessions], sids[n % sessions],
                                                      0, 0), sessions, min(window, sessions))
    counters = [0] * sessions

    def interim(ident: int, n: int) -> bytes:
        k = n % sessions
        counters[k] += 1
        return acct_request(ident, rp.ACCT_INTERIM, users[k], sids[k], counters[k] * 1_500_000, counters[k] * 10)
    return start, drive(port, interim, total, window)


def _acct_child(port: int, total: int, window: int, out: object) -> None:
    out.put(acct_phase(port, total, window, sessions=200)[1])  # type: ignore[attr-defined]


def show(name: str, res: dict) -> None:
    print(f"  {name:<34} {res['rate']:>9.0f}/s  p50 {res['p50_ms']:6.2f} ms  p99 {res['p99_ms']:7.2f} ms  "
          f"answered {res['answered']} lost {res['lost']} codes {res['codes']}"
          + (f"  server CPU {res['cpu_us']:.0f} us/req (user {res['user_us']:.0f}, sys {res['sys_us']:.0f})"
             if "cpu_us" in res else "")
          + (f"\n{'':36} {res['server_latency']}" if res.get("server_latency") else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=30_000, help="PAP requests per server")
    ap.add_argument("--interims", type=int, default=10_000, help="Interim-Updates per server")
    ap.add_argument("--window", type=int, default=512, help="requests in flight")
    ap.add_argument("--workers", type=int, default=2, help="appliance radius workers")
    ap.add_argument("--clients", type=int, default=2, help="load-generating processes for PAP")
    ap.add_argument("--users", type=int, default=1000, help="subscribers (the same users in FreeRADIUS's users file); "
                    "PAP requests spread over all of them")
    ap.add_argument("--lanes", type=int, default=8, help="client sockets per load process (1 with --clients 1: "
                    "one NAS socket)")
    ap.add_argument("--no-freeradius", action="store_true")
    ap.add_argument("--logs", default="", help='extra "logs:" setting for the appliance, e.g. "auth_log: false"')
    ap.add_argument("--cache-ttl", type=float, help="radius.auth_cache_ttl for the appliance (default: its default)")
    ap.add_argument("--profile", action="store_true", help="run the workers under cProfile, print worker 0's top")
    ap.add_argument("--pause", action="store_true", help="wait for Enter before the PAP phase (attach py-spy)")
    ap.add_argument("--no-acct", action="store_true", help="PAP only")
    ap.add_argument("--spread", default="", choices=("", "none", "auth", "all"),
                    help="radius.spread for the appliance (default: its default)")
    ap.add_argument("--clear-secrets", action="store_true", help="passwords stored in clear (no secret key file)")
    ap.add_argument("--mixed", action="store_true", help="the appliance's PAP phase runs while another process "
                    "sends Interim-Updates (durable debits) to it: do Access-Requests wait behind writes?")
    ap.add_argument("--ledger", action="store_true", help="accounting charged by the ledger role (processes.ledger: 1)")
    ap.add_argument("--preload", action="store_true", help="radius.auth_cache_preload: every worker reads every "
                    "subscriber's decision at start (measured: the wait and the CPU)")
    ap.add_argument("--warm", action="store_true", help="before each server's measured PAP phase, one Access-Request "
                    "per subscriber (the steady state of a cache filled on first use), timed and shown apart")
    args = ap.parse_args()
    global USERS, LANES, SPREAD, CLEAR_SECRETS, PRELOAD
    USERS, LANES, SPREAD, CLEAR_SECRETS = args.users, args.lanes, args.spread, args.clear_secrets
    PRELOAD = args.preload
    tmp = Path(tempfile.mkdtemp(prefix="radius-bench-"))
    results: dict[str, dict] = {}
    procs: list[subprocess.Popen] = []
    try:
        (tmp / "appliance").mkdir()
        procs, auth, acct = start_appliance(tmp / "appliance", args.workers, args.logs, args.profile,
                                             args.cache_ttl, args.ledger)
        workers = [p.pid for p in procs[-args.workers:]]
        fr = None if args.no_freeradius else start_freeradius(tmp / "freeradius")
        if fr is not None:
            procs.append(fr[0])
        print(f"RADIUS load, {os.cpu_count()} CPUs, window {args.window}, {args.workers} appliance workers, "
              f"{args.clients} PAP client processes, load average {os.getloadavg()[0]:.1f} "
              f"(shared machine: noisy, compare within one run)")
        pap_phase(auth, 2000, args.window)                       # warm-up (imports, caches)
        if args.warm:
            results["appliance sweep"] = measured_pap(workers, auth, USERS, args.window, 1)
            show(f"appliance PAP, each of {USERS} once", results["appliance sweep"])
        if args.pause:
            input(f"workers {workers} on auth port {auth}: press Enter to continue ")
        writer = None
        if args.mixed:                                          # accounting writes beside the PAP phase
            import multiprocessing as mp
            ctx = mp.get_context("fork")
            mixed_out = ctx.Queue()
            writer = ctx.Process(target=_acct_child, args=(acct, args.interims, 64, mixed_out))
            writer.start()
            time.sleep(1.0)                                     # its Starts done, Interims flowing
        results["appliance PAP"] = measured_pap(workers, auth, args.requests, args.window,
                                                args.clients, tmp / "appliance" / "run")
        show("appliance PAP Access-Request" + (" (+Interims)" if writer else ""), results["appliance PAP"])
        print(f"{'':36} workers' resident memory {rss_mib(workers):.0f} MiB")
        if writer is not None:
            show("  Interims beside it", mixed_out.get(timeout=300))
            writer.join(10)
        if fr is not None:
            pap_phase(fr[1], 2000, args.window)
            if args.warm:
                show(f"freeradius PAP, each of {USERS} once", measured_pap([fr[0].pid], fr[1], USERS, args.window, 1))
            results["freeradius PAP"] = measured_pap([fr[0].pid], fr[1], args.requests, args.window, args.clients)
            show("freeradius PAP Access-Request", results["freeradius PAP"])
        if not args.no_acct:
            _s, results["appliance interim"] = acct_phase(acct, args.interims, args.window)
            show("appliance Interim (durable debit)", results["appliance interim"])
        if fr is not None and not args.no_acct:
            _s, results["freeradius interim"] = acct_phase(fr[2], args.interims, args.window)
            show("freeradius Interim (detail file)", results["freeradius interim"])
        if fr is not None:
            ratio = results["appliance PAP"]["rate"] / max(results["freeradius PAP"]["rate"], 1e-9)
            print(f"  PAP ratio appliance/freeradius: {ratio:.2f}")
    finally:
        stop(procs)
        for name in ("worker0", "worker-ledger"):
            if args.profile and (tmp / "appliance" / f"{name}.prof").exists():
                import pstats
                print(f"--- {name}")
                pstats.Stats(str(tmp / "appliance" / f"{name}.prof")).sort_stats("tottime").print_stats(25)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
