"""SWx (TS 29.273 §8, application 16777265): the 3GPP AAA server as a client of the HSS.

* MAR/MAA -- authentication vectors for EAP-AKA / EAP-AKA' (SIP-Auth-Data-Item with
  SIP-Authenticate = RAND||AUTN, SIP-Authorization = XRES, Confidentiality-Key, Integrity-Key; the
  HSS returns CK'/IK' for EAP-AKA', TS 29.273 §8.1.2.1), resynchronisation with
  SIP-Authorization = RAND||AUTS.  :class:`SwxVectors` is a :class:`VectorSource` for the AKA method.
* SAR/SAA -- REGISTRATION after authentication, Non-3GPP-User-Data (APN) back.
* PPR/PPA (HSS pushes a new profile) and RTR/RTA (HSS deregisters: every session of the user is
  aborted with ASR) are answered here.

The 3GPP codes 607-613 and 625/626 are used (vendor 10415), not the IETF SIP AVP codes
python-diameter's typed SWx classes use (LIBRARIES.md).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ...eap.aka_vectors import AkaVector
from ...telemetry import metrics
from .. import avps as A
from .. import codec as c
from ..codec import DiameterError
from ..node import Node, Request
from ..peer import AppSupport
from .aaa import NO_STATE_MAINTAINED, SESSION_KIND, SWX, USER_UNKNOWN, V, aaa_for, imsi_of

if TYPE_CHECKING:
    from ...ocs.ports import Ledger
    from ..worker import AppContext

log = logging.getLogger(__name__)

APP_ID = SWX
CMD_SA, CMD_MA, CMD_RT, CMD_PP = 301, 303, 304, 305
# The AVP codes of TS 29.273 §8.2.3 (vendor 10415) by their short names (the HSS test peer builds with them)
SIP_NUMBER_AUTH_ITEMS, SIP_AUTH_SCHEME = A.TGPP_SIP_NUMBER_AUTH_ITEMS.code, A.TGPP_SIP_AUTHENTICATION_SCHEME.code
SIP_AUTHENTICATE, SIP_AUTHORIZATION = A.TGPP_SIP_AUTHENTICATE.code, A.TGPP_SIP_AUTHORIZATION.code
SIP_AUTH_DATA_ITEM, SIP_ITEM_NUMBER = A.TGPP_SIP_AUTH_DATA_ITEM.code, A.TGPP_SIP_ITEM_NUMBER.code
CONFIDENTIALITY_KEY, INTEGRITY_KEY = A.CONFIDENTIALITY_KEY.code, A.INTEGRITY_KEY.code
SERVER_ASSIGNMENT_TYPE, NON_3GPP_USER_DATA = A.SERVER_ASSIGNMENT_TYPE.code, A.NON_3GPP_USER_DATA.code
APN_CONFIGURATION, RAT_TYPE, ANID = A.APN_CONFIGURATION.code, A.RAT_TYPE.code, A.ANID.code
REGISTRATION = 1                            # Server-Assignment-Type (TS 29.229 §6.3.15)
RAT_WLAN = 0                                # RAT-Type (TS 29.212 §5.3.31)
SCHEME_AKA, SCHEME_AKA_PRIME = "EAP-AKA", "EAP-AKA'"


def vsai() -> bytes:
    """Vendor-Specific-Application-Id {Vendor-Id 10415, Auth-Application-Id SWx}."""
    return c.encode_avp(c.VENDOR_SPECIFIC_APPLICATION_ID, [c.encode_avp(c.VENDOR_ID, V),
                                                           c.encode_avp(c.AUTH_APPLICATION_ID, SWX)])


def _head(node: Node, hss_host: str, hss_realm: str, user: str) -> list[bytes]:
    avps = [c.encode_avp(c.SESSION_ID, node.new_session_id("swx")), vsai(),
            A.AUTH_SESSION_STATE.encode(NO_STATE_MAINTAINED), c.encode_avp(c.DESTINATION_REALM, hss_realm)]
    if hss_host:
        avps.append(c.encode_avp(c.DESTINATION_HOST, hss_host))
    return avps + [A.USER_NAME.encode(user)]


def parse_vector(ans: c.Message, primed: bool) -> AkaVector | None:
    for item in ans.avps:
        if item.key != A.TGPP_SIP_AUTH_DATA_ITEM:
            continue
        f = {(a.code, a.vendor): a.data for a in item.group()}
        auth, xres = f.get(A.TGPP_SIP_AUTHENTICATE, b""), f.get(A.TGPP_SIP_AUTHORIZATION, b"")
        ck, ik = f.get(A.CONFIDENTIALITY_KEY, b""), f.get(A.INTEGRITY_KEY, b"")
        if len(auth) < 32 or not 4 <= len(xres) <= 16 or len(ck) != 16 or len(ik) != 16:
            raise DiameterError(c.INVALID_AVP_VALUE, None, "SIP-Auth-Data-Item incomplete")
        return AkaVector(auth[:16], auth[16:32], xres, ck, ik, primed)
    return None


async def multimedia_auth(node: Node, hss_host: str, hss_realm: str, imsi: str, prime: bool, network_name: bytes,
                          timeout: float, resync: bytes | None = None) -> AkaVector | None:
    """MAR/MAA (TS 29.273 §8.2.2.1): one vector, or None when the HSS does not know the user."""
    item = [A.TGPP_SIP_AUTHENTICATION_SCHEME.encode(SCHEME_AKA_PRIME if prime else SCHEME_AKA)]
    if resync is not None:
        item.append(A.TGPP_SIP_AUTHORIZATION.encode(resync))
    avps = _head(node, hss_host, hss_realm, imsi) + [
        A.TGPP_SIP_NUMBER_AUTH_ITEMS.encode(1), A.TGPP_SIP_AUTH_DATA_ITEM.encode(item),
        A.RAT_TYPE.encode(RAT_WLAN)]
    if prime:
        avps.append(A.ANID.encode(network_name))
    ans = await node.request(CMD_MA, SWX, avps, host=hss_host or None, realm=hss_realm, timeout=timeout)
    metrics.inc("aaa.swx.mar_sent")
    if ans.result_code != c.SUCCESS:
        log.info("SWx MAA result %s", ans.result_code)
        return None
    return parse_vector(ans, prime)


async def register(node: Node, hss_host: str, hss_realm: str, imsi: str, timeout: float) -> dict[str, Any]:
    """SAR(REGISTRATION)/SAA (TS 29.273 §8.1.2.2): the user's Non-3GPP-User-Data as a small profile."""
    avps = _head(node, hss_host, hss_realm, imsi) + [A.SERVER_ASSIGNMENT_TYPE.encode(REGISTRATION)]
    ans = await node.request(CMD_SA, SWX, avps, host=hss_host or None, realm=hss_realm, timeout=timeout)
    metrics.inc("aaa.swx.sar_sent")
    if ans.result_code != c.SUCCESS:
        return {}
    return profile_of(ans)


def profile_of(msg: c.Message) -> dict[str, Any]:
    """APN (Service-Selection of the first APN-Configuration) from Non-3GPP-User-Data."""
    data = msg.get(A.NON_3GPP_USER_DATA)
    if data is None:
        return {}
    out: dict[str, Any] = {}
    for a in data.group():
        if a.key == A.APN_CONFIGURATION:
            for b in a.group():
                if b.key == A.SERVICE_SELECTION and "apn" not in out:
                    out["apn"] = b.text
        elif a.key == A.NON_3GPP_IP_ACCESS:
            out["non_3gpp_ip_access"] = a.u32
    return out


class SwxVectors:
    """A :class:`~appliance.store.eap_actions.VectorSource` over MAR/MAA to the realm's HSS."""

    def __init__(self, node: Node, hss_host: str, hss_realm: str, timeout: float = 5.0) -> None:
        self.node, self.hss_host, self.hss_realm, self.timeout = node, hss_host, hss_realm, timeout
        self.pending: AkaVector | None = None
        self.prime = False
        self.network_name = b""

    async def vector(self, imsi: str, rand: bytes, prime: bool, network_name: bytes
                     ) -> tuple[str | None, AkaVector] | None:
        self.prime, self.network_name = prime, network_name
        pending = self.pending
        if pending is not None:                           # the vector the resync MAA brought
            self.pending = None
            return None, pending
        try:
            vec = await multimedia_auth(self.node, self.hss_host, self.hss_realm, imsi, prime, network_name,
                                        self.timeout)
        except (DiameterError, TimeoutError, ConnectionError) as exc:
            log.warning("SWx MAR failed: %s", exc)
            metrics.inc("aaa.swx.mar_failures")
            return None
        return None if vec is None else (None, vec)

    async def resync(self, imsi: str, rand: bytes, auts: bytes) -> bool:
        """MAR with SIP-Authorization = RAND||AUTS; the HSS checks MAC-S and answers a fresh vector."""
        try:
            vec = await multimedia_auth(self.node, self.hss_host, self.hss_realm, imsi, self.prime,
                                        self.network_name, self.timeout, resync=rand + auts)
        except (DiameterError, TimeoutError, ConnectionError) as exc:
            log.warning("SWx resync MAR failed: %s", exc)
            return False
        self.pending = vec
        return vec is not None


def install(node: Node, ctx: AppContext) -> None:
    aaa = aaa_for(node, ctx)

    def answer(req: Request, rc: int | None, experimental: tuple[int, int] | None = None) -> bytes:
        return req.answer(rc, [vsai(), A.AUTH_SESSION_STATE.encode(NO_STATE_MAINTAINED)], experimental)

    async def on_ppr(req: Request) -> bytes:
        """PPR/PPA (TS 29.273 §8.1.2.3): store the pushed Non-3GPP-User-Data with the user's sessions."""
        user = req.message.get(A.USER_NAME)
        if user is None:
            raise c.missing_avp(*A.USER_NAME)
        imsi, profile = imsi_of(user.text), profile_of(req.message)

        def update(ledger: Ledger) -> int:
            n = 0
            for sid, doc in ledger.list_docs(SESSION_KIND):
                if doc.get("imsi") == imsi:
                    ledger.put_doc(SESSION_KIND, sid, {**doc, "profile": {**(doc.get("profile") or {}), **profile}})
                    n += 1
            return n
        if not await aaa.store.atransact(update):
            return answer(req, None, (V, USER_UNKNOWN))
        metrics.inc("aaa.swx.ppr_received")
        return answer(req, c.SUCCESS)

    async def on_rtr(req: Request) -> bytes:
        """RTR/RTA (TS 29.273 §8.1.2.4): the HSS deregisters the user; every session gets an ASR."""
        user = req.message.get(A.USER_NAME)
        if user is None:
            raise c.missing_avp(*A.USER_NAME)
        imsi = imsi_of(user.text)
        metrics.inc("aaa.swx.rtr_received")
        if not await aaa.sessions_of(imsi):
            return answer(req, None, (V, USER_UNKNOWN))
        node.background(aaa.abort_subscriber(imsi))
        return answer(req, c.SUCCESS)

    node.register(AppSupport(SWX, vendor_id=V), {CMD_PP: on_ppr, CMD_RT: on_rtr})
