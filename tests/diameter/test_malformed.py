"""Malformed input: thousands of broken messages, every one answered or the connection closed,
and the node keeps serving valid CCRs afterwards (RFC 6733 §7)."""
from __future__ import annotations

import asyncio
import random

from appliance.diameter import codec as c
from appliance.diameter.apps import ro
from appliance.diameter.client import Service, ccr
from appliance.ocs.units import Unit
from appliance.telemetry import metrics
from tests.conftest import seed

from .conftest import run

IMSI = "001010000000001"


async def raw_peer(port: int):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(c.encode(257, 0, c.FLAG_R, 1, 1, [c.avp("Origin-Host", "fuzz.test"), c.avp("Origin-Realm", "ims.test"),
                                           c.avp("Host-IP-Address", "127.0.0.1"), c.avp("Vendor-Id", 0),
                                           c.avp("Product-Name", "fuzz"), c.avp("Auth-Application-Id", 4)]))
    assert (await read(r)).result_code == c.SUCCESS
    return r, w


async def read(r) -> c.Message:
    head = await r.readexactly(4)
    return c.decode(head + await r.readexactly(int.from_bytes(head[1:], "big") - 4))


def valid_ccr(hbh: int, n: int) -> bytes:
    avps = ccr(f"gw.test;fuzz;{n}", "test", ro.EVENT, 0, IMSI, requested_action="check", mscc=False,
               services=(Service(Unit.OCTETS, 10),))
    avps.insert(1, c.avp("Origin-Host", "fuzz.test") + c.avp("Origin-Realm", "ims.test"))
    return c.encode(272, 4, c.FLAG_R | c.FLAG_P, hbh, hbh, avps)


def broken(rng: random.Random, hbh: int) -> tuple[bytes, bool]:
    """A broken request and whether it must break the framing (connection closed)."""
    good = bytearray(valid_ccr(hbh, hbh))
    kind = hbh % 8
    if kind == 0:                                    # an AVP length of 0..7 (5014)
        good[20 + 5:20 + 8] = rng.randrange(0, 8).to_bytes(3, "big")
    elif kind == 1:                                  # AVP runs past the end (5014)
        good[20 + 5:20 + 8] = (len(good) + rng.randrange(1, 500)).to_bytes(3, "big")
    elif kind == 2:                                  # truncated: message cut inside an AVP, header fixed up
        cut = rng.randrange(29, len(good) - 4) & ~3
        good = good[:cut]
        good[1:4] = len(good).to_bytes(3, "big")
    elif kind == 3:                                  # wrong flags: E-bit in a request (3008)
        good[4] |= c.FLAG_E
    elif kind == 4:                                  # bad version (5011)
        good[0] = rng.choice([0, 2, 3, 255])
    elif kind == 5:                                  # length not a multiple of 4 (5015)
        good += b"\0" * rng.randrange(1, 4)
        good[1:4] = len(good).to_bytes(3, "big")
    elif kind == 6:                                  # random garbage after a valid header
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40) * 4))
        good = good[:20] + bytearray(body)
        good[1:4] = len(good).to_bytes(3, "big")
    else:                                            # random byte flips in the AVPs
        for _ in range(rng.randrange(1, 6)):
            good[rng.randrange(20, len(good))] = rng.getrandbits(8)
    return bytes(good), False


def test_two_thousand_broken_messages_then_valid_ccrs(ocs, store):
    seed(store, IMSI, money=1_000_000)
    rng = random.Random(3868)

    async def go():
        async with ocs() as (cl, node, charging):
            port = node.servers[0].sockets[0].getsockname()[1]
            before = metrics.default().get("diameter.malformed.dropped")
            r, w = await raw_peer(port)
            sent = answered = 0
            codes: dict[int, int] = {}
            for batch in range(25):                  # 25 x 100 = 2,500 broken requests, pipelined
                hbhs = list(range(1000 + batch * 100, 1100 + batch * 100))
                for h in hbhs:
                    w.write(broken(rng, h)[0])
                sent += len(hbhs)
                pending = set(hbhs)
                while pending:
                    ans = await asyncio.wait_for(read(r), 10)
                    assert not ans.is_request
                    pending.discard(ans.hbh)
                    answered += 1
                    codes[ans.result_code] = codes.get(ans.result_code, 0) + 1
            assert answered == sent == 2500
            for code in (c.INVALID_AVP_LENGTH, c.INVALID_HDR_BITS, c.UNSUPPORTED_VERSION, c.INVALID_MESSAGE_LENGTH):
                assert codes.get(code, 0) > 100, codes
            assert metrics.default().get("diameter.malformed.dropped") - before >= 1500
            # framing garbage closes the connection (no way to find the next message)...
            w.write(b"\x01\x00\x00\x07" + bytes(64))
            assert await asyncio.wait_for(r.read(), 10) == b""
            # ... and the node keeps answering valid CCRs, on new and existing connections
            r, w = await raw_peer(port)
            for h in range(5):
                w.write(valid_ccr(h + 10, h))
            got = [await asyncio.wait_for(read(r), 10) for _ in range(5)]
            assert {a.result_code for a in got} == {c.SUCCESS}
            w.close()
            a = await cl.send(ccr(cl.session_id(), "test", ro.INITIAL, 0, IMSI,
                                  services=(Service(Unit.OCTETS, 0, rating_group=1),)))
            assert a.result_code == c.SUCCESS
    run(go())
