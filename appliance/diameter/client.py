"""A Credit-Control client (RFC 4006 §3.1): CCR builders and a peer connection to any OCS.

Used by ``appliance diameter-client``, by the tests and by benchmarks/diameter_ro.py.
"""
from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any

from ..ocs.units import Unit
from . import codec as c
from .apps import ro
from .node import Node
from .peer import AppSupport

CONTEXT_PS, CONTEXT_IMS, CONTEXT_SMS = "32251@3gpp.org", "32260@3gpp.org", "32274@3gpp.org"
SUB_TYPES = {"e164": ro.SUB_E164, "imsi": ro.SUB_IMSI, "sip": ro.SUB_SIP_URI, "nai": ro.SUB_NAI,
             "private": ro.SUB_PRIVATE}
REQUESTED_ACTIONS = {"debit": 0, "refund": 1, "check": 2, "price": 3}


def unit_avp(unit: Unit | str, amount: int) -> bytes:
    unit = Unit.parse(unit) if isinstance(unit, str) else unit
    return ro._unit_avp(unit, amount)


@dataclass(frozen=True, slots=True)
class Service:
    """One MSCC of a request (or the single-service form when ``mscc=False`` in :func:`ccr`)."""

    unit: Unit = Unit.OCTETS
    requested: int | None = 0      # None: no RSU; 0: empty RSU (the OCS chooses)
    used: int | None = None        # None: no USU
    rating_group: int | None = None
    service_identifier: int | None = None

    def avps(self) -> list[bytes]:
        out: list[bytes] = []
        if self.requested is not None:
            out.append(c.encode_avp(ro.RSU, [unit_avp(self.unit, self.requested)] if self.requested else []))
        if self.used is not None:
            out.append(c.encode_avp(ro.USU, [unit_avp(self.unit, self.used)]))
        if self.service_identifier is not None:
            out.append(c.encode_avp(ro.SERVICE_IDENTIFIER, self.service_identifier))
        if self.rating_group is not None:
            out.append(c.encode_avp(ro.RATING_GROUP, self.rating_group))
        return out


def ccr(session_id: str, realm: str, request_type: int, number: int, subscriber: str | None = None,
        sub_type: str = "imsi", context: str = CONTEXT_PS, services: tuple[Service, ...] = (),
        mscc: bool = True, requested_action: str | None = None, role: int | None = None,
        calling: str | None = None, called: str | None = None, charging_id: str | None = None,
        vplmn: str | None = None, sms_recipient: str | None = None) -> list[bytes]:
    """The AVPs of a CCR after Session-Id/Origin-* (``Node.request`` inserts Origin-Host/Realm)."""
    avps = [c.encode_avp(c.SESSION_ID, session_id), c.encode_avp(c.DESTINATION_REALM, realm),
            c.encode_avp(c.AUTH_APPLICATION_ID, ro.APP_ID), c.encode_avp(ro.SERVICE_CONTEXT_ID, context),
            c.encode_avp(ro.CC_REQUEST_TYPE, request_type), c.encode_avp(ro.CC_REQUEST_NUMBER, number)]
    if subscriber is not None:
        avps.append(c.encode_avp(ro.SUBSCRIPTION_ID, [c.encode_avp(ro.SUBSCRIPTION_ID_TYPE, SUB_TYPES[sub_type]),
                                                      c.encode_avp(ro.SUBSCRIPTION_ID_DATA, subscriber)]))
    if requested_action is not None:
        avps.append(c.encode_avp(ro.REQUESTED_ACTION, REQUESTED_ACTIONS[requested_action]))
    if mscc:
        avps.append(c.encode_avp(455, 1))      # Multiple-Services-Indicator: MULTIPLE_SERVICES_SUPPORTED
        for s in services:
            avps.append(c.encode_avp(ro.MSCC, s.avps()))
    else:
        for s in services:
            avps += s.avps()
    ims: list[bytes] = []
    if role is not None:
        ims.append(c.encode_avp(ro.ROLE_OF_NODE, role, c.VENDOR_3GPP))
    if charging_id:
        ims.append(c.encode_avp(ro.IMS_CHARGING_ID, charging_id, c.VENDOR_3GPP))
    if calling:
        ims.append(c.encode_avp(ro.CALLING_PARTY, calling, c.VENDOR_3GPP))
    if called:
        ims.append(c.encode_avp(ro.CALLED_PARTY, called, c.VENDOR_3GPP))
    info: list[bytes] = []
    if ims:
        info.append(c.encode_avp(ro.IMS_INFORMATION, ims, c.VENDOR_3GPP))
    if vplmn:
        info.append(c.encode_avp(ro.PS_INFORMATION, [c.encode_avp(ro.SGSN_MCC_MNC, vplmn, c.VENDOR_3GPP)],
                                 c.VENDOR_3GPP))
    if sms_recipient:
        address = c.encode_avp(ro.RECIPIENT_ADDRESS, [c.encode_avp(ro.ADDRESS_DATA, sms_recipient, c.VENDOR_3GPP)],
                               c.VENDOR_3GPP)
        info.append(c.encode_avp(ro.SMS_INFORMATION, [c.encode_avp(ro.RECIPIENT_INFO, [address], c.VENDOR_3GPP)],
                                 c.VENDOR_3GPP))
    if info:
        avps.append(c.encode_avp(ro.SERVICE_INFORMATION, info, c.VENDOR_3GPP))
    return avps


def summary(msg: c.Message) -> dict[str, Any]:
    """A CCA as plain data: result, per-MSCC grants, FUI (for printing and tests)."""
    out: dict[str, Any] = {"result": msg.result_code, "error_bit": msg.is_error, "mscc": []}
    for a in msg.avps:
        if a.vendor:
            continue
        if a.code == ro.MSCC:
            out["mscc"].append(_service_summary(a.group()))
        elif a.code in (ro.GSU, ro.VALIDITY_TIME, ro.FUI):
            out.update(_service_summary([a]))
        elif a.code == ro.CHECK_BALANCE_RESULT:
            out["check_balance"] = a.i32
        elif a.code == ro.COST_INFORMATION:
            for b in a.group():
                if b.code == ro.UNIT_VALUE:
                    for d in b.group():
                        if d.code == ro.VALUE_DIGITS:
                            out["cost"] = d.i64
                        elif d.code == ro.EXPONENT:
                            out["cost_exponent"] = d.i32
                elif b.code == ro.CURRENCY_CODE:
                    out["currency"] = b.u32
        elif a.code == c.FAILED_AVP:
            try:
                out["failed_avp"] = [(x.code, x.vendor) for x in a.group()]
            except c.DiameterError:
                out["failed_avp"] = a.data.hex()
        elif a.code == c.ERROR_MESSAGE:
            out["error_message"] = a.text
    return out


def _service_summary(avps: list[c.Avp]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    for a in avps:
        if a.vendor == c.VENDOR_3GPP and a.code in (ro.VOLUME_QUOTA_THRESHOLD, ro.TIME_QUOTA_THRESHOLD):
            s["threshold"] = a.u32
        if a.vendor:
            continue
        if a.code == ro.GSU:
            for unit, n in ro.units_in(a):
                s["granted"], s["unit"] = n, unit.value
            s.setdefault("granted", 0)
        elif a.code == ro.VALIDITY_TIME:
            s["validity"] = a.u32
        elif a.code == ro.RATING_GROUP:
            s["rating_group"] = a.u32
        elif a.code == ro.SERVICE_IDENTIFIER:
            s["service_identifier"] = a.u32
        elif a.code == c.RESULT_CODE:
            s["result"] = a.u32
        elif a.code == ro.FUI:
            for b in a.group():
                if b.code == ro.FINAL_UNIT_ACTION:
                    s["final_unit_action"] = b.i32
                elif b.code == ro.REDIRECT_SERVER:
                    s["redirect"] = [d.text for d in b.group() if d.code == ro.REDIRECT_SERVER_ADDRESS][0]
    return s


class CreditControlClient:
    """One peer connection to an OCS, sending CCRs and awaiting CCAs."""

    def __init__(self, origin_host: str, origin_realm: str, watchdog: float = 30.0) -> None:
        self.node = Node(origin_host, origin_realm, watchdog=watchdog)
        self.node.register(AppSupport(ro.APP_ID), {})
        self.server_host: str | None = None

    async def connect(self, address: str, port: int, timeout: float = 5.0,
                      ssl_context: ssl.SSLContext | None = None, server_name: str = "") -> str:
        """Connect (TLS first when ``ssl_context``), run CER/CEA; returns the OCS's Origin-Host."""
        conn = await self.node.connect(server_name, address, port, ssl_context)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.node.open:
            if conn.closed.done():
                reason = "closed during capabilities exchange"
                raise ConnectionError(f"{address}:{port}: {reason} (unknown peer or no common application?)")
            if loop.time() > deadline:
                raise TimeoutError(f"{address}:{port}: no CEA")
            await asyncio.sleep(0.005)
        self.server_host = next(iter(self.node.open))
        return self.server_host

    async def send(self, avps: list[bytes], timeout: float = 5.0, **kw: Any) -> c.Message:
        """Send a CCR; ``e2e=..., retransmit=True`` repeats an earlier one (T-flag)."""
        return await self.node.request(ro.CMD_CC, ro.APP_ID, avps, host=self.server_host, timeout=timeout, **kw)

    def session_id(self) -> str:
        return self.node.new_session_id()

    async def close(self) -> None:
        await self.node.stop(2.0)
