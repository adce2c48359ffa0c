"""STa (TS 29.273 §5, application 16777250): trusted non-3GPP access network (TWAN) <-> 3GPP AAA.

DER/DEA with EAP-AKA' (TS 33.402 §6.2: trusted access uses EAP-AKA'; the DER's ANID is the
AKA' network name), AN-Trusted in the DEA, AAR/AAA, STR/STA; ASR and RAR are sent by the AAA
(:meth:`Aaa.abort`, :meth:`Aaa.reauthorize`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..node import Node, Request
from ..peer import AppSupport
from .aaa import CMD_AA, CMD_DE, CMD_ST, STA, V, aaa_for

if TYPE_CHECKING:
    from ..worker import AppContext

APP_ID = STA
METHODS = (50,)                     # EAP-AKA'


def install(node: Node, ctx: AppContext) -> None:
    aaa = aaa_for(node, ctx)

    async def der(req: Request) -> bytes:
        return await aaa.der(req, STA, METHODS)

    async def aar(req: Request) -> bytes:
        return await aaa.authorize(req, STA)

    async def str_(req: Request) -> bytes:
        return await aaa.session_termination(req, STA)
    node.register(AppSupport(STA, vendor_id=V), {CMD_DE: der, CMD_AA: aar, CMD_ST: str_})
