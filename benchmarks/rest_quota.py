"""POST /quota throughput and latency over loopback (bounded: N requests, C connections).

Starts the REST server in-process on a free port (uvloop when installed) with a seeded subscriber,
authenticates once with a bearer token, and drives it with an aiohttp client.  The machine is
shared with other engineers' work: the numbers are noisy (±40 % run to run).

    python3 benchmarks/rest_quota.py [--requests 5000] [--connections 32]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import dataclasses
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def run_client(url: str, path: str, n: int, connections: int, imsis: list[str],
               timeout: float) -> tuple[list[float], dict[int, int], float]:
    """The load client (own process): n requests over ``connections`` keep-alive connections."""
    import aiohttp

    async def go() -> tuple[list[float], dict[int, int], float]:
        latencies: list[float] = []
        codes: dict[int, int] = {}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as s:
            basic = "Basic " + base64.b64encode(b"bench:bench-password").decode()
            async with s.post(f"{url}/auth/token", headers={"Authorization": basic}) as r:
                token = (await r.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            counter = iter(range(n))

            async def worker() -> None:
                for i in counter:
                    t0 = time.perf_counter()
                    if path == "/quota":
                        req = s.post(f"{url}/quota", json={"imsi": imsis[i % len(imsis)], "mb": 1}, headers=headers)
                    else:
                        req = s.get(f"{url}{path}")
                    async with req as r:
                        await r.read()
                        codes[r.status] = codes.get(r.status, 0) + 1
                    latencies.append(time.perf_counter() - t0)

            start = time.perf_counter()
            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(connections))), timeout)
            return latencies, codes, time.perf_counter() - start

    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(go())


async def main(args: argparse.Namespace) -> None:
    from appliance.config import Config, DatabaseConfig, RestConfig
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.catalog import Offer
    from appliance.ocs.inventory import Product, Service
    from appliance.ocs.units import Unit
    from appliance.rest.auth import USER_DOC, user_doc
    from appliance.rest.server import build_app, start_site
    from appliance.store import open_store

    tmp = tempfile.mkdtemp(prefix="rest-bench-")
    cfg = Config(data_dir=f"{tmp}/data", run_dir=f"{tmp}/run", log_dir=f"{tmp}/logs", base_dir=tmp,
                 database=DatabaseConfig(path="appliance.db", synchronous=args.synchronous),
                 rest=RestConfig(port=0, access_log=False))
    store = open_store(cfg)
    imsis = [f"00101{i:010d}" for i in range(args.subscribers)]

    def seed(l):
        l.put_offer(Offer("bench"))
        for i, imsi in enumerate(imsis):
            l.put_product(Product(f"bp{i}", "bench"))
            l.put_service(Service(imsi, f"bp{i}", imsi=imsi))
            l.add_bucket(NewBucket(f"bp{i}", Unit.OCTETS, 10**15))
        l.put_doc(USER_DOC, "bench", user_doc(["admin"], "bench-password", int(time.time())))
    store.transact(seed)
    app = build_app(dataclasses.replace(cfg), store)
    runner = await start_site(app, cfg, port=0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    loop = asyncio.get_running_loop()
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:  # the client gets its own CPU
        for label, path in (("GET /health (one empty store transaction)", "/health"), ("POST /quota", "/quota")):
            n = args.requests if path == "/quota" else args.requests * 2
            lat, codes, elapsed = await loop.run_in_executor(pool, run_client, url, path, n, args.connections,
                                                             imsis, args.timeout)
            lat.sort()
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(f"{label}: {len(lat)} requests in {elapsed:.2f}s over {args.connections} connections "
                  f"(synchronous={args.synchronous})")
            print(f"  throughput {len(lat) / elapsed:,.0f} req/s; latency p50 {statistics.median(lat) * 1000:.1f} ms, "
                  f"p99 {p99 * 1000:.1f} ms; status codes {codes}")
    print("  (shared 2-core machine, client in a second process: expect +-40 % between runs)")
    await runner.cleanup()
    store.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--subscribers", type=int, default=100)
    p.add_argument("--synchronous", default="FULL", choices=("FULL", "NORMAL"))
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--no-uvloop", action="store_true", help="default asyncio loop (e.g. to profile)")
    args = p.parse_args()
    try:
        import uvloop
        if not args.no_uvloop:
            uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(args))
