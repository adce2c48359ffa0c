"""EAP-GTC server method (RFC 3748 §5.6, Generic Token Card) used as a password prompt.

Offered only inside a TLS tunnel (EAP-TTLS phase 2, PEAP phase 2): the Response carries the password in
clear.  One round: Request "Password: " -> Response <password>; compared in constant time with the
subscriber's password.  No keys (RFC 3748 §5.6): PEAP's inner session key is then all zero.
"""
from __future__ import annotations

import hmac
from typing import ClassVar

from ..ocs.inventory import Service
from .events import Action, FindService, Reply
from .framework import Failure, MethodContext, Request, Step, Success, tunnel_registry
from .packet import EapPacket, EapType


class GtcMethod:
    type: ClassVar[int] = int(EapType.GTC)

    def __init__(self, ctx: MethodContext) -> None:
        self.ctx = ctx
        self.identity = ""
        self.given: bytes | None = None            # the password, while its service is looked up

    def start(self, identity: str, ident: int) -> Step:
        self.identity = identity
        return Request(b"Password: ")

    def process(self, packet: EapPacket, ident: int) -> Step | Action:
        given = packet.data
        if given.startswith(b"RESPONSE="):              # EAP-FAST style "RESPONSE=<user>\0<password>"
            given = given.split(b"\0", 1)[-1]
        self.given = given
        return FindService(self.identity)

    def resume(self, reply: Reply) -> Step:
        if self.given is None:
            raise RuntimeError("EAP-GTC: resumed with no action outstanding")
        given, self.given = self.given, None
        service = reply if isinstance(reply, Service) else None
        password = service.credentials.password if service is not None and service.enabled else None
        sid = service.id if service is not None else None
        if password is not None and hmac.compare_digest(given, password.encode()):
            return Success(b"", identity=self.identity, service_id=sid)
        return Failure("EAP-GTC: bad credentials", sid)


tunnel_registry.register(int(EapType.GTC), GtcMethod)
