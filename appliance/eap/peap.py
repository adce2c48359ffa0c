"""PEAPv0 server method ([MS-PEAP], draft-kamath-pppext-peapv0-00) with inner EAP.

Phase 1: TLS (:mod:`appliance.eap.tlstunnel`), version 0 offered in the Start.  Phase 2: an
inner :class:`~appliance.eap.framework.Conversation` over
:data:`~appliance.eap.framework.tunnel_registry` (EAP-MSCHAPv2, EAP-GTC), whose packets travel
without their 4-octet EAP header ([MS-PEAP] §3.1.5.6: "compressed"), except the EAP-TLV
packets (§2.2.8), which keep it.  After the inner method, the server sends a Result TLV and, on
success, a Crypto-Binding TLV (§2.2.8.5, §3.1.5.5): ISK = the inner MSK (32 octets, zero when the
method has none), TK = the first 60 octets of the TLS key material, IPMK | CMK =
PRF+(TK[0:40], "Inner Methods Compound Keys" | ISK, 60), Compound_MAC = HMAC-SHA1(CMK, TLV with
the MAC zeroed | 0x19).  When the peer answers with a valid Crypto-Binding TLV, MSK = the first
64 octets of PRF+(IPMK, "Session Key Generating Function" | 0x00, 128) (§3.1.5.7); otherwise the
TLS key material (RFC 5216 §2.3 "client EAP encryption"; RFC 9427 §2.1 for TLS 1.3).
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from typing import ClassVar

from .events import Action, FindService, Reply
from .framework import (
    Accept,
    Conversation,
    Failure,
    MethodContext,
    Policy,
    Reject,
    Send,
    Step,
    Success,
    registry,
    tunnel_registry,
)
from .packet import Code, EapType, encode
from .tlsexport import forget_session, keep_session, remember_in_session
from .tlstunnel import TlsMethodBase, confirmed, remembered, session_record

TLV_RESULT, TLV_CRYPTO_BINDING = 3, 12
RESULT_SUCCESS, RESULT_FAILURE = 1, 2
TLV_MANDATORY = 0x8000
DEFAULT_INNER = (int(EapType.MSCHAPV2), int(EapType.GTC))


def prf_plus(key: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """[MS-PEAP] §3.1.5.5 PRF+ for PEAPv0: T(n) = HMAC-SHA1(K, T(n-1) | label | seed | n | 0x00 0x00)."""
    out, t, n = b"", b"", 0
    while len(out) < length:
        n += 1
        t = hmac.new(key, t + label + seed + bytes([n, 0, 0]), hashlib.sha1).digest()
        out += t
    return out[:length]


def compound_keys(tk: bytes, isk: bytes) -> tuple[bytes, bytes]:
    """IPMK (40) and CMK (20) from the tunnel key and the inner session key (§3.1.5.5)."""
    imck = prf_plus(tk[:40], b"Inner Methods Compound Keys", isk.ljust(32, b"\0")[:32], 60)
    return imck[:40], imck[40:]


def compound_mac(cmk: bytes, tlv: bytes) -> bytes:
    """§3.1.5.5: HMAC-SHA1 over the Crypto-Binding TLV (60 octets, MAC zeroed) and the EAP type 25."""
    return hmac.new(cmk, tlv[:40] + bytes(20) + bytes([int(EapType.PEAP)]), hashlib.sha1).digest()


def crypto_binding_tlv(cmk: bytes, nonce: bytes, version: int, recv_version: int, subtype: int) -> bytes:
    body = bytes([0, version, recv_version, subtype]) + nonce
    tlv = struct.pack("!HH", TLV_CRYPTO_BINDING, 56) + body + bytes(20)
    return tlv[:40] + compound_mac(cmk, tlv)


def parse_tlvs(data: bytes) -> dict[int, bytes] | None:
    """EAP-TLV payload -> {type: whole TLV}; None when malformed or an unknown mandatory TLV is present."""
    out: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(data):
        head, length = struct.unpack_from("!HH", data, pos)
        if pos + 4 + length > len(data):
            return None
        type_ = head & 0x3FFF
        if type_ not in (TLV_RESULT, TLV_CRYPTO_BINDING) and head & TLV_MANDATORY:
            return None
        out.setdefault(type_, data[pos:pos + 4 + length])
        pos += 4 + length
    return out if pos == len(data) else None


class PeapMethod(TlsMethodBase):
    type: ClassVar[int] = int(EapType.PEAP)
    option: ClassVar[str] = "peap"

    def __init__(self, ctx: MethodContext) -> None:
        super().__init__(ctx)
        self.inner: Conversation | None = None
        self.inner_result: Accept | Reject | None = None
        self.cmk = b""
        self.ipmk = b""
        self.nonce = b""
        self.tlv_ident = 0
        self.binding = str(ctx.options.get("peap_crypto_binding", "optional"))
        self.fast_reconnect = False

    def peap_keys(self) -> bytes:
        """128 octets of key material: TLS 1.2 PRF "client EAP encryption" (RFC 5216 §2.3), TLS 1.3
        TLS-Exporter("EXPORTER_EAP_TLS_Key_Material", 0x19, 128) (RFC 9427 §3.1); TK = the first 60."""
        return self.export(128)

    def _tunnel(self, payload: bytes) -> Step:
        assert self.tls is not None
        self.tls.write(payload)
        return self.flush()

    async def after_handshake(self, plain: bytes, finished_now: bool) -> Step | Action:
        assert self.tls is not None and self.sslctx is not None
        if finished_now and self.tls.session_reused:     # [MS-PEAP] §3.1.5.4 fast reconnect: no phase 2
            identity = remembered(self.tls, self.sslctx, self.type)
            if isinstance(identity, Failure):
                return identity
            return self.ask(FindService(identity), lambda reply: self._reconnected(identity, reply))
        if self.inner_result is not None:
            return self._tlv_response(plain) if plain else Failure("PEAP: peer sent nothing for the TLV")
        if self.inner is None:
            pending = self.outgoing_bio.read()
            if pending:                            # TLS 1.2: our Finished first; the peer answers empty
                return self.send(pending)
            methods = tuple(int(t) for t in self.ctx.options.get("inner_methods", DEFAULT_INNER))
            # the peer rebuilds each compressed inner packet's header with the outer Identifier
            # (a method that MACs the whole packet, like EAP-AKA, depends on it): keep them equal
            self.inner = Conversation(Policy(methods), self.ctx, tunnel_registry,
                                      first_identifier=(self.next_ident - 1) & 0xFF)
            return self._tunnel(self.inner.start().packet[4:])
        if not plain:
            return self.empty()
        self.inner.identifier = self.response_ident
        header = struct.pack("!BBH", int(Code.RESPONSE), self.response_ident, 4 + len(plain))
        outcome = await self.inner.receive(header + plain)
        if isinstance(outcome, Send):
            return self._tunnel(outcome.packet[4:])
        if isinstance(outcome, Reject):        # EAP-Failure at once: a peer requiring crypto binding
            return Failure(f"PEAP inner EAP: {outcome.reason}", outcome.service_id)   # ignores an unbound TLV
        if isinstance(outcome, Accept):
            return self._result(outcome)
        return Failure(f"PEAP inner EAP: {outcome.reason}")

    def _reconnected(self, identity: str, reply: Reply) -> Step:
        assert self.tls is not None and self.sslctx is not None
        found = confirmed(self.tls, self.sslctx, identity, reply)
        if isinstance(found, Failure):
            return found
        self.fast_reconnect = True
        return self._result(Accept(b"", b"", b"", found[0], self.type, found[1]))

    def _result(self, outcome: Accept | Reject) -> Step:
        """Result TLV (§2.2.8.3), with the Crypto-Binding TLV on success (§2.2.8.5)."""
        self.inner_result = outcome
        self.tlv_ident = self.next_ident
        ok = isinstance(outcome, Accept)
        body = struct.pack("!HHH", TLV_MANDATORY | TLV_RESULT, 2, RESULT_SUCCESS if ok else RESULT_FAILURE)
        if isinstance(outcome, Accept):
            tk = self.peap_keys()[:60]
            if self.fast_reconnect:                  # §3.1.5.5: a resumed session has no ISK: IPMK | CMK = TK
                self.ipmk, self.cmk = tk[:40], tk[40:60]
            else:
                self.ipmk, self.cmk = compound_keys(tk, outcome.msk[:32])
            if self.ctx.options.get("tunnel_resumption") and self.tls is not None and self.sslctx is not None:
                remember_in_session(self.tls, self.sslctx,    # TLS 1.3: the ticket goes with the TLVs
                                    session_record(self.type, outcome.identity, outcome.service_id))
            self.nonce = self.ctx.random(32)
            body += crypto_binding_tlv(self.cmk, self.nonce, self.version, self.peer_version or 0, 0)
        return self._tunnel(encode(Code.REQUEST, self.tlv_ident, int(EapType.TLV), body))

    def _tlv_response(self, plain: bytes) -> Step:
        step = self._check_tlv_response(plain)
        if isinstance(step, Failure) and self.tls is not None and self.sslctx is not None:
            forget_session(self.tls, self.sslctx)      # never resume a session whose TLVs failed
        elif self.ctx.options.get("tunnel_resumption") and self.tls is not None and self.sslctx is not None:
            keep_session(self.tls, self.sslctx)
        return step

    def _check_tlv_response(self, plain: bytes) -> Step:
        outcome = self.inner_result
        sid = outcome.service_id if outcome is not None else None
        if len(plain) < 5 or plain[0] != Code.RESPONSE or plain[4] != EapType.TLV or \
                int.from_bytes(plain[2:4], "big") != len(plain):
            return Failure("PEAP: expected an EAP-TLV response", sid)
        tlvs = parse_tlvs(plain[5:])
        if tlvs is None or TLV_RESULT not in tlvs or len(tlvs[TLV_RESULT]) != 6:
            return Failure("PEAP: malformed TLV response", sid)
        if not isinstance(outcome, Accept):
            return Failure(f"PEAP inner EAP: {outcome.reason if outcome is not None else 'failed'}", sid)
        if int.from_bytes(tlvs[TLV_RESULT][4:6], "big") != RESULT_SUCCESS:
            return Failure("PEAP: the peer answered the Result TLV with failure", sid)
        binding = tlvs.get(TLV_CRYPTO_BINDING)
        if binding is None:
            if self.binding == "required":
                return Failure("PEAP: no Crypto-Binding TLV in the answer", sid)
            material = self.peap_keys()
            return Success(material[:64], material[64:], identity=outcome.identity, service_id=sid,
                           extra={"inner": True})
        if len(binding) != 60 or binding[5] != self.version or binding[7] != 1 or \
                not hmac.compare_digest(compound_mac(self.cmk, binding), binding[40:60]):
            return Failure("PEAP: Crypto-Binding TLV does not verify", sid)
        csk = prf_plus(self.ipmk, b"Session Key Generating Function", b"\0", 128)
        return Success(csk[:64], b"", identity=outcome.identity, service_id=sid,
                       extra={"inner": True, "crypto_binding": True, "resumed": self.fast_reconnect})


registry.register(int(EapType.PEAP), PeapMethod)
