"""EAP-pwd server method (RFC 5931), group 19 (NIST P-256), random function and PRF HMAC-SHA256.

Exchanges (§2.8.5): ID (server proposes group/functions, token, Prep "none"; the peer
echoes them with its identity), Commit (server Scalar/Element first, then the peer's),
Confirm (server's first).  The password element is found by hunting and pecking
(§2.8.3.2) with RFC 8146's fixed-iteration, blinded countermeasure; keys per §2.9:
MK = H(ks | Confirm_P | Confirm_S), Method-ID = H(Ciphersuite | Scalar_P | Scalar_S),
MSK | EMSK = KDF(MK, Type-Code | Method-ID, 1024).
Fragmentation with L/M and a 2-octet Total-Length (§3.3) through ``fragments``.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from typing import ClassVar

from ..ocs.inventory import Service
from . import p256
from .events import Action, FindService, Reply
from .fragments import FLAG_L, FLAG_M, FragmentError, Incoming, Outgoing, build, parse
from .framework import Failure, MethodContext, Request, Step, Success, registry
from .packet import EapPacket, EapType

EXCH_ID, EXCH_COMMIT, EXCH_CONFIRM = 1, 2, 3
GROUP = 19
RANDOM_FUNCTION = 1           # HMAC-SHA256 based KDF
PRF = 1                       # HMAC-SHA256
PREP_NONE = 0
LENGTH_SIZE = 2
MAX_MESSAGE = 4096
CIPHERSUITE = struct.pack("!HBB", GROUP, RANDOM_FUNCTION, PRF)
MIN_HUNT = 40                 # RFC 8146 §3 k: counters always tried (hostapd's value for EAP-pwd)
MAX_HUNT = 100                # counters before giving up (never reached in practice: 2^-100)


def h(*parts: bytes) -> bytes:
    """H(x) = HMAC-SHA256 keyed with 32 zero octets (RFC 5931 §2.4)."""
    return hmac.new(bytes(32), b"".join(parts), hashlib.sha256).digest()


def kdf(key: bytes, label: bytes, bits: int) -> bytes:
    """RFC 5931 §2.5: K(i) = HMAC(key, K(i-1) | i | label | length), truncated to ``bits``."""
    out = b""
    prev = b""
    i = 1
    while len(out) * 8 < bits:
        prev = hmac.new(key, prev + struct.pack("!H", i) + label + struct.pack("!H", bits), hashlib.sha256).digest()
        out += prev
        i += 1
    nbytes = (bits + 7) // 8
    res = bytearray(out[:nbytes])
    if bits % 8:
        res[-1] &= (0xFF << (8 - bits % 8)) & 0xFF
    return bytes(res)


def password_element(token: bytes, peer_id: bytes, server_id: bytes, password: bytes,
                     random: Callable[[int], bytes] = os.urandom) -> p256.Point:
    """Hunting and pecking (RFC 5931 §2.8.3.2) on P-256 with the RFC 8146 §3 countermeasure.

    Every call runs at least ``MIN_HUNT`` counters whatever the counter of the first hit: the
    found x and LSB(pwd-seed) are kept by masked selection (no early exit, no branch on the
    hit), the residue test is blinded (``p256.is_quadratic_residue_blind``) and the square root
    is taken once, after the loop.  Past ``MIN_HUNT`` (probability 2^-40) the loop continues to
    the first hit, as RFC 8146 allows.  ``random`` feeds the blinding only: the element is the
    RFC 5931 one.  Python integers are not constant time (docs/eap.md).
    """
    qr, qnr = p256.random_qr_qnr(random)
    found = x = lsb = 0
    counter = 0
    while counter < MIN_HUNT or not found:
        counter += 1
        if counter > MAX_HUNT:
            return None
        seed = h(token, peer_id, server_id, password, bytes([counter]))
        value = int.from_bytes(kdf(seed, b"EAP-pwd Hunting And Pecking", 256), "big")
        y_sqr = (value * value % p256.P * value + p256.A * value + p256.B) % p256.P
        hit = int(value < p256.P) & p256.is_quadratic_residue_blind(y_sqr, qr, qnr, random) & (1 - found)
        mask = -hit
        x = p256.select(mask, value, x)
        lsb = p256.select(mask, seed[-1] & 1, lsb)
        found |= hit
    y = pow((x * x % p256.P * x + p256.A * x + p256.B) % p256.P, (p256.P + 1) // 4, p256.P)
    return x, p256.select(-((y & 1) ^ lsb), p256.P - y, y)


class PwdMethod:
    type: ClassVar[int] = int(EapType.PWD)

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.mtu = int(ctx.options.get("mtu", 1000))
        self.server_id = ctx.server_id.encode()
        self.token = ctx.random(4)
        self.state = EXCH_ID
        self.inbound = Incoming(MAX_MESSAGE)
        self.outbound: Outgoing | None = None
        self.out_exch = EXCH_ID
        self.peer_id = b""
        self.service_id: str | None = None
        self.pwe: p256.Point = None
        self.rand = self.mask = 0
        self.scalar_s = 0
        self.element_s: p256.Point = None
        self.scalar_p = 0
        self.element_p: p256.Point = None
        self.ks = b""
        self.confirm_s = b""
        self.awaiting = False                     # a FindService is outstanding

    def _send(self, exch: int, payload: bytes) -> Step:
        self.out_exch = exch
        self.outbound = Outgoing(payload, self.mtu, LENGTH_SIZE)
        return self._next_fragment()

    def _next_fragment(self) -> Step:
        assert self.outbound is not None
        frag = self.outbound.next()
        if not self.outbound.pending:
            self.outbound = None
        return Request(build(self.out_exch, frag, LENGTH_SIZE))

    def start(self, identity: str, ident: int) -> Step:
        payload = struct.pack("!HBB", GROUP, RANDOM_FUNCTION, PRF) + self.token + bytes([PREP_NONE]) + self.server_id
        return self._send(EXCH_ID, payload)

    def process(self, packet: EapPacket, ident: int) -> Step | Action:
        try:
            flags, frag = parse(packet.data, LENGTH_SIZE)
        except FragmentError as exc:
            return Failure(f"pwd: {exc}")
        exch = flags & 0x3F
        if self.outbound is not None:
            if frag.payload or flags & (FLAG_L | FLAG_M) or exch != self.out_exch:
                return Failure("pwd: expected a fragment ACK")
            return self._next_fragment()
        if exch != self.state:
            return Failure(f"pwd: exchange {exch} while expecting {self.state}")
        try:
            message = self.inbound.feed(frag)
        except FragmentError as exc:
            return Failure(f"pwd: {exc}")
        if message is None:
            return Request(bytes([exch]))          # ACK for the peer's fragment
        if exch == EXCH_ID:
            return self._on_id(message)
        if exch == EXCH_COMMIT:
            return self._on_commit(message)
        return self._on_confirm(message)

    def _on_id(self, msg: bytes) -> Step | Action:
        """§3.2.1: the peer must echo group, functions, token and Prep; then the peer's
        credentials are asked for (:class:`~appliance.eap.events.FindService`)."""
        if len(msg) < 9:
            return Failure("pwd: short ID response")
        group, rfunc, prf = struct.unpack_from("!HBB", msg)
        if (group, rfunc, prf) != (GROUP, RANDOM_FUNCTION, PRF) or msg[4:8] != self.token or msg[8] != PREP_NONE:
            return Failure("pwd: ID response does not match the offer")
        self.peer_id = msg[9:]
        self.awaiting = True
        return FindService(self.peer_id.decode("utf-8", "replace"))

    def resume(self, reply: Reply) -> Step:
        """The peer's service (or None): derive the password element, send the Commit (§2.8.5.1)."""
        if not self.awaiting:
            raise RuntimeError("pwd: resumed with no action outstanding")
        self.awaiting = False
        service = reply if isinstance(reply, Service) else None
        if service is None or not service.enabled or not service.credentials.password:
            # keep the exchange going with a random password so an unknown user looks like a wrong one
            password = self.ctx.random(16)
        else:
            password = service.credentials.password.encode()
            self.service_id = service.id
        self.pwe = password_element(self.token, self.peer_id, self.server_id, password, self.ctx.random)
        if self.pwe is None:
            return Failure("pwd: no password element")
        while True:
            self.rand = int.from_bytes(self.ctx.random(32), "big") % p256.R
            self.mask = int.from_bytes(self.ctx.random(32), "big") % p256.R
            self.scalar_s = (self.rand + self.mask) % p256.R
            if self.rand > 1 and self.mask > 1 and self.scalar_s > 1:
                break
        self.element_s = p256.neg(p256.mul(self.mask, self.pwe))
        self.state = EXCH_COMMIT
        return self._send(EXCH_COMMIT, p256.encode(self.element_s) + self.scalar_s.to_bytes(32, "big"))

    def _on_commit(self, msg: bytes) -> Step:
        """§2.8.5.1: validate the peer's Element and Scalar, derive ks, send Confirm_S."""
        if len(msg) != 96:
            return Failure("pwd: bad Commit length", self.service_id)
        element = p256.decode(msg[:64])
        scalar = int.from_bytes(msg[64:], "big")
        if element is None or not 1 < scalar < p256.R:
            return Failure("pwd: invalid peer Element or Scalar", self.service_id)
        if element == self.element_s or scalar == self.scalar_s:
            # §2.8.5.2 names the pair; like hostapd, either one echoed is refused
            return Failure("pwd: reflection attack", self.service_id)
        k = p256.mul(self.rand, p256.add(p256.mul(scalar, self.pwe), element))
        if k is None:
            return Failure("pwd: K is the point at infinity", self.service_id)
        self.element_p, self.scalar_p = element, scalar
        self.ks = k[0].to_bytes(32, "big")
        self.confirm_s = h(self.ks, p256.encode(self.element_s), self.scalar_s.to_bytes(32, "big"),
                           p256.encode(element), scalar.to_bytes(32, "big"), CIPHERSUITE)
        self.state = EXCH_CONFIRM
        return self._send(EXCH_CONFIRM, self.confirm_s)

    def _on_confirm(self, msg: bytes) -> Step:
        want = h(self.ks, p256.encode(self.element_p), self.scalar_p.to_bytes(32, "big"),
                 p256.encode(self.element_s), self.scalar_s.to_bytes(32, "big"), CIPHERSUITE)
        if len(msg) != 32 or not hmac.compare_digest(want, msg) or self.service_id is None:
            return Failure("pwd: peer Confirm invalid (wrong password)", self.service_id)
        mk = h(self.ks, msg, self.confirm_s)
        method_id = h(CIPHERSUITE, self.scalar_p.to_bytes(32, "big"), self.scalar_s.to_bytes(32, "big"))
        keys = kdf(mk, bytes([int(EapType.PWD)]) + method_id, 1024)
        return Success(keys[:64], keys[64:128], identity=self.peer_id.decode("utf-8", "replace"),
                       service_id=self.service_id, extra={"method_id": method_id.hex()})


registry.register(int(EapType.PWD), PwdMethod)
