"""The pure EAP framework: codec tables, identity round, Nak negotiation, bounds (RFC 3748)."""
from __future__ import annotations

import asyncio
import hashlib
from typing import ClassVar

import pytest

from appliance.eap import (
    Accept,
    Conversation,
    EapFormatError,
    EapPacket,
    Failure,
    Ignore,
    MemoryLookup,
    MethodContext,
    Policy,
    Registry,
    Reject,
    Request,
    Send,
    Success,
    decode,
    encode,
)
from appliance.eap.conversations import ConversationStore
from appliance.eap.credentials import StoreLookup
from appliance.eap.framework import Discard, State, default_preference
from appliance.eap.packet import Code, nak_types

# (hex on the wire, code, identifier, type, type-data)
CODEC = [
    ("0201000b01616c696365", None, None, None, None),     # Length 11 > 10 octets: malformed
    ("0201000a01616c696365", Code.RESPONSE, 1, 1, b"alice"),
    ("01070006 0d20", Code.REQUEST, 7, 13, b"\x20"),
    ("03090004", Code.SUCCESS, 9, None, b""),
    ("04ff0004", Code.FAILURE, 255, None, b""),
    ("020200060304", Code.RESPONSE, 2, 3, b"\x04"),
]

MALFORMED = ["", "02", "020100", "02010003", "02010004", "05010005 01", "03010005 00", "0201ffff01"]


@pytest.mark.parametrize("hexa,code,ident,type_,data", CODEC)
def test_codec_table(hexa, code, ident, type_, data):
    raw = bytes.fromhex(hexa.replace(" ", ""))
    if code is None:
        with pytest.raises(EapFormatError):
            decode(raw)
        return
    pkt = decode(raw)
    assert (pkt.code, pkt.identifier, pkt.type, pkt.data) == (code, ident, type_, data)
    assert pkt.encode() == raw and pkt.raw == raw


@pytest.mark.parametrize("hexa", MALFORMED)
def test_codec_malformed(hexa):
    with pytest.raises(EapFormatError):
        decode(bytes.fromhex(hexa.replace(" ", "")))


def test_padding_beyond_length_is_ignored():
    pkt = decode(bytes.fromhex("0201000601 61 0000"))
    assert pkt.data == b"a" and pkt.raw == bytes.fromhex("020100060161")


def test_expanded_nak():
    body = bytes(6) + b"\x03" + b"\xfe" + bytes(3) + (52).to_bytes(4, "big") + b"\xfe" + b"\x00\x01\x37" + bytes(4)
    assert nak_types(EapPacket(Code.RESPONSE, 1, 254, body)) == (52,)
    with pytest.raises(EapFormatError):
        nak_types(EapPacket(Code.RESPONSE, 1, 254, body[:-1]))


# ------------------------------------------------------------------ a toy method pair for the machine

class Md5Like:
    """Challenge/response with a hash of (id, password, challenge); MSK = hash of both (test only)."""
    type: ClassVar[int] = 4

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.challenge = b""
        self.password: str | None = None
        self.ident = 0

    async def start(self, identity: str, ident: int):
        service = await self.ctx.lookup.find_service(identity)
        self.password = service.credentials.password if service else None
        self.challenge = self.ctx.random(16)
        self.ident = ident
        return Request(bytes([16]) + self.challenge)

    async def process(self, packet: EapPacket, ident: int):
        if packet.data == b"garbage":
            return Discard("bad integrity")
        want = hashlib.md5(bytes([self.ident]) + (self.password or "").encode() + self.challenge).digest()
        if self.password is not None and packet.data == bytes([16]) + want:
            return Success(msk=hashlib.sha512(want).digest(), emsk=b"e" * 64)
        return Failure("wrong response")


class Other(Md5Like):
    type: ClassVar[int] = 52


def _registry() -> Registry:
    r = Registry()
    r.register(4, Md5Like)
    r.register(52, Other)
    return r


def _conv(methods=(4, 52), first=10):
    ctx = MethodContext(MemoryLookup.with_password("alice@example", "pw"), random=lambda n: bytes(range(n)))
    return Conversation(Policy(tuple(methods)), ctx, _registry(), first_identifier=first)


def run(coro):
    return asyncio.run(coro)


def _answer(send: Send, password: str = "pw") -> bytes:
    pkt = decode(send.packet)
    want = hashlib.md5(bytes([pkt.identifier]) + password.encode() + pkt.data[1:]).digest()
    return encode(Code.RESPONSE, pkt.identifier, pkt.type, bytes([16]) + want)


def test_eap_start_identity_round_method_success():
    conv = _conv()
    out = run(conv.receive(b""))
    assert isinstance(out, Send) and decode(out.packet).type == 1 and out.identifier == 11
    out = run(conv.receive(encode(Code.RESPONSE, 11, 1, b"alice@example")))
    assert isinstance(out, Send) and decode(out.packet).type == 4 and out.identifier == 12
    assert conv.state is State.PROPOSED
    out = run(conv.receive(_answer(out)))
    assert isinstance(out, Accept)
    assert decode(out.packet).code == Code.SUCCESS and decode(out.packet).identifier == 12
    assert len(out.msk) == 64 and out.identity == "alice@example" and out.method == 4
    assert isinstance(run(conv.receive(b"")), Ignore)


def test_identity_from_pass_through_then_wrong_password():
    conv = _conv()
    out = run(conv.receive(encode(Code.RESPONSE, 200, 1, b"alice@example")))
    assert isinstance(out, Send) and out.identifier == 201
    out = run(conv.receive(_answer(out, "bad")))
    assert isinstance(out, Reject) and decode(out.packet).code == Code.FAILURE
    assert decode(out.packet).identifier == 201 and conv.state is State.FAILURE


def test_nak_moves_to_the_peer_choice_and_not_back():
    conv = _conv()
    out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@example")))
    out = run(conv.receive(encode(Code.RESPONSE, out.identifier, 3, bytes([21, 52]))))
    assert isinstance(out, Send) and decode(out.packet).type == 52
    # a second Nak asking for the first method again: already tried -> Failure
    out = run(conv.receive(encode(Code.RESPONSE, out.identifier, 3, bytes([4]))))
    assert isinstance(out, Reject) and "Nak" in out.reason


def test_nak_none_acceptable_and_nak_after_method_started():
    conv = _conv()
    out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@example")))
    out = run(conv.receive(encode(Code.RESPONSE, out.identifier, 3, b"\x00")))
    assert isinstance(out, Reject)
    conv = _conv(methods=(52, 4))
    out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@example")))
    assert decode(out.packet).type == 52


def test_identifier_mismatch_and_garbage_are_ignored_and_state_kept():
    conv = _conv()
    out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@example")))
    assert isinstance(run(conv.receive(encode(Code.RESPONSE, out.identifier + 1, 4, b"x"))), Ignore)
    assert isinstance(run(conv.receive(b"\x02\x00")), Ignore)
    assert isinstance(run(conv.receive(encode(Code.REQUEST, out.identifier, 4, b"x"))), Ignore)
    assert isinstance(run(conv.receive(encode(Code.RESPONSE, out.identifier, 4, b"garbage"))), Ignore)
    assert isinstance(run(conv.receive(_answer(out))), Accept)


def test_wrong_type_response_rejected_and_unknown_user():
    conv = _conv()
    out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@example")))
    assert isinstance(run(conv.receive(encode(Code.RESPONSE, out.identifier, 52, b"x"))), Reject)
    conv = _conv()
    out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"mallory")))
    assert isinstance(run(conv.receive(_answer(out, ""))), Reject)


def test_no_configured_method_and_bad_identity():
    conv = _conv(methods=(21,))
    assert isinstance(run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice"))), Reject)
    conv = _conv()
    assert isinstance(run(conv.receive(encode(Code.RESPONSE, 1, 1, b"\xff\xfe"))), Reject)
    conv = _conv()
    assert isinstance(run(conv.receive(encode(Code.RESPONSE, 1, 1, b"a" * 300))), Reject)


def test_round_bound():
    class Forever(Md5Like):
        async def process(self, packet, ident):
            return Request(b"\x00")
    r = Registry()
    r.register(4, Forever)
    conv = Conversation(Policy((4,), max_rounds=5), MethodContext(MemoryLookup()), r, first_identifier=0)
    out = run(conv.receive(encode(Code.RESPONSE, 0, 1, b"x")))
    results = []
    for _ in range(10):
        out = run(conv.receive(encode(Code.RESPONSE, out.identifier, 4, b"\x00")))
        results.append(type(out).__name__)
        if not isinstance(out, Send):
            break
    assert results[-1] == "Reject" and len(results) == 5


def test_registry_refuses_reserved_types():
    r = Registry()
    for t in (1, 2, 3, 254, 0, 256):
        with pytest.raises(ValueError):
            r.register(t, Md5Like)


def test_default_preference_by_identity_prefix():
    assert default_preference("0001010@wlan", (21, 23, 50)) == (23, 21, 50)
    assert default_preference("6001010@wlan", (21, 23, 50)) == (50, 21, 23)
    assert default_preference("6001010@wlan", (21, 52)) == (21, 52)
    assert default_preference("bob", (52, 21)) == (52, 21)
    for prefix in "024":                       # permanent, pseudonym, re-authentication (TS 23.003 §14.4)
        assert default_preference(prefix + "abc@wlan", (21, 52, 23, 50)) == (23, 21, 52, 50)
    for prefix in "678":
        assert default_preference(prefix + "abc@wlan", (21, 52, 23, 50)) == (50, 21, 52, 23)
    assert default_preference("5abc@wlan", (21, 23)) == (21, 23)


def test_conversation_store_bounds_and_expiry():
    s: ConversationStore[bytes, int] = ConversationStore(capacity=3, lifetime=10)
    for i in range(3):
        s.put(bytes([i]), i, now=i)
    s.put(b"\x03", 3, now=3)            # full: the oldest (0) goes
    assert s.get(b"\x00", 3) is None and s.evicted == 1 and len(s) == 3
    assert s.get(b"\x01", 10.5) == 1       # put at 1: deadline 11
    assert s.get(b"\x01", 11) is None and s.expired == 1
    s.put(b"\x02", 2, now=11)          # refreshed: deadline 21
    assert s.expire(14) == 1 and len(s) == 1     # 3 expired at 13
    assert s.get(b"\x02", 20) == 2 and s.pop(b"\x02") == 2 and len(s) == 0


def test_store_lookup_over_real_store(store, seed_subscriber):
    seed_subscriber(imsi="001010000000009", nai="bob@wlan", password="pw9")
    lookup = StoreLookup(store)

    async def go():
        svc = await lookup.find_service("bob@wlan")
        await lookup.set_sqn(svc.id, 77)
        return svc, await lookup.find_service("001010000000009"), await lookup.find_service("nobody")
    svc, again, none = run(go())
    assert svc.credentials.password == "pw9" and again.credentials.sqn == 77 and none is None
    assert "pw9" not in repr(svc)


def test_realm_policy_chooses_and_limits_methods():
    """A realm's own list: its first method is proposed, and a Nak may only ask for one of its methods."""
    ctx = MethodContext(MemoryLookup.with_password("alice@example", "pw"), random=lambda n: bytes(range(n)))
    policy = Policy((4, 52), by_realm={"secure.example": (52,)})
    conv = Conversation(policy, ctx, _registry(), first_identifier=10)
    out = run(conv.receive(encode(Code.RESPONSE, 10, 1, b"anon@Secure.Example")))
    assert isinstance(out, Send) and decode(out.packet).type == 52
    out = run(conv.receive(encode(Code.RESPONSE, out.identifier, 3, bytes([4]))))
    assert isinstance(out, Reject) and "Nak" in out.reason
    other = Conversation(policy, ctx, _registry(), first_identifier=10)     # another realm: the global list
    out = run(other.receive(encode(Code.RESPONSE, 10, 1, b"anon@example")))
    assert isinstance(out, Send) and decode(out.packet).type == 4
