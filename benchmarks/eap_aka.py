#!/usr/bin/env python3
"""Full EAP-AKA (or AKA') authentications per second over RADIUS, with p50/p99 latency.

The radius worker runs as its own process (uvloop, SQLite store with synchronous=FULL group
commit, as in production); this process is the NAS + supplicant: ``--concurrency`` parallel
authentications, each Identity -> AKA-Challenge -> Access-Accept (2 round trips) with the
independent Python peer (appliance.eap.aka_peer) over UDP on loopback.  Each authentication is a
FULL one (fresh peer, no pseudonym / re-auth id): the server runs Milenage, advances SQN in the
store and writes the pseudonym and re-auth documents -- 3 durable writes per authentication.

usage: benchmarks/eap_aka.py [--auths 2000] [--concurrency 32] [--seconds 20] [--prime]
Bounded by --auths and --seconds.  The machine is shared: numbers are noisy (±40 %).
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import hmac
import multiprocessing
import os
import statistics
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from appliance.config import Config, DatabaseConfig, RadiusClient
from appliance.eap import aka_codec as ac
from appliance.eap.aka_peer import AkaPeer
from appliance.eap.milenage import Usim
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Credentials, Product, Service
from appliance.ocs.units import Unit
from appliance.radius import packet as rp

SECRET = b"bench-secret"
SUBSCRIBERS = 1000
K = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")


def imsi(n: int) -> str:
    return f"00101{n % SUBSCRIBERS:010d}"


def server(base: str, port_q: multiprocessing.Queue[int], stop_q: multiprocessing.Queue[int]) -> None:
    import socket

    from appliance.radius.worker import serve
    from appliance.runtime import new_event_loop
    from appliance.store import open_store
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = Config(data_dir=f"{base}/data", run_dir=f"{base}/run", log_dir=f"{base}/logs", base_dir=base,
                 database=DatabaseConfig(path="bench.db"))
    cfg = dataclasses.replace(cfg, radius=dataclasses.replace(
        cfg.radius, address="127.0.0.1", auth_port=port, acct_port=0,
        clients=(RadiusClient("127.0.0.1", SECRET.decode(), name="bench"),), eap_methods=("aka", "aka_prime")))
    store = open_store(cfg)

    def seed(ledger):
        ledger.put_offer(Offer("bench", (Price("data", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS,
                                              size=1_000_000, service=None),)))
        for i in range(SUBSCRIBERS):
            ledger.put_product(Product(f"p{i}", "bench"))
            ledger.put_service(Service(imsi(i), f"p{i}", imsi=imsi(i), credentials=Credentials(k=K, opc=OPC)))
            ledger.add_bucket(NewBucket(f"p{i}", Unit.MONEY, 10**9))
    store.transact(seed)
    store.close()

    loop = new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        waiter = loop.run_in_executor(None, stop_q.get)
        waiter.add_done_callback(lambda _f: stop.set())
        await serve(cfg, 0, stop, lambda _srv: port_q.put(port))
    loop.run_until_complete(run())


class Nas(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        fut = self.pending.pop(data[1], None) if len(data) > 1 else None
        if fut is not None and not fut.done():
            fut.set_result(data)


async def access_request(nas: Nas, ids: asyncio.Queue[int], user: str, eap: bytes, state: bytes | None
                         ) -> rp.Packet:
    ident = await ids.get()
    try:
        authenticator = os.urandom(16)
        attrs = [(rp.USER_NAME, user.encode())] + rp.split_eap(eap)
        if state is not None:
            attrs.append((rp.STATE, state))
        body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + rp.encode_attributes(attrs)
        head = struct.pack("!BBH", rp.ACCESS_REQUEST, ident, 20 + len(body))
        mac = hmac.new(SECRET, head + authenticator + body, hashlib.md5).digest()
        raw = head + authenticator + body[:2] + mac + body[18:]
        fut = asyncio.get_running_loop().create_future()
        nas.pending[ident] = fut
        assert nas.transport is not None
        nas.transport.sendto(raw)
        reply = await asyncio.wait_for(fut, 5.0)
        return rp.decode(reply)
    finally:
        ids.put_nowait(ident)


async def authenticate(nas: Nas, ids: asyncio.Queue[int], n: int, prime: bool) -> bool:
    variant = ac.AKA_PRIME if prime else ac.AKA
    peer = AkaPeer(variant, f"{variant.permanent}{imsi(n)}@wlan.mnc001.mcc001.3gppnetwork.org", Usim(K, OPC, 0))
    eap = peer.start(0)
    user, state = peer.permanent, None
    for _ in range(6):
        reply = await access_request(nas, ids, user, eap, state)
        if reply.code == rp.ACCESS_ACCEPT:
            return True
        if reply.code != rp.ACCESS_CHALLENGE:
            return False
        state = reply.get(rp.STATE)
        nxt = peer.respond(b"".join(reply.all(rp.EAP_MESSAGE)))
        if nxt is None:
            return False
        eap = nxt
    return False


async def client(port: int, auths: int, concurrency: int, seconds: float, prime: bool
                 ) -> tuple[int, int, float, list[float]]:
    loop = asyncio.get_running_loop()
    transport, nas = await loop.create_datagram_endpoint(Nas, remote_addr=("127.0.0.1", port))
    ids: asyncio.Queue[int] = asyncio.Queue()
    for i in range(256):
        ids.put_nowait(i)
    latencies: list[float] = []
    failures = 0
    counter = iter(range(auths))
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        for n in counter:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            try:
                ok = await authenticate(nas, ids, n, prime)
            except TimeoutError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - t0)
            else:
                failures += 1
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    transport.close()
    return len(latencies), failures, elapsed, latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--auths", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--prime", action="store_true", help="EAP-AKA' instead of EAP-AKA")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as base:
        port_q: multiprocessing.Queue[int] = multiprocessing.Queue()
        stop_q: multiprocessing.Queue[int] = multiprocessing.Queue()
        proc = multiprocessing.Process(target=server, args=(base, port_q, stop_q), daemon=True)
        proc.start()
        port = port_q.get(timeout=120)
        try:
            ok, failed, elapsed, lat = asyncio.run(client(port, args.auths, args.concurrency, args.seconds,
                                                          args.prime))
        finally:
            stop_q.put(1)
            proc.join(30)
    name = "EAP-AKA'" if args.prime else "EAP-AKA"
    print(f"{name} full authentications over RADIUS: {ok} ok, {failed} failed in {elapsed:.2f} s "
          f"-> {ok / elapsed:.0f} auth/s (concurrency {args.concurrency})")
    if lat:
        lat.sort()
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        print(f"latency per authentication (2 round trips): p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    print("note: shared 2-core machine, client and server on the same cores; numbers are noisy (±40 %)")


if __name__ == "__main__":
    main()
