"""The answers of one loop turn leave after that turn's log records were written (kill -9 promise)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import socket
import struct

from appliance.radius import packet as rp
from appliance.radius.server import Listener
from appliance.radius.worker import build

from .conftest import SECRET


class Journal:
    """Stands in for both the translog module and the socket: records the order of events."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.sent: list[bytes] = []

    def enabled(self) -> bool:
        return True

    def auth(self, record, held: bool = False, fixed=None) -> None:
        record = {**record, **(fixed.fields if fixed is not None else {})}
        self.events.append(f"record {record['result']} held={held}")

    def auth_peer(self, host: str, port: int, username, fixed, held: bool = False) -> None:
        self.auth({"peer": f"{host}:{port}", "username": username}, held, fixed)

    def write_held(self) -> None:
        self.events.append("write_held")

    def sendto(self, data: bytes, addr) -> None:
        self.events.append(f"send {data[0]}")
        self.sent.append(data)


def pap(ident: int, user: bytes, password: bytes, extra: rp.Attributes = ()) -> bytes:
    auth = os.urandom(16)
    body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + rp.encode_attributes(
        [(rp.USER_NAME, user), (rp.USER_PASSWORD, rp.encrypt_password(password, SECRET.encode(), auth)),
         *extra])
    raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, ident, 20 + len(body)) + auth + body)
    raw[22:38] = hmac.new(SECRET.encode(), bytes(raw), hashlib.md5).digest()
    return bytes(raw)


def test_answers_of_a_turn_are_sent_after_its_records_are_written(rcfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")

    async def run() -> list[str]:
        server = await build(rcfg, 0, store)
        journal = Journal()
        server.translog = journal
        listener = Listener(server, "auth", socket.AF_INET)
        listener.transport = journal
        server.on_datagram(listener, pap(1, b"alice@wlan", b"pw"), ("127.0.0.1", 1000), False)  # store lookup
        for _ in range(50):
            if "write_held" in journal.events:
                break
            await asyncio.sleep(0.05)
        journal.events.clear()
        for i in range(3):                   # cached: answered synchronously, all in one turn
            server.on_datagram(listener, pap(2 + i, b"alice@wlan", b"pw" if i != 1 else b"bad"),
                               ("127.0.0.1", 1000), False)
        assert not any(e.startswith("send") for e in journal.events)
        await asyncio.sleep(0)
        return journal.events

    events = asyncio.run(run())
    assert events == ["record Access-Accept held=True", "record Access-Reject held=True",
                      "record Access-Accept held=True", "write_held", "send 2", "send 3", "send 2"]


def test_cached_accept_echoes_proxy_state_only_where_asked(rcfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    proxy = [(rp.PROXY_STATE, b"first"), (rp.PROXY_STATE, b"second")]

    async def run() -> list[tuple[bytes, bytes]]:
        server = await build(rcfg, 0, store)
        journal = Journal()
        server.translog = journal
        listener = Listener(server, "auth", socket.AF_INET)
        listener.transport = journal
        requests = [pap(1, b"alice@wlan", b"pw", proxy), pap(2, b"alice@wlan", b"pw", proxy),
                    pap(3, b"alice@wlan", b"pw"), pap(4, b"alice@wlan", b"pw", proxy[1:])]
        for i, raw in enumerate(requests):
            server.on_datagram(listener, raw, ("127.0.0.1", 1000), False)
            for _ in range(50):
                if len(journal.sent) > i:
                    break
                await asyncio.sleep(0.05)
        return list(zip(requests, journal.sent, strict=True))

    pairs = asyncio.run(run())
    echoed = []
    for raw, answer in pairs:
        req, reply = rp.decode(raw), rp.decode(answer)
        assert reply.code == rp.ACCESS_ACCEPT and reply.identifier == req.identifier
        assert rp.response_authenticator_ok(answer, req.authenticator, SECRET.encode())
        assert reply.attributes[0][0] == rp.MESSAGE_AUTHENTICATOR
        assert rp.verify_message_authenticator(rp.decode(answer[:4] + req.authenticator + answer[20:]),
                                               SECRET.encode()) is True
        echoed.append(reply.all(rp.PROXY_STATE))
    assert echoed == [[b"first", b"second"], [b"first", b"second"], [], [b"second"]]
