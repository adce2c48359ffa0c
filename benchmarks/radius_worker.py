"""RADIUS worker CPU per PAP Access-Request, in one process: the whole worker path from
``datagram_received`` to the Access-Accept handed to the transport, no sockets.

A real worker (``radius.worker.build``: endpoint, authorization cache, store read path, the
transaction log written through and held per loop turn) over a SQLite store of ``--users``
subscribers.  Every subscriber is answered once first (the cache filled on first use), then bursts
of ``--window`` Access-Requests are fed per loop turn and the loop runs until their answers are
handed over (records written first).  Reports CPU µs per request for the first contact (a store
read) and for cached subscribers, best of ``--rounds``; ``--profile`` prints the cached path's top.

    .venv/bin/python benchmarks/radius_worker.py --users 20000 --requests 50000
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.radius import packet as rp

SECRET = b"testing123"
PASSWORD = b"bench-pw"


def pap_request(ident: int, user: bytes) -> bytes:
    auth = os.urandom(16)
    attrs = rp.encode_attributes([(rp.USER_NAME, user),
                                  (rp.USER_PASSWORD, rp.encrypt_password(PASSWORD, SECRET, auth)),
                                  (rp.NAS_IP_ADDRESS, b"\x7f\x00\x00\x01")])
    body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + attrs
    raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, ident & 0xFF, 20 + len(body)) + auth + body)
    raw[22:38] = hmac.new(SECRET, bytes(raw), hashlib.md5).digest()
    return bytes(raw)


class Transport:
    """Stands in for the UDP transport: counts the answers."""

    def __init__(self) -> None:
        self.sent = 0
        self.accepts = 0

    def sendto(self, data: bytes, addr: object) -> None:
        self.sent += 1
        self.accepts += data[0] == rp.ACCESS_ACCEPT

    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 1812)


def setup(tmp: Path, users: int):
    from appliance.config import load
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.catalog import Offer, Price, PriceType
    from appliance.ocs.inventory import Credentials, Product, Service
    from appliance.ocs.units import Unit
    from appliance.store import open_store
    conf = tmp / "appliance.yaml"
    conf.write_text(f"data_dir: {tmp}/data\nrun_dir: {tmp}/run\nlog_dir: {tmp}/logs\nlog_level: WARNING\n"
                    "database: {path: appliance.db}\n"
                    "radius:\n  address: 127.0.0.1\n"
                    f"  clients:\n    - {{address: 127.0.0.1, secret: {SECRET.decode()}}}\n")
    cfg = load(str(conf))
    store = open_store(cfg)
    offer = Offer("bench", (Price("data", PriceType.USAGE, amount=1_000, unit=Unit.OCTETS, size=1_000_000),))

    def seed(ledger, first: int, last: int) -> None:
        if first == 0:
            ledger.put_offer(offer)
        ledger.put_subscribers([Product(f"p{i}", "bench") for i in range(first, last)],
                               [Service(f"s{i}", f"p{i}", nai=f"user{i}@bench",
                                        credentials=Credentials(password=PASSWORD.decode()))
                                for i in range(first, last)])
        ledger.replace_buckets([NewBucket(f"p{i}", Unit.MONEY, 10 ** 15) for i in range(first, last)])
    for first in range(0, users, 10_000):
        store.transact(lambda ledger, first=first: seed(ledger, first, min(users, first + 10_000)))
    return cfg, store


async def feed(listener, transport: Transport, packets: list[bytes], window: int) -> float:
    """CPU seconds to answer ``packets``, ``window`` per loop turn."""
    port = 40000
    start = time.process_time()
    want = transport.sent + len(packets)
    receive = listener.datagram_received
    for i in range(0, len(packets), window):
        for raw in packets[i:i + window]:
            port = port + 1 if port < 60000 else 40000
            receive(raw, ("127.0.0.1", port))
        await asyncio.sleep(0)
    while transport.sent < want:
        await asyncio.sleep(0)
    return time.process_time() - start


async def run(args) -> None:
    from appliance.logs import translog
    from appliance.radius.server import Listener
    from appliance.radius.worker import build
    tmp = Path(tempfile.mkdtemp(prefix="radius-worker-"))
    cfg, store = setup(tmp, args.users)
    translog.configure(cfg, "radius", 0)
    server = await build(cfg, 0, store)
    listener = Listener(server, "auth", socket.AF_INET)
    transport = Transport()
    listener.transport = transport
    names = [f"user{i}@bench".encode() for i in range(args.users)]
    first = [pap_request(i, name) for i, name in enumerate(names)]
    cpu = await feed(listener, transport, first, args.window)
    print(f"first contact (store read, cache filled): {cpu / len(first) * 1e6:.1f} us/request "
          f"over {len(first)} subscribers")
    pick = random.Random(1).randrange
    best = float("inf")
    for _round in range(args.rounds):
        packets = [pap_request(i, names[pick(args.users)]) for i in range(args.requests)]
        if args.profile and _round == args.rounds - 1:
            import cProfile
            import pstats
            prof = cProfile.Profile()
            prof.enable()
            cpu = await feed(listener, transport, packets, args.window)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(22)
        else:
            cpu = await feed(listener, transport, packets, args.window)
        best = min(best, cpu / len(packets) * 1e6)
        print(f"  cached round: {cpu / len(packets) * 1e6:.1f} us/request")
    print(f"cached: best {best:.1f} us/request ({args.rounds} rounds of {args.requests}, window {args.window}); "
          f"accepts {transport.accepts} of {transport.sent}; cache {len(server.auth.cache._items)}")
    translog.close()
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=50_000, help="cached requests per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--window", type=int, default=32, help="requests per loop turn")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
