#!/usr/bin/env python3
"""What shards and forwarding cost or give: credit-control UPDATEs through the front end's client.

Modes (each a fresh store, seeded with --subscribers products, --sessions Ro sessions spread over
them, credit-control INITIAL each not measured, then UPDATEs with at most --window in flight for
--seconds; one front-end client in this process):

  sqlite-1     one ledger, ledger.shards 1 (today's path: the client on its Unix socket)
  sqlite-2     two ledgers on one node, ledger.shards 2, the front end's router (ledger/routing.py)
  pg-1         PostgreSQL, one ledger, ledger.shards 1 (Unix socket)
  pg-1-pool8   the same with database.pool_size 8 (as many connections as pg-2's two ledgers)
  pg-2         PostgreSQL, two ledgers on one node, ledger.shards 2, the router
  pg-2nodes    PostgreSQL, two nodes (ledger.nodes 2) holding one of 2 shards each; node B's front
               end: half its own ledger's (Unix socket), half forwarded to A's over TCP
  pg-forward   PostgreSQL, node A's ledger holds the shard; the front end is node B's (its own ledger
               holds nothing): every operation forwarded over TCP (mutual HMAC at connect)

--rounds N alternates the chosen modes N times (A B A B ...) and prints each run and the ratio of
every mode to the first one of the same round.  PostgreSQL: a private cluster (tests/pgfixture.py's
LocalCluster, fsync on) unless --dsn.  Loopback only; every phase bounded by --seconds.

usage: benchmarks/ledger_shards.py [--modes sqlite-1,sqlite-2] [--rounds 3] [--seconds 5]
       [--sessions 128] [--window 128] [--subscribers 1000] [--dsn DSN]
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
import uuid
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import Config
from appliance.config import load as load_config
from appliance.ledger import protocol
from appliance.ledger.remote import RemoteLedger
from appliance.ledger.routing import sharded_remote
from appliance.ledger.server import sharded, socket_path
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Product, Service
from appliance.ocs.rating import Action, ChargeRequest, UsageItem
from appliance.ocs.units import Unit

SECRET = "benchmark-secret-0123456789abcdef"


def imsi(n: int) -> str:
    return f"00101{n:010d}"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node(root: Path, name: str, shards: int, ledgers: int, dsn: str | None, tcp: bool, pool: int = 4,
         **more: int) -> Config:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    ledger: dict = {"shards": shards, "lease_interval": 0.2, **more}
    if tcp:
        ledger.update(listen="127.0.0.1", port=free_port(), secret=SECRET)
    doc: dict = {"data_dir": str(root / "data"), "run_dir": str(d / "run"), "log_dir": str(d / "logs"),
                 "node": {"name": name}, "processes": {"ledger": ledgers, "ledger_timeout": 30}, "ledger": ledger}
    if dsn:
        doc["database"] = {"backend": "postgres", "dsn": dsn, "pool_size": pool}
    (d / "appliance.yaml").write_text(json.dumps(doc))
    return load_config(str(d / "appliance.yaml"))


def seed(cfg: Config, subscribers: int) -> None:
    from appliance.store import open_store
    store = open_store(cfg)
    offer = Offer("data", (Price("data", PriceType.USAGE, amount=1, unit=Unit.OCTETS, size=1_000_000),))
    store.transact(lambda l: l.put_offer(offer))

    def put(l):
        l.put_subscribers([Product(f"p{n}", "data") for n in range(subscribers)],
                          [Service(imsi(n), f"p{n}", imsi=imsi(n)) for n in range(subscribers)])
        l.replace_buckets([NewBucket(f"p{n}", Unit.MONEY, 10**15, None, "initial") for n in range(subscribers)])
    store.transact(put)
    store.close()


def start(cfg: Config, index: int) -> subprocess.Popen:
    env = dict(os.environ, APPLIANCE_CONFIG=cfg.source)
    log = open(Path(cfg.source).parent / f"ledger-{index}.log", "w")    # noqa: SIM115 -- the child's
    p = subprocess.Popen([sys.executable, "-m", "appliance", "run", "ledger", "--index", str(index)], env=env,
                         stderr=log)
    sock = socket_path(cfg, index)
    deadline = time.monotonic() + 30
    while not sock.exists():
        if time.monotonic() > deadline or p.poll() is not None:
            raise SystemExit(f"ledger did not start: see {log.name}")
        time.sleep(0.02)
    return p


def wait_owned(cfg: Config, shards: int) -> None:
    from appliance.store.leases import read_owners
    deadline = time.monotonic() + 30
    while len(read_owners(cfg)) < shards:
        if time.monotonic() > deadline:
            raise SystemExit("shards without an owner")
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(client, args, pids: list[int]) -> dict:
    sessions = [f"bench;{uuid.uuid4().hex[:8]};{n}" for n in range(args.sessions)]
    step = max(1, args.subscribers // args.sessions)
    subs = [imsi((n * step) % args.subscribers) for n in range(args.sessions)]
    now = int(time.time())

    def wire(n: int, action: Action, seq: int) -> tuple:
        items = (UsageItem(Unit.OCTETS, 1_000_000, 1000 if action is Action.UPDATE else 0, 1, None),)
        return protocol.request_to_wire(ChargeRequest(subs[n], sessions[n], action, items, f"{sessions[n]}:{seq}",
                                                      now=now))
    await asyncio.gather(*[client.call("credit_control", (wire(n, Action.START, 0), 1, (subs[n],), None))
                           for n in range(args.sessions)])
    seq = [1] * args.sessions
    done = 0
    stop_at = time.monotonic() + args.seconds
    cpu0 = sum(cpu_seconds(p) for p in pids)
    own0 = time.process_time()
    t0 = time.monotonic()

    async def one(n: int) -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            s = seq[n]
            seq[n] += 1
            await client.call("credit_control", (wire(n, Action.UPDATE, s), 2, (), None))
            done += 1
    await asyncio.gather(*[one(n % args.sessions) for n in range(min(args.window, args.sessions))])
    wall = time.monotonic() - t0
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    return {"ops_s": round(done / wall), "ledger_cpu_us": round(cpu / max(done, 1) * 1e6, 1),
            "client_cpu_us": round((time.process_time() - own0) / max(done, 1) * 1e6, 1)}


def run_mode(mode: str, args, dsn: str | None) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
    pg = mode.startswith("pg")
    if pg:
        import psycopg
        schema = f"b_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        used_dsn = f"{dsn} options='-csearch_path={schema}'"
    else:
        used_dsn = None
    procs: list[subprocess.Popen] = []
    try:
        if mode in ("sqlite-1", "pg-1", "pg-1-pool8"):
            a = node(root, "a", 1, 1, used_dsn, False, 8 if mode == "pg-1-pool8" else 4)
            seed(a, args.subscribers)
            procs.append(start(a, 0))
            front = a
        elif mode in ("sqlite-2", "pg-2"):
            a = node(root, "a", 2, 2, used_dsn, False)
            seed(a, args.subscribers)
            procs += [start(a, 0), start(a, 1)]
            wait_owned(a, 2)
            front = a
        elif mode == "pg-forward":
            a = node(root, "a", 1, 1, used_dsn, True)
            b = node(root, "b", 1, 1, used_dsn, True)
            seed(a, args.subscribers)
            procs.append(start(a, 0))
            wait_owned(a, 1)
            procs.append(start(b, 0))
            front = b
        elif mode == "pg-2nodes":
            a = node(root, "a", 2, 1, used_dsn, True, nodes=2, node_index=0)
            b = node(root, "b", 2, 1, used_dsn, True, nodes=2, node_index=1)
            seed(a, args.subscribers)
            procs += [start(a, 0), start(b, 0)]
            wait_owned(a, 2)
            front = b
        else:
            raise SystemExit(f"unknown mode {mode}")
        client = sharded_remote(front) if sharded(front) else RemoteLedger(str(socket_path(front)), 30)

        async def go():
            try:
                return await load(client, args, [p.pid for p in procs])
            finally:
                client.close()
        out = asyncio.run(go())
        if mode in ("pg-forward", "pg-2nodes"):
            out["forwarded"] = client.forwarded
        return out
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        if pg:
            import psycopg
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modes", default="sqlite-1,sqlite-2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--sessions", type=int, default=128)
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--dsn", default="")
    args = ap.parse_args()
    modes = args.modes.split(",")
    cluster = None
    dsn = args.dsn or None
    if any(m.startswith("pg") for m in modes) and dsn is None:
        from tests.pgfixture import LocalCluster, pg_bindir
        cluster = LocalCluster(pg_bindir())  # type: ignore[arg-type]
        dsn = cluster.start()
    try:
        for r in range(args.rounds):
            first = None
            for mode in modes:
                out = run_mode(mode, args, dsn)
                first = first or out["ops_s"]
                print(json.dumps({"round": r, "mode": mode, **out, "ratio_to_first": round(out["ops_s"] / first, 3)}),
                      flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
