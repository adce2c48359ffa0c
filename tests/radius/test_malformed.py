"""Broken input: >= 2,000 malformed datagrams of several kinds; each kind counted; the server keeps answering."""
from __future__ import annotations

import hashlib
import os
import random
import socket
import struct

import pyrad.packet as pp

from appliance.radius import packet as rp
from appliance.telemetry import metrics

from .conftest import SECRET
from .helpers import pyrad_client

S = SECRET.encode()


def access_request(attrs, with_ma=True, secret=S, ident=None) -> bytes:
    """A well-formed Access-Request built with the codec (MA over the Request Authenticator)."""
    auth = os.urandom(16)
    body = rp.encode_attributes(attrs)
    if with_ma:
        body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + body
    ident = random.randrange(256) if ident is None else ident
    raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, ident, 20 + len(body)) + auth + body)
    if with_ma:
        raw[22:38] = rp.message_authenticator(bytes(raw), secret)
    return bytes(raw)


def kinds(rng: random.Random) -> dict[str, list[bytes]]:
    user = [(rp.USER_NAME, b"alice@wlan")]
    good = access_request(user + [(rp.USER_PASSWORD, bytes(16))])
    out: dict[str, list[bytes]] = {k: [] for k in ("short", "length", "attr_len", "bad_ma", "no_ma", "code",
                                                   "eap_size", "acct_auth", "acct_attr_len", "pap_len")}
    for i in range(250):
        out["short"].append(os.urandom(rng.randrange(0, 20)))
        raw = bytearray(good)
        struct.pack_into("!H", raw, 2, rng.choice([0, 5, 19, len(raw) + 1 + rng.randrange(50), 5000]))
        out["length"].append(bytes(raw))
        raw = bytearray(access_request(user + [(rp.CALLING_STATION_ID, b"00-11")]))
        pos = 38 + 12                                  # after MA (18) and User-Name (12): Calling-Station-Id
        raw[pos + 1] = rng.choice([0, 1, 60, 255])
        out["attr_len"].append(bytes(raw))
        raw = bytearray(access_request(user + [(rp.USER_PASSWORD, bytes(16))], ident=i))
        raw[22 + rng.randrange(16)] ^= 0xFF
        out["bad_ma"].append(bytes(raw))
        out["no_ma"].append(access_request(user + [(rp.USER_PASSWORD, bytes(16))], with_ma=False))
        raw = bytearray(access_request(user))
        raw[0] = rng.choice([0, 2, 3, 4, 5, 11, 40, 43, 99, 255])
        out["code"].append(bytes(raw))
        eap = bytes([2, 1]) + struct.pack("!H", 4000) + b"\x01" + b"x" * rng.randrange(10, 400)
        out["eap_size"].append(access_request(user + rp.split_eap(eap)))
        out["pap_len"].append(access_request(user + [(rp.USER_PASSWORD, bytes(rng.choice([1, 15, 17, 144])))]))
        acct_attrs = rp.encode_attributes([(rp.ACCT_STATUS_TYPE, (1).to_bytes(4, "big")), (rp.USER_NAME, b"x")])
        head = struct.pack("!BBH", rp.ACCOUNTING_REQUEST, i & 0xFF, 20 + len(acct_attrs))
        out["acct_auth"].append(head + os.urandom(16) + acct_attrs)
        broken = bytearray(acct_attrs)
        broken[1] = 200
        authn = hashlib.md5(head + bytes(16) + bytes(broken) + S).digest()
        out["acct_attr_len"].append(head + authn + bytes(broken))
    return out


EXPECT = {  # kind -> (port, counter that must rise by the count)
    "short": ("auth", "radius.auth.malformed_access_requests"),
    "length": ("auth", "radius.auth.malformed_access_requests"),
    "attr_len": ("auth", "radius.auth.malformed_access_requests"),
    "bad_ma": ("auth", "radius.auth.bad_authenticators"),
    "no_ma": ("auth", "radius.auth.missing_message_authenticator"),
    "code": ("auth", "radius.auth.unknown_types"),
    "eap_size": ("auth", "radius.auth.malformed_access_requests"),
    "pap_len": ("auth", "radius.auth.malformed_access_requests"),
    "acct_auth": ("acct", "radius.acct.bad_authenticators"),
    "acct_attr_len": ("acct", "radius.acct.malformed_requests"),
}


def test_two_thousand_broken_packets_counted_and_server_still_answers(radius, rcfg, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    rng = random.Random(4)
    batches = kinds(rng)
    total = sum(len(v) for v in batches.values())
    assert total >= 2000
    c = pyrad_client(rcfg)
    ports = {"auth": rcfg.radius.auth_port, "acct": rcfg.radius.acct_port}

    def valid_pap() -> int:
        req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name="alice@wlan")
        req["User-Password"] = req.PwCrypt("pw")
        return c.SendPacket(req).code

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for kind, packets in batches.items():
            port, name = EXPECT[kind]
            before = metrics.default().get(name)
            for i, data in enumerate(packets):
                s.sendto(data, ("127.0.0.1", ports[port]))
                if i % 50 == 49:      # pace: one valid round trip every 50 broken datagrams
                    assert valid_pap() == pp.AccessAccept
            assert valid_pap() == pp.AccessAccept
            if port == "acct":        # acct checks run on the acct socket: a valid request there syncs it
                req = c.CreateAcctPacket(Acct_Status_Type="Accounting-On", NAS_Identifier="sync")
                assert c.SendPacket(req).code == pp.AccountingResponse
            got = metrics.default().get(name) - before
            assert got == len(packets), (kind, got, len(packets))
    # unknown clients: from another loopback address
    before = metrics.default().get("radius.auth.invalid_requests")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.2", 0))
        for _ in range(20):
            s.sendto(access_request([(rp.USER_NAME, b"a")]), ("127.0.0.1", ports["auth"]))
    assert valid_pap() == pp.AccessAccept
    assert metrics.default().get("radius.auth.invalid_requests") - before == 20
