"""The TLS part shared by PEAP and EAP-TLS: EAP-TLS framing over ``ssl`` memory BIOs.

RFC 5216 §3.1-§3.2 (flags L/M/S and the 4-octet TLS Message Length; every fragment the
server sends is ACKed by an empty Response, the peer's fragments are ACKed by an empty
Request), RFC 9190 (TLS 1.3) and RFC 9427 §2 (TLS 1.3 key export with the Type-Code as
context).  A subclass implements :meth:`TlsMethodBase.after_handshake` -- what to do with
each Response once the handshake is complete (PEAP's phase 2, EAP-TLS's commitment and
Success) -- and says which keys it exports.
"""
from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ..ocs.inventory import Service
from .events import Action, Reply
from .fragments import FLAG_L, FLAG_M, FragmentError, Incoming, Outgoing, build, parse
from .framework import Failure, MethodContext, Request, Step, realm_of
from .packet import EapPacket
from .tlsexport import (
    ExporterUnavailable,
    disable_session_cache,
    export_keying_material,
    forget_session,
    session_memory,
    set_session_lifetime,
    set_ticket_keys,
)

log = logging.getLogger(__name__)

FLAG_S = 0x20
MAX_MESSAGE = 65536
LENGTH_SIZE = 4
TLS13_LABEL = "EXPORTER_EAP_TLS_Key_Material"
TLS12_LABEL = "client EAP encryption"


def server_context(cert: str, key: str, minimum: str = "1.2", cafile: str = "", crlfile: str = "",
                   ticket_keys: bytes = b"", session_cache: int = 0) -> ssl.SSLContext:
    """A TLS server context for EAP: TLS ``minimum``..1.3; with ``cafile`` the peer must present a
    certificate chaining to it (EAP-TLS), with ``crlfile`` its leaf is checked against the CRLs (RFC 5280
    §6.3).  Resumption: stateless session tickets (RFC 5077, RFC 8446 §4.6.1) with ``ticket_keys`` (shared
    by every RADIUS worker, so any of them resumes a session another one issued); or, with
    ``session_cache`` seconds, this process's session cache (TLS 1.2 session IDs, TLS 1.3 stateful
    tickets issued only by :func:`~appliance.eap.tlsexport.remember_in_session`); otherwise none."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if minimum == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    if ticket_keys:
        set_ticket_keys(ctx, ticket_keys)
        ctx.num_tickets = 1
        if session_cache:
            set_session_lifetime(ctx, session_cache)
    else:
        ctx.options |= ssl.OP_NO_TICKET
        ctx.num_tickets = 0
        if session_cache:
            set_session_lifetime(ctx, session_cache)
        else:
            disable_session_cache(ctx)
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED
        if crlfile:
            ctx.load_verify_locations(cafile=crlfile)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def below_minimum(tls: ssl.SSLObject, identity: str, options: Mapping[str, Any]) -> str | None:
    """Why the negotiated TLS version is refused for this identity's realm (``options["tls_min_by_realm"]``:
    realm -> "1.2" | "1.3"), or None."""
    minimum = options.get("tls_min_by_realm", {}).get(realm_of(identity))
    if minimum == "1.3" and tls.version() != "TLSv1.3":
        return f"{tls.version()} is below the realm's minimum TLS 1.3"
    return None


def session_record(method: int, identity: str, service_id: str | None) -> bytes:
    """What a session remembers of the authentication it completed: the method and the subscriber."""
    return "\0".join((str(method), identity, service_id or "")).encode()


def remembered(tls: ssl.SSLObject, sslctx: ssl.SSLContext, method: int) -> str | Failure:
    """The identity a resumed session authenticated (TTLS: RFC 5281 §7.4, PEAP: [MS-PEAP] fast
    reconnect), to be looked up again (:func:`confirmed`); a session that completed no
    authentication of this method is refused and dropped from the cache."""
    parts = (session_memory(tls, sslctx) or b"").decode("utf-8", "replace").split("\0")
    if len(parts) != 3 or parts[0] != str(method):
        forget_session(tls, sslctx)
        return Failure("resumed TLS session without a completed authentication")
    return parts[1]


def confirmed(tls: ssl.SSLObject, sslctx: ssl.SSLContext, identity: str, reply: Reply) -> tuple[str, str] | Failure:
    """(identity, service id) of a resumed session whose subscriber still exists and is enabled;
    otherwise refused and the session dropped from the cache."""
    service = reply if isinstance(reply, Service) else None
    if service is None or not service.enabled:
        forget_session(tls, sslctx)
        return Failure("resumed TLS session: no longer a subscriber", service.id if service is not None else None)
    return identity, service.id


class TlsMethodBase:
    """Phase 1 of a TLS-based method for one conversation (framework :class:`Method`)."""

    type: ClassVar[int]
    option: ClassVar[str]                 # the key of its ssl.SSLContext in MethodContext.options
    version: ClassVar[int] = 0            # the flags' version bits (PEAP: 0)

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.sslctx: ssl.SSLContext | None = ctx.options.get(self.option)
        self.mtu = int(ctx.options.get("mtu", 1000))
        self.incoming_bio = ssl.MemoryBIO()
        self.outgoing_bio = ssl.MemoryBIO()
        self.tls: ssl.SSLObject | None = None
        self.inbound = Incoming(MAX_MESSAGE)
        self.outbound: Outgoing | None = None
        self.handshake_done = False
        self.failed: str | None = None    # a TLS alert was sent: the next Response ends the conversation
        self.peer_version: int | None = None
        self.identity = ""
        self.response_ident = 0            # the Identifier of the Response being processed
        self.next_ident = 0                # the Identifier our next Request will carry
        self.then: Callable[[Reply], Step | Action] | None = None   # what the outstanding action's reply feeds

    def ask(self, action: Action, then: Callable[[Reply], Step | Action]) -> Action:
        """Return an action for the caller to perform; its reply goes to ``then`` (:meth:`resume`)."""
        self.then = then
        return action

    def resume(self, reply: Reply) -> Step | Action:
        then, self.then = self.then, None
        if then is None:
            raise RuntimeError(f"EAP type {self.type}: resumed with no action outstanding")
        try:
            return then(reply)
        except ExporterUnavailable as exc:
            return Failure(f"TLS keys unavailable: {exc}")

    async def start(self, identity: str, ident: int) -> Step:
        if self.sslctx is None:
            return Failure(f"EAP type {self.type} has no TLS context configured")
        self.identity = identity
        self.tls = self.sslctx.wrap_bio(self.incoming_bio, self.outgoing_bio, server_side=True)
        return Request(bytes([FLAG_S | self.version]))

    # ------------------------------------------------------------------ framing
    def send(self, message: bytes) -> Step:
        """Send a TLS message, fragmented at the MTU (L on the first fragment when split, M while more)."""
        self.outbound = Outgoing(message, self.mtu, LENGTH_SIZE)
        return self._next_fragment()

    def _next_fragment(self) -> Step:
        assert self.outbound is not None
        frag = self.outbound.next()
        if not self.outbound.pending:
            self.outbound = None
        return Request(build(self.version, frag, LENGTH_SIZE))

    def empty(self) -> Step:
        """An empty Request: the ACK of a peer fragment, or 'go on' (RFC 5216 §3.2)."""
        return Request(bytes([self.version]))

    def flush(self) -> Step:
        """Send what TLS has written (records, alerts), or an empty Request when nothing."""
        out = self.outgoing_bio.read()
        return self.send(out) if out else self.empty()

    async def process(self, packet: EapPacket, ident: int) -> Step | Action:
        assert self.tls is not None
        self.response_ident, self.next_ident = packet.identifier, ident
        try:
            flags, frag = parse(packet.data, LENGTH_SIZE)
        except FragmentError as exc:
            return Failure(f"TLS framing: {exc}")
        if self.peer_version is None and packet.data:
            self.peer_version = packet.data[0] & 0x07
        if self.outbound is not None:             # the peer must ACK each of our fragments (RFC 5216 §3.2)
            if frag.payload or flags & (FLAG_L | FLAG_M):
                return Failure("TLS framing: expected a fragment ACK")
            return self._next_fragment()
        if self.failed is not None:
            return Failure(self.failed)
        try:
            message = self.inbound.feed(frag)
        except FragmentError as exc:
            return Failure(f"TLS framing: {exc}")
        if message is None:
            return self.empty()                   # ACK: the peer sends its next fragment
        if message:
            self.incoming_bio.write(message)
        finished_now = False
        if not self.handshake_done:
            try:
                self.tls.do_handshake()
                self.handshake_done = finished_now = True
            except ssl.SSLWantReadError:
                return self.flush()
            except ssl.SSLError as exc:
                reason = f"TLS handshake failed: {exc.reason or exc}"
                log.info("EAP type %d: %s", self.type, reason)
                out = self.outgoing_bio.read()
                if not out:
                    return Failure(reason)
                self.failed = reason              # send the alert; the peer's answer ends it
                return self.send(out)
        if finished_now:
            refused = below_minimum(self.tls, self.identity, self.ctx.options)
            if refused:
                return Failure(refused)
        plain = self.read_application_data()
        if isinstance(plain, Failure):
            return plain
        try:
            return await self.after_handshake(plain, finished_now)
        except ExporterUnavailable as exc:
            return Failure(f"TLS keys unavailable: {exc}")

    async def after_handshake(self, plain: bytes, finished_now: bool) -> Step | Action:
        """One Response after the handshake: ``plain`` is the application data it carried,
        ``finished_now`` tells that this Response completed the handshake."""
        raise NotImplementedError

    def read_application_data(self) -> bytes | Failure:
        assert self.tls is not None
        return read_application_data(self.tls)

    # ------------------------------------------------------------------ keys
    @property
    def tls13(self) -> bool:
        assert self.tls is not None
        return self.tls.version() == "TLSv1.3"

    def export(self, length: int) -> bytes:
        """RFC 5216 §2.3 (TLS 1.2: PRF "client EAP encryption") or RFC 9190 §2.3 / RFC 9427 §2.1
        (TLS 1.3: "EXPORTER_EAP_TLS_Key_Material" with the Type-Code as context)."""
        assert self.tls is not None and self.sslctx is not None
        if self.tls13:
            return export_keying_material(self.tls, self.sslctx, TLS13_LABEL, length, bytes([self.type]))
        return export_keying_material(self.tls, self.sslctx, TLS12_LABEL, length)

    def keys(self) -> tuple[bytes, bytes]:
        """MSK (64) and EMSK (64)."""
        material = self.export(128)
        return material[:64], material[64:]


def read_application_data(tls: ssl.SSLObject) -> bytes | Failure:
    """Every decrypted record waiting in the tunnel (a record split over Responses waits for the
    rest); a close or a record error fails the conversation."""
    chunks = []
    while True:
        try:
            chunk = tls.read(16384)
        except ssl.SSLWantReadError:
            break
        except ssl.SSLZeroReturnError:
            return Failure("peer closed the tunnel")
        except ssl.SSLError as exc:
            return Failure(f"TLS record error: {exc.reason}")
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
