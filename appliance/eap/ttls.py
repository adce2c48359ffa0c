"""EAP-TTLSv0 server method (RFC 5281) over ``ssl`` memory BIOs.

Phase 1: a TLS 1.2/1.3 handshake carried in EAP-TTLS messages (flags L/M/S,
version 0, §9.1) fragmented at ``options["mtu"]`` and reassembled up to
``MAX_MESSAGE`` (§9.2.2).  Phase 2: Diameter-style AVPs (§10) inside the tunnel
carrying PAP (§11.2.5), CHAP (§11.2.2) or MS-CHAP-V2 (§11.2.4, RFC 2759) checked
against ``Service.credentials.password``; the CHAP/MS-CHAP challenges are the
implicit ones from the TLS exporter "ttls challenge" (§11.1).  EAP inside the tunnel
(§11.1, the EAP-Message AVP): an inner :class:`~appliance.eap.framework.Conversation`
over :data:`~appliance.eap.framework.tunnel_registry` (EAP-MSCHAPv2, EAP-GTC); its inner
EAP-Success ends the tunnel with the outer EAP-Success (the keys stay the tunnel's).  Keys (§8): 128
octets of TLS-Exporter("ttls keying material"): MSK = first 64, EMSK = next 64
(the derivation wpa_supplicant and FreeRADIUS use for TLS 1.2 and 1.3 alike).
"""
from __future__ import annotations

import hmac
import logging
import ssl
import struct
from collections.abc import Callable
from typing import ClassVar

from ..ocs.inventory import Service
from ..ocs.passwords import pap_matches
from . import mschapv2
from .events import Action, FindService, Reply
from .fragments import FLAG_L, FLAG_M, FragmentError, Incoming, Outgoing, build, parse
from .framework import (
    Accept,
    Conversation,
    Failure,
    MethodContext,
    Policy,
    Reject,
    Request,
    Send,
    Step,
    Success,
    registry,
    tunnel_registry,
)
from .packet import EapPacket, EapType
from .tlsexport import ExporterUnavailable, export_keying_material, keep_session, remember_in_session
from .tlstunnel import below_minimum, confirmed, read_application_data, remembered, session_record

log = logging.getLogger(__name__)

FLAG_S = 0x20
VERSION = 0
MAX_MESSAGE = 65536
LENGTH_SIZE = 4

AVP_USER_NAME, AVP_USER_PASSWORD, AVP_CHAP_PASSWORD, AVP_CHAP_CHALLENGE = 1, 2, 3, 60
AVP_EAP_MESSAGE = 79
VENDOR_MS = 311
MS_CHAP_CHALLENGE, MS_CHAP_ERROR, MS_CHAP2_RESPONSE, MS_CHAP2_SUCCESS = 11, 2, 25, 26
AVP_FLAG_V, AVP_FLAG_M = 0x80, 0x40


def server_context(cert: str, key: str, tls13: bool = True) -> ssl.SSLContext:
    """The TLS server context for EAP-TTLS: TLS 1.2 minimum, 1.3 when ``tls13``, no tickets."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_NONE
    ctx.options |= ssl.OP_NO_TICKET
    try:
        ctx.num_tickets = 0
    except (AttributeError, ValueError):
        pass
    return ctx


# --------------------------------------------------------------------------- AVPs (RFC 5281 §10)

def encode_avp(code: int, data: bytes, vendor: int = 0, mandatory: bool = True) -> bytes:
    flags = (AVP_FLAG_V if vendor else 0) | (AVP_FLAG_M if mandatory else 0)
    head = 12 if vendor else 8
    length = head + len(data)
    out = struct.pack("!IB", code, flags) + length.to_bytes(3, "big")
    if vendor:
        out += struct.pack("!I", vendor)
    out += data
    return out + bytes(-len(out) % 4)


def decode_avps(data: bytes) -> dict[tuple[int, int], bytes]:
    """(vendor, code) -> data; raises ValueError on a malformed AVP; first occurrence wins."""
    out: dict[tuple[int, int], bytes] = {}
    pos = 0
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("truncated AVP header")
        code, flags = struct.unpack_from("!IB", data, pos)
        length = int.from_bytes(data[pos + 5:pos + 8], "big")
        head = 12 if flags & AVP_FLAG_V else 8
        if length < head or pos + length > len(data):
            raise ValueError("bad AVP length")
        vendor = struct.unpack_from("!I", data, pos + 8)[0] if flags & AVP_FLAG_V else 0
        out.setdefault((vendor, code), data[pos + head:pos + length])
        pos += length + (-length % 4)
    return out


def eap_messages(data: bytes) -> bytes:
    """Every EAP-Message AVP's data, concatenated in order (one EAP packet may span several)."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        code, flags = struct.unpack_from("!IB", data, pos)
        length = int.from_bytes(data[pos + 5:pos + 8], "big")
        head = 12 if flags & AVP_FLAG_V else 8
        if length < head:
            break
        if code == AVP_EAP_MESSAGE and not flags & AVP_FLAG_V:
            out.append(data[pos + head:pos + length])
        pos += length + (-length % 4)
    return b"".join(out)


DEFAULT_INNER = (int(EapType.MSCHAPV2), int(EapType.GTC))


class TtlsMethod:
    type: ClassVar[int] = int(EapType.TTLS)

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        options = ctx.options
        self.sslctx: ssl.SSLContext | None = options.get("ttls")
        self.mtu = int(options.get("mtu", 1000))
        self.incoming_bio = ssl.MemoryBIO()
        self.outgoing_bio = ssl.MemoryBIO()
        self.tls: ssl.SSLObject | None = None
        self.inbound = Incoming(MAX_MESSAGE)
        self.outbound: Outgoing | None = None
        self.handshake_done = False
        self.pending_success: Success | None = None
        self.identity = ""
        self.inner: Conversation | None = None      # phase 2 EAP (§11.1)
        self.then: Callable[[Reply], Step] | None = None   # what the outstanding action's reply feeds

    async def start(self, identity: str, ident: int) -> Step:
        if self.sslctx is None:
            return Failure("EAP-TTLS has no TLS context configured")
        self.identity = identity
        self.tls = self.sslctx.wrap_bio(self.incoming_bio, self.outgoing_bio, server_side=True)
        return Request(bytes([FLAG_S | VERSION]))

    def _send(self, message: bytes) -> Step:
        self.outbound = Outgoing(message, self.mtu, LENGTH_SIZE)
        return self._next_fragment()

    def _next_fragment(self) -> Step:
        assert self.outbound is not None
        frag = self.outbound.next()
        if not self.outbound.pending:
            self.outbound = None
        return Request(build(VERSION, frag, LENGTH_SIZE))

    async def process(self, packet: EapPacket, ident: int) -> Step | Action:
        assert self.tls is not None
        try:
            flags, frag = parse(packet.data, LENGTH_SIZE)
        except FragmentError as exc:
            return Failure(f"TTLS: {exc}")
        if self.outbound is not None:             # the peer must ACK each of our fragments (§9.2.2)
            if frag.payload or flags & (FLAG_L | FLAG_M):
                return Failure("TTLS: expected a fragment ACK")
            return self._next_fragment()
        if self.pending_success is not None:      # the peer acknowledged our Success AVP / ticket
            return self._keep(self.pending_success)
        try:
            message = self.inbound.feed(frag)
        except FragmentError as exc:
            return Failure(f"TTLS: {exc}")
        if message is None:
            return Request(bytes([VERSION]))       # ACK: send the next fragment
        if message:
            self.incoming_bio.write(message)
        if not self.handshake_done:
            try:
                self.tls.do_handshake()
                self.handshake_done = True
                refused = below_minimum(self.tls, self.identity, self.ctx.options)
                if refused:
                    return Failure(refused)
                if self.tls.session_reused:       # §7.4: a resumed session skips phase 2
                    return self._resumed()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                log.info("TTLS handshake failed: %s", exc.reason)
                out = self.outgoing_bio.read()
                return Failure(f"TLS handshake failed: {exc.reason}") if not out else self._alert(out)
        plain = self._read_application_data()
        if isinstance(plain, Failure):
            return plain
        if plain:
            return await self._phase2(plain)
        out = self.outgoing_bio.read()
        if out:
            return self._send(out)
        return Request(bytes([VERSION]))           # nothing to say: let the peer continue

    def _alert(self, out: bytes) -> Step:
        return Failure("TLS alert sent") if not out else self._send(out)

    def _read_application_data(self) -> bytes | Failure:
        if not self.handshake_done:
            return b""
        assert self.tls is not None
        return read_application_data(self.tls)

    def _export(self, label: str, length: int) -> bytes:
        assert self.tls is not None and self.sslctx is not None
        return export_keying_material(self.tls, self.sslctx, label, length)

    def _keys(self) -> tuple[bytes, bytes]:
        assert self.tls is not None and self.sslctx is not None
        if self.tls.version() == "TLSv1.3":       # RFC 9427 §2.1: Type-Code as context
            material = export_keying_material(self.tls, self.sslctx, "EXPORTER_EAP_TLS_Key_Material", 128,
                                              bytes([int(EapType.TTLS)]))
        else:
            material = self._export("ttls keying material", 128)
        return material[:64], material[64:]

    # --------------------------------------------------------------------------- phase 2
    async def _phase2(self, plain: bytes) -> Step | Action:
        try:
            avps = decode_avps(plain)
        except ValueError as exc:
            return Failure(f"TTLS phase 2: {exc}")
        eap = eap_messages(plain)
        if eap:
            return await self._inner_eap(eap)
        raw_user = avps.get((0, AVP_USER_NAME))
        if raw_user is None:
            return Failure("TTLS phase 2 without User-Name")
        user = raw_user.rstrip(b"\0").decode("utf-8", "replace")
        return self._ask(FindService(user), lambda reply: self._credentials(user, avps, reply))

    def _ask(self, action: Action, then: Callable[[Reply], Step]) -> Action:
        self.then = then
        return action

    def resume(self, reply: Reply) -> Step:
        """Continue with the reply to the action the last step returned."""
        then, self.then = self.then, None
        if then is None:
            raise RuntimeError("TTLS: resumed with no action outstanding")
        return then(reply)

    def _credentials(self, user: str, avps: dict[tuple[int, int], bytes], reply: Reply) -> Step:
        """Phase 2 PAP / CHAP / MS-CHAP-V2 (§11.2) with the user's service (or None)."""
        service = reply if isinstance(reply, Service) else None
        password = service.credentials.password if service is not None and service.enabled else None
        sid = service.id if service is not None else None
        try:
            if (0, AVP_USER_PASSWORD) in avps:
                return self._pap(user, password, sid, avps[(0, AVP_USER_PASSWORD)])
            if (0, AVP_CHAP_PASSWORD) in avps:
                return self._chap(user, password, sid, avps)
            if (VENDOR_MS, MS_CHAP2_RESPONSE) in avps:
                return self._mschapv2(user, password, sid, avps)
        except ExporterUnavailable as exc:
            return Failure(f"TTLS keys unavailable: {exc}")
        return Failure("TTLS phase 2 method not supported")

    async def _inner_eap(self, eap: bytes) -> Step:
        """§11.1: the EAP-Message AVP carries the inner EAP conversation; each inner Request goes
        back in one EAP-Message AVP; the inner EAP-Success is not tunnelled (the outer one follows)."""
        if self.inner is None:
            methods = tuple(int(t) for t in self.ctx.options.get("inner_methods", DEFAULT_INNER))
            self.inner = Conversation(Policy(methods), self.ctx, tunnel_registry)
        outcome = await self.inner.receive(eap)
        if isinstance(outcome, Send):
            assert self.tls is not None
            self.tls.write(encode_avp(AVP_EAP_MESSAGE, outcome.packet))
            return self._send(self.outgoing_bio.read())
        if isinstance(outcome, Accept):
            try:
                return self._done(self._success(outcome.identity, outcome.service_id))
            except ExporterUnavailable as exc:
                return Failure(f"TTLS keys unavailable: {exc}")
        if isinstance(outcome, Reject):
            return Failure(f"inner EAP: {outcome.reason}", outcome.service_id)
        return Failure(f"inner EAP: {outcome.reason}")

    def _success(self, user: str, sid: str | None) -> Success:
        msk, emsk = self._keys()
        return Success(msk, emsk, identity=user, service_id=sid, extra={"inner": True})

    def _remember(self, success: Success) -> None:
        """Let a later handshake resume this session without phase 2 (TLS 1.3: queue the ticket)."""
        if self.ctx.options.get("tunnel_resumption") and self.tls is not None and self.sslctx is not None:
            remember_in_session(self.tls, self.sslctx, session_record(self.type, success.identity,
                                                                       success.service_id))

    def _done(self, success: Success) -> Step:
        """EAP-Success, after a TLS 1.3 NewSessionTicket when resumption is on (one more round trip)."""
        assert self.tls is not None
        tls13 = self.tls.version() == "TLSv1.3"   # (None while a queued ticket is pending)
        self._remember(success)
        if tls13 and self.ctx.options.get("tunnel_resumption"):
            try:
                self.tls.do_handshake()            # writes the queued ticket
            except ssl.SSLError:
                pass
        out = self.outgoing_bio.read()
        if not out:
            return self._keep(success)
        self.pending_success = success
        return self._send(out)

    def _keep(self, success: Success) -> Success:
        if self.ctx.options.get("tunnel_resumption") and self.tls is not None and self.sslctx is not None:
            keep_session(self.tls, self.sslctx)
        return success

    def _resumed(self) -> Step | Action:
        assert self.tls is not None and self.sslctx is not None
        identity = remembered(self.tls, self.sslctx, self.type)
        if isinstance(identity, Failure):
            return identity
        return self._ask(FindService(identity), lambda reply: self._resumed_by(identity, reply))

    def _resumed_by(self, identity: str, reply: Reply) -> Step:
        assert self.tls is not None and self.sslctx is not None
        found = confirmed(self.tls, self.sslctx, identity, reply)
        if isinstance(found, Failure):
            return found
        try:
            msk, emsk = self._keys()
        except ExporterUnavailable as exc:
            return Failure(f"TTLS keys unavailable: {exc}")
        return Success(msk, emsk, identity=found[0], service_id=found[1], extra={"inner": True, "resumed": True})

    def _pap(self, user: str, password: str | None, sid: str | None, given: bytes) -> Step:
        """§11.2.5: User-Password in clear inside the tunnel, NUL-padded to 16."""
        if password is not None and pap_matches(given.rstrip(b"\0"), password.encode()):
            return self._done(self._success(user, sid))
        return Failure("inner PAP: bad credentials", sid)

    def _chap(self, user: str, password: str | None, sid: str | None, avps: dict[tuple[int, int], bytes]) -> Step:
        """§11.2.2: CHAP-Challenge and the CHAP Identifier must be the implicit challenge (16 + 1 octets)."""
        implicit = self._export("ttls challenge", 17)
        challenge, chap = avps.get((0, AVP_CHAP_CHALLENGE)), avps[(0, AVP_CHAP_PASSWORD)]
        if challenge != implicit[:16] or len(chap) != 17 or chap[0] != implicit[16]:
            return Failure("inner CHAP: challenge mismatch", sid)
        import hashlib
        if password is not None and hmac.compare_digest(
                hashlib.md5(chap[:1] + password.encode() + challenge).digest(), chap[1:]):
            return self._done(self._success(user, sid))
        return Failure("inner CHAP: bad credentials", sid)

    def _mschapv2(self, user: str, password: str | None, sid: str | None,
                  avps: dict[tuple[int, int], bytes]) -> Step:
        """§11.2.4: MS-CHAP-Challenge (16) + MS-CHAP2-Response (Ident, Flags, Peer-Challenge, 8 reserved,
        NT-Response); on success send MS-CHAP2-Success (Ident + "S=...") and wait for the peer's ACK."""
        implicit = self._export("ttls challenge", 17)
        challenge = avps.get((VENDOR_MS, MS_CHAP_CHALLENGE))
        response = avps[(VENDOR_MS, MS_CHAP2_RESPONSE)]
        if challenge != implicit[:16] or len(response) != 50 or response[0] != implicit[16]:
            return Failure("inner MS-CHAP-V2: challenge mismatch", sid)
        peer_challenge, nt_response = response[2:18], response[26:50]
        if password is None or not mschapv2.verify(challenge, peer_challenge, user, password, nt_response):
            return Failure("inner MS-CHAP-V2: bad credentials", sid)
        auth = mschapv2.authenticator_response(password, nt_response, peer_challenge, challenge, user)
        assert self.tls is not None
        self.pending_success = self._success(user, sid)
        self._remember(self.pending_success)       # TLS 1.3: the ticket goes out with the Success AVP
        self.tls.write(encode_avp(MS_CHAP2_SUCCESS, bytes([response[0]]) + auth.encode(), vendor=VENDOR_MS))
        return self._send(self.outgoing_bio.read())


registry.register(int(EapType.TTLS), TtlsMethod)
