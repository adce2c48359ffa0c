#!/usr/bin/env python3
"""SQLite vs PostgreSQL: durable reserve+debit ops/s, and Ro CCR-U/s with one and two nodes.

Part 1, the store: one operation = one session UPDATE (debit the used units, release the rest, reserve
the next grant) acknowledged after COMMIT, at 1/16/256 concurrent sessions on one asyncio loop, for
SQLite (WAL, synchronous=FULL, group commit) and PostgreSQL (psycopg pool, one transaction per
operation) -- the measuring loop is benchmarks/store_reserve_debit.py's.

Part 2, Ro: ``appliance run diameter`` node processes on the shared PostgreSQL; the load client of
benchmarks/diameter_ro.py drives CCR-U (1,000 octets used, next grant reserved) against one node, then
against two nodes at once (half the sessions each, the same 1,000 subscribers).

PostgreSQL is a private cluster started here (initdb/pg_ctl, fsync=on, synchronous_commit=on, loopback)
unless --dsn is given.  Everything runs on this one shared 2-core machine: server, nodes and client
compete for the same CPUs, so two nodes cannot show a scale-out gain here; the number shows that the
second node adds no loss of correctness and what the shared database costs.  Noisy (±40 %).

usage: benchmarks/store_backends.py [--seconds 5] [--levels 1,16,256] [--pool-size 8] [--dsn DSN]
                                    [--skip-ro] [--ro-seconds 6] [--window 64]
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from appliance.config import Config, DatabaseConfig  # noqa: E402
from appliance.ocs.charging import Charging  # noqa: E402
from appliance.ocs.rating import ChargingPolicy  # noqa: E402
from appliance.ocs.units import Unit  # noqa: E402
from appliance.store import open_store  # noqa: E402


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


storebench = _load("store_reserve_debit")
robench = _load("diameter_ro")


def fresh_schema(dsn: str) -> str:
    import psycopg
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{dsn} options='-csearch_path={schema}'"


def store_part(args, dsn: str) -> None:
    print("== reserve+debit (one session UPDATE per operation, acknowledged after a durable commit)")
    print("   (cpu us/op: this process, and the PostgreSQL backends serving it -- steadier than ops/s here)")
    print(f"{'backend':>10} {'pool':>5} {'sessions':>8} {'ops':>8} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'retries':>8} {'cpu us/op':>10} {'server us/op':>12}")
    runs = [("sqlite", 0)] + [("postgres", int(p)) for p in args.pool_size.split(",")]
    for backend, pool in runs:
        tmp = tempfile.mkdtemp(prefix="bench-backends-")
        database = DatabaseConfig(path="bench.db") if backend == "sqlite" else \
            DatabaseConfig(backend="postgres", dsn=fresh_schema(dsn), pool_size=pool)
        store = open_store(Config(data_dir=tmp, base_dir=tmp, database=database))
        storebench.seed(store)
        charging = Charging(store, ChargingPolicy({Unit.OCTETS: 0}, 600, 60))
        for sessions in (int(x) for x in args.levels.split(",")):
            c0 = getattr(store, "conflicts", 0)
            backends = server_pids(database.dsn) if backend == "postgres" else []
            cpu0, srv0 = time.process_time(), cpu_of(backends)
            count, elapsed, lat = asyncio.run(storebench.level(charging, sessions, args.seconds, args.max_ops,
                                                               f"{backend}{pool}-{sessions}"))
            cpu = (time.process_time() - cpu0) / max(count, 1) * 1e6
            srv = (cpu_of(backends) - srv0) / max(count, 1) * 1e6 if backends else None
            retries = getattr(store, "conflicts", 0) - c0
            print(f"{backend:>10} {pool or '-':>5} {sessions:>8} {count:>8} {count / elapsed:>8.0f} "
                  f"{storebench.pct(lat, .5):>8.2f} {storebench.pct(lat, .99):>8.2f} {retries:>8} {cpu:>10.0f} "
                  f"{'-' if srv is None else f'{srv:.0f}':>12}", flush=True)
        store.close()


def server_pids(dsn: str) -> list[int]:
    """The store pool's server backends, when the server runs on this machine (else none)."""
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity "
                                           "WHERE application_name = 'appliance-store'")]
    return [p for p in pids if os.path.exists(f"/proc/{p}/stat")]


def cpu_of(pids: list[int]) -> float:
    try:
        return robench.cpu_seconds(pids)
    except OSError:
        return 0.0


def start_node(tmp: str, name: str, dsn: str, pool: int) -> tuple[subprocess.Popen, int]:
    port = robench.free_port()
    root = os.path.join(tmp, name)
    os.makedirs(root)
    conf = os.path.join(root, "appliance.yaml")
    with open(conf, "w") as fh:
        json.dump({"data_dir": os.path.join(root, "data"), "run_dir": os.path.join(root, "run"),
                   "log_dir": os.path.join(root, "logs"),
                   "database": {"backend": "postgres", "dsn": dsn, "pool_size": pool},
                   "node": {"name": name, "realm": "ocs.bench", "host": f"{name}.ocs.bench"},
                   "logs": {"acct_log_dir": os.path.join(root, "acct"), "auth_log_dir": os.path.join(root, "auth")},
                   "diameter": {"address": "127.0.0.1", "port": port, "applications": ["ro"],
                                "accept_realms": [robench.REALM]}}, fh)
    env = dict(os.environ, APPLIANCE_CONFIG=conf)
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "diameter"], env=env,
                            stderr=open(os.path.join(root, "worker.log"), "w"))
    robench.wait_port(port)
    return proc, port


async def both(ports: list[int], sessions: int, window: int, seconds: float) -> list[dict]:
    return await asyncio.gather(*(robench.load(p, 1, sessions // len(ports), window // len(ports), seconds)
                                  for p in ports))


def ro_part(args, dsn: str) -> None:
    print("== Ro CCR-U/s on one shared PostgreSQL (each CCR-U: debit 1,000 octets + reserve, durable)")
    node_dsn = fresh_schema(dsn)
    tmp = tempfile.mkdtemp(prefix="bench-ro-nodes-")
    robench.seed(Config(data_dir=tmp, base_dir=tmp, database=DatabaseConfig(backend="postgres", dsn=node_dsn)))
    procs: list[subprocess.Popen] = []
    try:
        a, port_a = start_node(tmp, "node-a", node_dsn, args.node_pool)
        procs.append(a)
        b, port_b = start_node(tmp, "node-b", node_dsn, args.node_pool)
        procs.append(b)
        time.sleep(0.5)
        print(f"{'nodes':>6} {'in flight':>9} {'CCR-U':>8} {'CCR-U/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for ports in ([port_a], [port_a, port_b]):
            results = asyncio.run(both(ports, args.sessions, args.window, args.ro_seconds))
            total = sum(r["ccr_u"] for r in results)
            per_s = sum(r["per_s"] for r in results)
            p50 = max(r["p50_ms"] for r in results)
            p99 = max(r["p99_ms"] for r in results)
            errors = sum(r["errors"] for r in results)
            print(f"{len(ports):>6} {args.window:>9} {total:>8} {per_s:>8} {p50:>8} {p99:>8} {errors:>7}", flush=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--max-ops", type=int, default=200_000)
    ap.add_argument("--levels", default="1,16,256")
    ap.add_argument("--pool-size", default="8", help="PostgreSQL connections per process (comma list)")
    ap.add_argument("--dsn", default="", help="an existing PostgreSQL (default: a private cluster)")
    ap.add_argument("--skip-ro", action="store_true")
    ap.add_argument("--ro-seconds", type=float, default=6.0)
    ap.add_argument("--sessions", type=int, default=400)
    ap.add_argument("--window", type=int, default=64, help="CCR-U in flight in total (split over the nodes)")
    ap.add_argument("--node-pool", type=int, default=8, help="PostgreSQL connections per node")
    args = ap.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    cluster = None
    dsn = args.dsn
    if not dsn:
        from tests.pgfixture import LocalCluster, pg_bindir
        bindir = pg_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL server binaries: apt-get install postgresql, or give --dsn")
        cluster = LocalCluster(bindir)
        dsn = cluster.start()
    print(f"cpus={os.cpu_count()} postgres={'private cluster (fsync=on)' if cluster else 'given DSN'} "
          "(shared machine: noisy)")
    try:
        store_part(args, dsn)
        if not args.skip_ro:
            ro_part(args, dsn)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
