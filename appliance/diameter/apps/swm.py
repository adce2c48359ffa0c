"""SWm (TS 29.273 §7, application 16777264): ePDG <-> 3GPP AAA for untrusted non-3GPP access.

DER/DEA with EAP-AKA (or EAP-AKA' when the identity asks for it, TS 33.402 §8.2.2), then
AAR/AAA authorization of the authenticated session, STR/STA; ASR/RAR sent by the AAA.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..node import Node, Request
from ..peer import AppSupport
from .aaa import CMD_AA, CMD_DE, CMD_ST, SWM, V, aaa_for

if TYPE_CHECKING:
    from ..worker import AppContext

APP_ID = SWM
METHODS = (23, 50)                  # EAP-AKA, EAP-AKA' (the identity prefix '6' picks AKA')


def install(node: Node, ctx: AppContext) -> None:
    aaa = aaa_for(node, ctx)

    async def der(req: Request) -> bytes:
        return await aaa.der(req, SWM, METHODS)

    async def aar(req: Request) -> bytes:
        return await aaa.authorize(req, SWM)

    async def str_(req: Request) -> bytes:
        return await aaa.session_termination(req, SWM)
    node.register(AppSupport(SWM, vendor_id=V), {CMD_DE: der, CMD_AA: aar, CMD_ST: str_})
