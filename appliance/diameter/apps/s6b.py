"""S6b (TS 29.273 §9, application 16777272): PGW/SMF <-> 3GPP AAA.

AAR/AAA authorizes the PGW for a subscriber and APN (Service-Selection) and stores the PGW
identity (MIP6-Agent-Info / Origin-Host) with the session; STR/STA ends it; ASR/RAR are sent by
the AAA, e.g. ASR when the subscriber is removed (:meth:`Aaa.sweep`) or deregistered by the HSS.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..node import Node, Request
from ..peer import AppSupport
from .aaa import CMD_AA, CMD_ST, S6B, V, aaa_for

if TYPE_CHECKING:
    from ..worker import AppContext

APP_ID = S6B


def install(node: Node, ctx: AppContext) -> None:
    aaa = aaa_for(node, ctx)

    async def aar(req: Request) -> bytes:
        return await aaa.authorize(req, S6B)

    async def str_(req: Request) -> bytes:
        return await aaa.session_termination(req, S6B)
    node.register(AppSupport(S6B, vendor_id=V), {CMD_AA: aar, CMD_ST: str_})
