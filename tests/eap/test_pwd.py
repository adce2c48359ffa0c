"""EAP-pwd pieces (RFC 5931), the RFC 8146 countermeasure, Commit validation, and a scripted peer
that sends its Confirm with a wrong password."""
from __future__ import annotations

import asyncio
import os
import socket
import struct

import pytest

from appliance.eap import p256, pwd
from appliance.eap.credentials import MemoryLookup
from appliance.eap.events import FindService
from appliance.eap.framework import Conversation, Failure, MethodContext, Policy, Request, Send, Success
from appliance.eap.packet import Code, EapPacket, decode, encode
from appliance.eap.pwd import CIPHERSUITE, EXCH_COMMIT, EXCH_CONFIRM, EXCH_ID, PwdMethod, h, kdf, password_element
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


def reference_element(token: bytes, peer_id: bytes, server_id: bytes, password: bytes,
                      first: int = 1) -> tuple[p256.Point, int]:
    """RFC 5931 §2.8.3.2 as first written here (stop at the first hit): the element and that counter."""
    for counter in range(first, 256):
        seed = h(token, peer_id, server_id, password, bytes([counter]))
        value = int.from_bytes(kdf(seed, b"EAP-pwd Hunting And Pecking", 256), "big")
        if value >= p256.P:
            continue
        y = p256.sqrt((value ** 3 + p256.A * value + p256.B) % p256.P)
        if y is None:
            continue
        return (value, y if (y & 1) == (seed[-1] & 1) else p256.P - y), counter
    raise AssertionError("no element")


# password element for token "tokn", peer "alice@wlan", server "server", computed by the
# pre-RFC 8146 code (early exit) and pinned: (password, counter of the first hit, x, y)
PWE_VECTORS = [
    (b"pw0", 1, "388e757e4a7ae43f489e559b7c8103f92d21697c324305755f61b67817cd27d0",
     "0471408e896a14790e8c0daa081a8b16e76ab2bc43ee38e3a640d2a8b83bd405"),
    (b"pw1", 3, "e56c53c297c1cfc1a2d167eddbe3e61356b6b1b28a36c86b536180d470159dcb",
     "600ba333c8f07c858173c420b011f45244f299731f761d00bc312d80602cbcfc"),
    (b"pw7", 6, "9b094b675e5f57617868351218c4a8918f3b5131734ea268f7918c8361731b98",
     "3a0a21162b011e0ebde613c79db1400f7d8a8bb4b699c307e1297cd246dfb3c6"),
    (b"pw124", 9, "81c377938afa0189b44c8970095546840b5d562c86e2cba365f4be68d87b3157",
     "1f0df03bf0024885074843d69f4dbeecb0a16356201be212f8fe2d7419043575"),
]
RANDOM_SOURCES = [os.urandom, lambda n: bytes(n), lambda n: b"\xff" * n, lambda n: bytes(range(n))]


@pytest.mark.parametrize("password,counter,x,y", PWE_VECTORS)
def test_password_element_vectors_unchanged(password, counter, x, y):
    want = (int(x, 16), int(y, 16))
    assert reference_element(b"tokn", b"alice@wlan", b"server", password) == (want, counter)
    for random in RANDOM_SOURCES:         # the blinding randomness never changes the element
        assert password_element(b"tokn", b"alice@wlan", b"server", password, random) == want


def test_password_element_equals_the_early_exit_one_for_random_inputs():
    for _ in range(30):
        args = (os.urandom(4), os.urandom(8), b"server", os.urandom(os.urandom(1)[0] % 20))
        assert password_element(*args) == reference_element(*args)[0]


def count_iterations(monkeypatch: pytest.MonkeyPatch, hit_from: int = 1) -> list[int]:
    """Count calls of the per-counter work (seed hash and residue test); residues only from ``hit_from``."""
    calls = {"h": 0, "qr": 0}
    real_h, real_qr = pwd.h, p256.is_quadratic_residue_blind

    def counting_h(*parts: bytes) -> bytes:
        calls["h"] += 1
        return real_h(*parts)

    def counting_qr(*args) -> int:
        calls["qr"] += 1
        return real_qr(*args) if calls["qr"] >= hit_from else 0

    monkeypatch.setattr(pwd, "h", counting_h)
    monkeypatch.setattr(p256, "is_quadratic_residue_blind", counting_qr)
    return calls


@pytest.mark.parametrize("password,counter,x,y", PWE_VECTORS)
def test_hunting_runs_the_same_iterations_whatever_the_first_hit(monkeypatch, password, counter, x, y):
    calls = count_iterations(monkeypatch)
    assert password_element(b"tokn", b"alice@wlan", b"server", password) == (int(x, 16), int(y, 16))
    assert calls == {"h": pwd.MIN_HUNT, "qr": pwd.MIN_HUNT} and pwd.MIN_HUNT == 40


def test_hunting_past_k_stops_at_the_first_hit_and_gives_up_at_max(monkeypatch):
    calls = count_iterations(monkeypatch, hit_from=45)      # no residue before counter 45
    want, counter = reference_element(b"tokn", b"alice@wlan", b"server", b"pw0", first=45)
    assert password_element(b"tokn", b"alice@wlan", b"server", b"pw0") == want
    assert calls == {"h": counter, "qr": counter}
    calls = count_iterations(monkeypatch, hit_from=10**9)   # never a residue
    assert password_element(b"tokn", b"alice@wlan", b"server", b"pw0") is None
    assert calls["qr"] == pwd.MAX_HUNT


def test_blinded_residue_test_agrees_with_the_legendre_symbol():
    for random in RANDOM_SOURCES:
        qr, qnr = p256.random_qr_qnr(random)
        assert pow(qr, (p256.P - 1) // 2, p256.P) == 1 and pow(qnr, (p256.P - 1) // 2, p256.P) == p256.P - 1
        for v in [0, 1, 2, 3, p256.P - 1] + [int.from_bytes(os.urandom(32), "big") % p256.P for _ in range(40)]:
            want = int(v != 0 and pow(v, (p256.P - 1) // 2, p256.P) == 1)
            assert p256.is_quadratic_residue_blind(v, qr, qnr, random) == want, v
    assert p256.select(-1, 5, 9) == 5 and p256.select(0, 5, 9) == 9


def test_ttls_avp_codec_round_trip_and_bad_lengths():
    data = encode_avp(1, b"alice") + encode_avp(25, b"x" * 50, vendor=311)
    avps = decode_avps(data)
    assert avps[(0, 1)] == b"alice" and avps[(311, 25)] == b"x" * 50
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


def response(data: bytes) -> EapPacket:
    return EapPacket(code=2, identifier=0, type=52, data=data, raw=b"")


async def server_commit(method: PwdMethod, password: bytes) -> tuple[p256.Point, int, p256.Point]:
    """Run ID; return the server's Element, Scalar and the password element a peer derives."""
    step = method.start("alice@wlan", 1)
    offer = step.data[1:]
    asked = method.process(response(bytes([EXCH_ID]) + offer[:9] + b"alice@wlan"), 2)
    assert asked == FindService("alice@wlan")          # the method asks; the caller looks up
    step = method.resume(await method.ctx.lookup.find_service(asked.identity))
    assert isinstance(step, Request) and step.data[0] == EXCH_COMMIT
    pwe = password_element(offer[4:8], b"alice@wlan", offer[9:], password)
    return p256.decode(step.data[1:65]), int.from_bytes(step.data[65:97], "big"), pwe


def commit(element: p256.Point | bytes, scalar: int) -> EapPacket:
    raw = element if isinstance(element, bytes) else p256.encode(element)
    return response(bytes([EXCH_COMMIT]) + raw + (scalar % 2**256).to_bytes(32, "big"))


def new_method() -> PwdMethod:
    return PwdMethod(MethodContext(lookup=MemoryLookup.with_password("alice@wlan", "s3cret-pw"), server_id="srv"))


def test_reflected_or_invalid_commit_is_refused():
    """RFC 5931 §2.8.5.2: the peer's Scalar in (1, r), Element on the curve, neither equal to ours."""
    async def attempt(make) -> object:
        method = new_method()
        element_s, scalar_s, pwe = await server_commit(method, b"s3cret-pw")
        return method.process(make(element_s, scalar_s, pwe), 3)

    mask = 7654321
    good_element = lambda pwe: p256.neg(p256.mul(mask, pwe))      # noqa: E731
    cases = {
        "reflection": lambda e, s, pwe: commit(e, s),
        "element echoed": lambda e, s, pwe: commit(e, s + 1),
        "scalar echoed": lambda e, s, pwe: commit(good_element(pwe), s),
        "scalar 0": lambda e, s, pwe: commit(good_element(pwe), 0),
        "scalar 1": lambda e, s, pwe: commit(good_element(pwe), 1),
        "scalar r": lambda e, s, pwe: commit(good_element(pwe), p256.R),
        "scalar r+1": lambda e, s, pwe: commit(good_element(pwe), p256.R + 1),
        "element off the curve": lambda e, s, pwe: commit(p256.encode(e)[:63] + bytes([p256.encode(e)[63] ^ 1]), 5),
        "element infinity": lambda e, s, pwe: commit(bytes(64), 5),
    }
    for name, make in cases.items():
        step = asyncio.run(attempt(make))
        assert isinstance(step, Failure), name
        assert ("reflection" in step.reason) == name.startswith(("reflection", "element echoed", "scalar echoed")), name
    step = asyncio.run(attempt(lambda e, s, pwe: commit(good_element(pwe), 1234567 + mask)))
    assert isinstance(step, Request) and step.data[0] == EXCH_CONFIRM


def test_in_memory_authentication_gives_the_keys_both_sides_derive():
    async def run() -> tuple[object, bytes]:
        method = new_method()
        element_s, scalar_s, pwe = await server_commit(method, b"s3cret-pw")
        rand, mask = 1234567, 7654321
        scalar_p, element_p = rand + mask, p256.neg(p256.mul(mask, pwe))
        step = method.process(commit(element_p, scalar_p), 3)
        ks = p256.mul(rand, p256.add(p256.mul(scalar_s, pwe), element_s))[0].to_bytes(32, "big")
        confirm_s = h(ks, p256.encode(element_s), scalar_s.to_bytes(32, "big"), p256.encode(element_p),
                      scalar_p.to_bytes(32, "big"), CIPHERSUITE)
        assert step.data[1:] == confirm_s
        confirm_p = h(ks, p256.encode(element_p), scalar_p.to_bytes(32, "big"), p256.encode(element_s),
                      scalar_s.to_bytes(32, "big"), CIPHERSUITE)
        step = method.process(response(bytes([EXCH_CONFIRM]) + confirm_p), 4)
        method_id = h(CIPHERSUITE, scalar_p.to_bytes(32, "big"), scalar_s.to_bytes(32, "big"))
        return step, kdf(h(ks, confirm_p, confirm_s), bytes([52]) + method_id, 1024)

    step, keys = asyncio.run(run())
    assert isinstance(step, Success) and step.msk == keys[:64] and step.emsk == keys[64:128]


def test_a_context_without_a_performer_answers_find_service_from_its_lookup():
    """The Conversation performs the method's FindService with the context's CredentialLookup."""
    async def run():
        conv = Conversation(Policy((52,)), MethodContext(MemoryLookup.with_password("alice@wlan", "s3cret-pw"),
                                                         server_id="srv"), first_identifier=1)
        first = await conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@wlan"))
        offer = first.packet[6:]                    # Type-Data after the PWD-Exch octet
        return await conv.receive(encode(Code.RESPONSE, first.identifier, 52,
                                         bytes([EXCH_ID]) + offer[:9] + b"alice@wlan"))
    step = asyncio.run(run())
    assert isinstance(step, Send) and step.packet[5] == EXCH_COMMIT
