"""EAP-pwd pieces (RFC 5931) and a scripted peer that sends its Confirm with a wrong password."""
from __future__ import annotations

import os
import socket
import struct

from appliance.eap import p256
from appliance.eap.packet import Code, decode, encode
from appliance.eap.pwd import CIPHERSUITE, EXCH_COMMIT, EXCH_CONFIRM, EXCH_ID, h, kdf, password_element
from appliance.eap.ttls import decode_avps, encode_avp
from appliance.radius import packet as rp
from tests.radius.conftest import SECRET

G = (p256.GX, p256.GY)


def test_p256_group_law():
    assert p256.on_curve(G) and p256.mul(p256.R, G) is None
    assert p256.add(p256.mul(5, G), p256.mul(7, G)) == p256.mul(12, G)
    assert p256.add(G, p256.neg(G)) is None
    assert p256.decode(p256.encode(p256.mul(99, G))) == p256.mul(99, G)
    assert p256.decode(bytes(64)) is None


def test_kdf_lengths_and_truncation():
    assert len(kdf(b"k", b"label", 256)) == 32 and len(kdf(b"k", b"label", 1024)) == 128
    assert kdf(b"k", b"label", 1024)[:32] != kdf(b"k", b"label", 256)     # length is part of every block
    assert kdf(b"k", b"l", 12)[1] & 0x0F == 0


def test_password_element_is_on_the_curve_and_depends_on_every_input():
    base = password_element(b"tokn", b"peer", b"server", b"pw")
    assert p256.on_curve(base)
    for args in ((b"tokm", b"peer", b"server", b"pw"), (b"tokn", b"peex", b"server", b"pw"),
                 (b"tokn", b"peer", b"servex", b"pw"), (b"tokn", b"peer", b"server", b"px")):
        assert password_element(*args) != base


def test_ttls_avp_codec_round_trip_and_bad_lengths():
    data = encode_avp(1, b"alice") + encode_avp(25, b"x" * 50, vendor=311)
    avps = decode_avps(data)
    assert avps[(0, 1)] == b"alice" and avps[(311, 25)] == b"x" * 50
    import pytest
    for bad in (data[:5], b"\x00\x00\x00\x01\x40\x00\x00\x04", b"\x00\x00\x00\x01\x40\x00\x01\x00abcd"):
        with pytest.raises(ValueError):
            decode_avps(bad)


class RadiusEapPeer:
    """A scripted EAP peer speaking RADIUS (Message-Authenticator, State) to the worker."""

    def __init__(self, port: int, source: str = "127.0.0.1") -> None:
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(5)
        self.state: bytes | None = None
        self.ident = 0

    def send(self, eap: bytes) -> rp.Packet:
        attrs = [(rp.USER_NAME, b"alice@wlan")] + rp.split_eap(eap)
        if self.state:
            attrs.append((rp.STATE, self.state))
        self.ident = (self.ident + 1) & 0xFF
        auth = os.urandom(16)
        body = bytes((rp.MESSAGE_AUTHENTICATOR, 18)) + bytes(16) + rp.encode_attributes(attrs)
        raw = bytearray(struct.pack("!BBH", rp.ACCESS_REQUEST, self.ident, 20 + len(body)) + auth + body)
        raw[22:38] = rp.message_authenticator(bytes(raw), SECRET.encode())
        self.sock.sendto(bytes(raw), self.addr)
        reply = rp.decode(self.sock.recv(4096))
        self.state = reply.get(rp.STATE)
        return reply

    def close(self) -> None:
        self.sock.close()


def run_peer(port: int, password: bytes) -> rp.Packet:
    peer = RadiusEapPeer(port)
    try:
        reply = peer.send(encode(Code.RESPONSE, 0, 1, b"alice@wlan"))
        req = decode(b"".join(reply.all(rp.EAP_MESSAGE)))
        assert req.type == 52 and req.data[0] == EXCH_ID
        offer = req.data[1:]
        token, server_id = offer[4:8], offer[9:]
        reply = peer.send(encode(Code.RESPONSE, req.identifier, 52, bytes([EXCH_ID]) + offer[:9] + b"alice@wlan"))
        req = decode(b"".join(reply.all(rp.EAP_MESSAGE)))
        assert req.data[0] == EXCH_COMMIT
        element_s, scalar_s = p256.decode(req.data[1:65]), int.from_bytes(req.data[65:97], "big")
        pwe = password_element(token, b"alice@wlan", server_id, password)
        rand, mask = 1234567 + os.urandom(1)[0], 7654321
        scalar_p = (rand + mask) % p256.R
        element_p = p256.neg(p256.mul(mask, pwe))
        reply = peer.send(encode(Code.RESPONSE, req.identifier, 52, bytes([EXCH_COMMIT]) + p256.encode(element_p)
                                 + scalar_p.to_bytes(32, "big")))
        req = decode(b"".join(reply.all(rp.EAP_MESSAGE)))
        assert req.data[0] == EXCH_CONFIRM
        ks = p256.mul(rand, p256.add(p256.mul(scalar_s, pwe), element_s))[0].to_bytes(32, "big")
        confirm_p = h(ks, p256.encode(element_p), scalar_p.to_bytes(32, "big"), p256.encode(element_s),
                      scalar_s.to_bytes(32, "big"), CIPHERSUITE)
        return peer.send(encode(Code.RESPONSE, req.identifier, 52, bytes([EXCH_CONFIRM]) + confirm_p))
    finally:
        peer.close()


def test_bad_peer_confirm_gets_access_reject_and_good_one_accept(cfg, store, seed_subscriber):
    from tests.radius.conftest import RunningServer, radius_cfg
    seed_subscriber(nai="alice@wlan", password="s3cret-pw")
    rc = radius_cfg(cfg, eap_methods=("pwd",))
    srv = RunningServer(rc).start()
    try:
        reply = run_peer(rc.radius.auth_port, b"wrong")
        assert reply.code == rp.ACCESS_REJECT
        assert decode(b"".join(reply.all(rp.EAP_MESSAGE))).code == Code.FAILURE
        reply = run_peer(rc.radius.auth_port, b"s3cret-pw")
        assert reply.code == rp.ACCESS_ACCEPT
    finally:
        srv.close()
