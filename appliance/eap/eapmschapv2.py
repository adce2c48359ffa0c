"""EAP-MSCHAPv2 server method (draft-kamath-pppext-eap-mschapv2-02; RFC 2759 inside EAP Type 26).

Offered only inside a TLS tunnel (EAP-TTLS phase 2, RFC 5281 §11.1; PEAP phase 2): it registers in
:data:`~appliance.eap.framework.tunnel_registry`.  Rounds: Challenge -> Response; Success-Request
("S=<authenticator response>") -> Success-Response; then EAP-Success.  A wrong password gets
Failure-Request ("E=691 R=0 ... V=3") -> Failure-Response -> EAP-Failure (no retry offered).
The MSK is the peer's MPPE send key | receive key (RFC 3079 §3.4), PEAP's inner session key.
"""
from __future__ import annotations

import struct
from typing import ClassVar

from ..ocs.inventory import Service
from . import mschapv2
from .events import Action, FindService, Reply
from .framework import Failure, MethodContext, Request, Step, Success, tunnel_registry
from .packet import EapPacket, EapType

OP_CHALLENGE, OP_RESPONSE, OP_SUCCESS, OP_FAILURE = 1, 2, 3, 4
ERROR_AUTHENTICATION_FAILURE = 691


class EapMschapv2Method:
    type: ClassVar[int] = int(EapType.MSCHAPV2)

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.challenge = b""
        self.ms_id = 0
        self.identity = ""
        self.pending: Success | Failure | None = None    # sent Success/Failure-Request, waiting for its ack
        self.response: tuple[bytes, bytes, str] | None = None   # peer challenge, NT-Response, name: being checked

    def _message(self, opcode: int, body: bytes) -> Request:
        """OpCode, MS-CHAPv2-ID, MS-Length (the Type-Data length), body (§2)."""
        return Request(struct.pack("!BBH", opcode, self.ms_id, 4 + len(body)) + body)

    def start(self, identity: str, ident: int) -> Step:
        self.identity = identity
        self.challenge = self.ctx.random(16)
        self.ms_id = self.ctx.random(1)[0]
        return self._message(OP_CHALLENGE, bytes([16]) + self.challenge + self.ctx.server_id.encode())

    def process(self, packet: EapPacket, ident: int) -> Step | Action:
        data = packet.data
        if not data:
            return Failure("EAP-MSCHAPv2: empty response")
        if self.pending is not None:
            if data[0] not in (OP_SUCCESS, OP_FAILURE):
                return Failure("EAP-MSCHAPv2: expected a Success/Failure response")
            pending, self.pending = self.pending, None
            if data[0] == OP_FAILURE or isinstance(pending, Failure):
                return pending if isinstance(pending, Failure) else Failure("EAP-MSCHAPv2: peer refused our "
                                                                             "authenticator response")
            return pending
        if data[0] != OP_RESPONSE or len(data) < 5 + 49 or data[4] != 49 or data[1] != self.ms_id:
            return Failure("EAP-MSCHAPv2: malformed Response")
        response = data[5:54]
        peer_challenge, nt_response = response[0:16], response[24:48]
        self.response = (peer_challenge, nt_response, data[54:].decode("utf-8", "replace"))
        return FindService(self.identity)

    def resume(self, reply: Reply) -> Step:
        """Check the NT-Response with the subscriber's password (RFC 2759 §8)."""
        if self.response is None:
            raise RuntimeError("EAP-MSCHAPv2: resumed with no action outstanding")
        (peer_challenge, nt_response, name), self.response = self.response, None
        service = reply if isinstance(reply, Service) else None
        password = service.credentials.password if service is not None and service.enabled else None
        sid = service.id if service is not None else None
        if password is None or not mschapv2.verify(self.challenge, peer_challenge, name, password, nt_response):
            self.pending = Failure("EAP-MSCHAPv2: bad credentials", sid)
            text = f"E={ERROR_AUTHENTICATION_FAILURE} R=0 C={bytes(16).hex().upper()} V=3 M=Authentication failed"
            return self._message(OP_FAILURE, text.encode())
        auth = mschapv2.authenticator_response(password, nt_response, peer_challenge, self.challenge, name)
        msk = mschapv2.eap_msk(password, nt_response)
        self.pending = Success(msk, identity=self.identity, service_id=sid)
        return self._message(OP_SUCCESS, (auth + " M=OK").encode())


tunnel_registry.register(int(EapType.MSCHAPV2), EapMschapv2Method)
