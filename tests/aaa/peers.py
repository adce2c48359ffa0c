"""Real Diameter peers for the AAA tests, each its own node on loopback TCP:

* :class:`AccessGateway` -- a TWAN / ePDG / PGW: sends DER (EAP from an :class:`AkaPeer` UE),
  AAR, STR on STa, SWm, S6b and answers the AAA's ASR/RAR (queued for the test).
* :class:`Hss` -- an HSS on SWx: answers MAR with Milenage vectors (CK'/IK' for EAP-AKA',
  resynchronisation from RAND||AUTS) and SAR with Non-3GPP-User-Data; sends PPR and RTR.
"""
from __future__ import annotations

import asyncio
from typing import Any

from appliance.config import DiameterPeer
from appliance.diameter import codec as c
from appliance.diameter.apps import aaa as A
from appliance.diameter.apps import swx as X
from appliance.diameter.node import Node, Request
from appliance.diameter.peer import AppSupport
from appliance.eap import aka_codec as ac
from appliance.eap import milenage
from appliance.eap.aka_peer import AkaPeer

V = c.VENDOR_3GPP


async def wait_open(node: Node, host: str, conn: Any) -> None:
    for _ in range(500):
        if host in node.open or conn.closed.done():
            break
        await asyncio.sleep(0.01)
    assert host in node.open, f"CER/CEA with {host} failed"


class AccessGateway:
    def __init__(self, host: str = "twan.test", realm: str = "access.test", aaa: str = "aaa.test") -> None:
        self.aaa = aaa
        self.node = Node(host, realm, peers=[DiameterPeer(aaa)])
        self.asr: asyncio.Queue[c.Message] = asyncio.Queue()
        self.rar: asyncio.Queue[c.Message] = asyncio.Queue()
        for app in (A.STA, A.SWM, A.S6B):
            self.node.register(AppSupport(app, vendor_id=V), {A.CMD_AS: self.on_asr, A.CMD_RA: self.on_rar})

    async def connect(self, port: int) -> None:
        await wait_open(self.node, self.aaa, await self.node.connect(self.aaa, "127.0.0.1", port))

    async def on_asr(self, req: Request) -> bytes:
        await self.asr.put(req.message)
        return req.answer(c.SUCCESS, [c.encode_avp(c.AUTH_APPLICATION_ID, req.message.app_id)])

    async def on_rar(self, req: Request) -> bytes:
        await self.rar.put(req.message)
        return req.answer(c.SUCCESS, [c.encode_avp(c.AUTH_APPLICATION_ID, req.message.app_id)])

    def head(self, app: int, sid: str) -> list[bytes]:
        return [c.encode_avp(c.SESSION_ID, sid), c.encode_avp(c.AUTH_APPLICATION_ID, app),
                c.encode_avp(c.DESTINATION_REALM, "aaa.realm")]

    async def der(self, app: int, sid: str, payload: bytes, user: str | None = None, anid: str | None = None,
                  extra: list[bytes] | None = None) -> c.Message:
        avps = self.head(app, sid) + [c.encode_avp(274, A.AUTHORIZE_AUTHENTICATE), c.encode_avp(462, payload)]
        if user:
            avps.append(c.encode_avp(1, user))
        if anid:
            avps.append(c.encode_avp(1504, anid, V))
        return await self.node.request(A.CMD_DE, app, avps + (extra or []), host=self.aaa)

    async def eap(self, app: int, sid: str, ue: AkaPeer, anid: str | None = None) -> tuple[c.Message, int]:
        """A whole EAP exchange in DER/DEA rounds; the UE answers every EAP-Request."""
        payload = ue.start(1)
        for rounds in range(1, 12):
            dea = await self.der(app, sid, payload, ue.permanent if rounds == 1 else None, anid)
            eap = dea.find(462)
            if dea.result_code != A.MULTI_ROUND_AUTH:
                if eap is not None:
                    ue.respond(eap.data)
                return dea, rounds
            assert dea.find(272) is not None, "Multi-Round-Time-Out missing"
            nxt = ue.respond(eap.data)
            assert nxt is not None
            payload = nxt
        raise AssertionError("EAP did not finish")

    async def aar(self, app: int, sid: str, user: str | None = None, apn: str | None = None,
                  pgw: str | None = None) -> c.Message:
        avps = self.head(app, sid) + [c.encode_avp(274, A.AUTHORIZE_ONLY)]
        if user:
            avps.append(c.encode_avp(1, user))
        if apn:
            avps.append(c.encode_avp(493, apn))
        if pgw:
            avps.append(c.encode_avp(486, [c.encode_avp(348, [c.encode_avp(c.DESTINATION_REALM, "pgw.realm"),
                                                               c.encode_avp(c.DESTINATION_HOST, pgw)])]))
        return await self.node.request(A.CMD_AA, app, avps, host=self.aaa)

    async def str_(self, app: int, sid: str) -> c.Message:
        return await self.node.request(A.CMD_ST, app, self.head(app, sid) + [c.encode_avp(295, 1)], host=self.aaa)


class Hss:
    def __init__(self, host: str = "hss.test", realm: str = "hss.realm", aaa: str = "aaa.test") -> None:
        self.aaa = aaa
        self.node = Node(host, realm, peers=[DiameterPeer(aaa)])
        self.subscribers: dict[str, list[Any]] = {}        # imsi -> [K, OPc, SQN_HE]
        self.mar: list[c.Message] = []
        self.sar: list[c.Message] = []
        self.apn = "internet.hss"
        self.node.register(AppSupport(A.SWX, vendor_id=V), {X.CMD_MA: self.on_mar, X.CMD_SA: self.on_sar})

    async def listen(self) -> int:
        return await self.node.listen("127.0.0.1", 0)

    def _answer(self, req: Request, rc: int | None, avps: list[bytes], exp: tuple[int, int] | None = None) -> bytes:
        return req.answer(rc, [X.vsai(), c.encode_avp(277, 1)] + avps, exp)

    async def on_mar(self, req: Request) -> bytes:
        msg = req.message
        self.mar.append(msg)
        imsi = msg.find(1).text
        sub = self.subscribers.get(imsi)
        if sub is None:
            return self._answer(req, None, [], (V, A.USER_UNKNOWN))
        item = {(a.code, a.vendor): a.data for a in msg.find(X.SIP_AUTH_DATA_ITEM, V).group()}
        scheme = item[(X.SIP_AUTH_SCHEME, V)].decode()
        resync = item.get((X.SIP_AUTHORIZATION, V))
        k, opc, sqn = sub
        if resync is not None:
            sqn_ms = milenage.auts_sqn(k, opc, resync[:16], resync[16:30])
            if sqn_ms is None:
                return self._answer(req, 5012, [])
            sqn = sqn_ms
        sqn = milenage.next_sqn(sqn)
        sub[2] = sqn
        import os
        v = milenage.generate(k, opc, b"\x80\x00", sqn, os.urandom(16))
        ck, ik = v.ck, v.ik
        if scheme == X.SCHEME_AKA_PRIME:
            anid = msg.find(X.ANID, V)
            ck, ik = ac.ck_ik_prime(ck, ik, anid.data if anid else b"WLAN", v.autn[:6])
        data = [c.encode_avp(X.SIP_ITEM_NUMBER, 1, V), c.encode_avp(X.SIP_AUTH_SCHEME, scheme, V),
                c.encode_avp(X.SIP_AUTHENTICATE, v.rand + v.autn, V), c.encode_avp(X.SIP_AUTHORIZATION, v.xres, V),
                c.encode_avp(X.CONFIDENTIALITY_KEY, ck, V), c.encode_avp(X.INTEGRITY_KEY, ik, V)]
        return self._answer(req, c.SUCCESS, [c.encode_avp(1, imsi), c.encode_avp(X.SIP_NUMBER_AUTH_ITEMS, 1, V),
                                             c.encode_avp(X.SIP_AUTH_DATA_ITEM, data, V)])

    def user_data(self, apn: str) -> bytes:
        return c.encode_avp(X.NON_3GPP_USER_DATA, [
            c.encode_avp(1501, 0, V),
            c.encode_avp(1423, 1, V),
            c.encode_avp(X.APN_CONFIGURATION, [c.encode_avp(1423, 1, V), c.encode_avp(1456, 0, V),
                                               c.encode_avp(493, apn)], V)], V)

    async def on_sar(self, req: Request) -> bytes:
        self.sar.append(req.message)
        imsi = req.message.find(1).text
        if imsi not in self.subscribers:
            return self._answer(req, None, [], (V, A.USER_UNKNOWN))
        return self._answer(req, c.SUCCESS, [c.encode_avp(1, imsi), self.user_data(self.apn)])

    async def push_profile(self, imsi: str, apn: str) -> c.Message:
        avps = [c.encode_avp(c.SESSION_ID, self.node.new_session_id()), X.vsai(), c.encode_avp(277, 1),
                c.encode_avp(c.DESTINATION_REALM, "aaa.realm"), c.encode_avp(c.DESTINATION_HOST, self.aaa),
                c.encode_avp(1, imsi), self.user_data(apn)]
        return await self.node.request(X.CMD_PP, A.SWX, avps, host=self.aaa)

    async def deregister(self, imsi: str) -> c.Message:
        avps = [c.encode_avp(c.SESSION_ID, self.node.new_session_id()), X.vsai(), c.encode_avp(277, 1),
                c.encode_avp(c.DESTINATION_REALM, "aaa.realm"), c.encode_avp(c.DESTINATION_HOST, self.aaa),
                c.encode_avp(1, imsi), c.encode_avp(615, [c.encode_avp(616, 0, V)], V)]
        return await self.node.request(X.CMD_RT, A.SWX, avps, host=self.aaa)
