"""Credit-Control codec (RFC 4006 §3.1-3.2, TS 32.299 §6.4): a CCR read into a :class:`Ccr`, the CCA
built from the core's ``ChargeResult`` on a per-node :class:`CcaTemplate`, and the transaction-log
record of one CCR encoded straight from the request and the result.

Pure: no asyncio, no store, no clock.  Compiled with Cython from this source like the Diameter codec
(setup.py, :mod:`appliance.compiled`); interpreted when not built, forced or edited.
"""
from __future__ import annotations

import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from json.encoder import encode_basestring as _jstr
from typing import TYPE_CHECKING, Any

from ...ocs.rating import Action, ChargeRequest, ChargeResult, ItemResult, Outcome, UsageItem
from ...ocs.units import Unit
from .. import avps as A
from .. import codec as c
from ..codec import VENDOR_3GPP as TGPP
from ..codec import Avp, DiameterError, Message

if TYPE_CHECKING:
    from ..hook import Override

COMPILED = not __file__.endswith(".py")

APP_ID = 4                      # Diameter Credit-Control Application (RFC 4006 §12)
CMD_CC = 272
# AVP codes compared as integers while a CCR is read: RFC 4006 §8 (vendor 0) ...
CC_INPUT = A.CC_INPUT_OCTETS.code
CC_OUTPUT = A.CC_OUTPUT_OCTETS.code
CC_REQUEST_NUMBER = A.CC_REQUEST_NUMBER.code
CC_REQUEST_TYPE = A.CC_REQUEST_TYPE.code
CC_SSU = A.CC_SERVICE_SPECIFIC_UNITS.code
CC_TIME = A.CC_TIME.code
CC_TOTAL = A.CC_TOTAL_OCTETS.code
CHECK_BALANCE_RESULT = A.CHECK_BALANCE_RESULT.code
COST_INFORMATION = A.COST_INFORMATION.code
CURRENCY_CODE = A.CURRENCY_CODE.code
EXPONENT = A.EXPONENT.code
FUI = A.FINAL_UNIT_INDICATION.code
GSU = A.GRANTED_SERVICE_UNIT.code
RATING_GROUP = A.RATING_GROUP.code
REDIRECT_ADDRESS_TYPE = A.REDIRECT_ADDRESS_TYPE.code
REDIRECT_SERVER = A.REDIRECT_SERVER.code
REDIRECT_SERVER_ADDRESS = A.REDIRECT_SERVER_ADDRESS.code
REQUESTED_ACTION = A.REQUESTED_ACTION.code
RSU = A.REQUESTED_SERVICE_UNIT.code
SERVICE_IDENTIFIER = A.SERVICE_IDENTIFIER.code
SUBSCRIPTION_ID = A.SUBSCRIPTION_ID.code
SUBSCRIPTION_ID_DATA = A.SUBSCRIPTION_ID_DATA.code
UNIT_VALUE = A.UNIT_VALUE.code
USU = A.USED_SERVICE_UNIT.code
VALUE_DIGITS = A.VALUE_DIGITS.code
VALIDITY_TIME = A.VALIDITY_TIME.code
FINAL_UNIT_ACTION = A.FINAL_UNIT_ACTION.code
SUBSCRIPTION_ID_TYPE = A.SUBSCRIPTION_ID_TYPE.code
MSCC = A.MULTIPLE_SERVICES_CREDIT_CONTROL.code
SERVICE_CONTEXT_ID = A.SERVICE_CONTEXT_ID.code
USER_NAME = A.USER_NAME.code
# ... and TS 32.299 §7.2 (vendor 10415); names from the vocabulary (avps.py)
SERVICE_INFORMATION = A.SERVICE_INFORMATION.code
PS_INFORMATION = A.PS_INFORMATION.code
IMS_INFORMATION = A.IMS_INFORMATION.code
ROLE_OF_NODE = A.ROLE_OF_NODE.code
CALLING_PARTY = A.CALLING_PARTY_ADDRESS.code
CALLED_PARTY = A.CALLED_PARTY_ADDRESS.code
IMS_CHARGING_ID = A.IMS_CHARGING_IDENTIFIER.code
ACCESS_NETWORK_INFO = A.ACCESS_NETWORK_INFORMATION.code
SGSN_MCC_MNC = A.TGPP_SGSN_MCC_MNC.code
SMS_INFORMATION = A.SMS_INFORMATION.code
RECIPIENT_INFO = A.RECIPIENT_INFO.code
RECIPIENT_ADDRESS = A.RECIPIENT_ADDRESS.code
ADDRESS_DATA = A.ADDRESS_DATA.code
TIME_QUOTA_THRESHOLD = A.TIME_QUOTA_THRESHOLD.code
VOLUME_QUOTA_THRESHOLD = A.VOLUME_QUOTA_THRESHOLD.code

MANDATORY = (c.SESSION_ID, c.ORIGIN_HOST, c.ORIGIN_REALM, c.DESTINATION_REALM, c.AUTH_APPLICATION_ID,
             SERVICE_CONTEXT_ID, CC_REQUEST_TYPE, CC_REQUEST_NUMBER)     # RFC 4006 §3.1
INITIAL, UPDATE, TERMINATION, EVENT = 1, 2, 3, 4
TYPE_NAMES = {INITIAL: "initial", UPDATE: "update", TERMINATION: "termination", EVENT: "event"}
HOOK_TYPES = {INITIAL: "start", UPDATE: "interim", TERMINATION: "stop", EVENT: "event"}
ACTIONS = {0: Action.DEBIT, 1: Action.REFUND, 2: Action.CHECK, 3: Action.PRICE}   # Requested-Action
SESSION_ACTIONS = {INITIAL: Action.START, UPDATE: Action.UPDATE, TERMINATION: Action.STOP}
RESULT_OF = {Outcome.SUCCESS: c.SUCCESS, Outcome.CREDIT_LIMIT_REACHED: 4012, Outcome.SERVICE_DENIED: 4010,
             Outcome.USER_UNKNOWN: 5030, Outcome.RATING_FAILED: 5031}
# The same by the outcome's value: per answer, an Enum member's hash and ``.value`` are Python-level
# calls, its ``_value_`` a plain attribute.
_RC_OF = {outcome._value_: rc for outcome, rc in RESULT_OF.items()}
# Service-Context-Id (TS 32.299 §7.1.12) -> (core service, default unit)
CONTEXTS = {"32251": ("data", Unit.OCTETS), "32260": ("voice", Unit.SECONDS), "32274": ("sms", Unit.MESSAGES),
            "32270": ("mms", Unit.MESSAGES), "32255": ("data", Unit.OCTETS)}
SUB_E164, SUB_IMSI, SUB_SIP_URI, SUB_NAI, SUB_PRIVATE = 0, 1, 2, 3, 4
CURRENCIES = {"USD": 840, "EUR": 978, "GBP": 826, "JPY": 392, "CHF": 756, "SEK": 752, "NOK": 578, "DKK": 208,
              "AUD": 36, "CAD": 124, "INR": 356, "CNY": 156, "BRL": 986, "ZAR": 710, "XOF": 952, "XAF": 950,
              "NGN": 566, "KES": 404}
SESSION_DOC = "ro_session"
_MANDATORY_SET = frozenset(MANDATORY)

_ID_FIELDS = {SUB_IMSI: '"imsi":', SUB_E164: '"msisdn":', SUB_NAI: '"nai":'}   # Subscription-Id type -> log field
_LISTED = frozenset((MSCC, SUBSCRIPTION_ID, USU, RSU))     # top-level AVPs parse_ccr collects specially

# Pre-encoded answer pieces (RFC 4006 §3.2): Auth-Application-Id + CC-Request-Type per request type,
# Result-Code per code, and the headers of the Grouped AVPs a CCA carries (vendor 0, dictionary M-bit).
_CCA_HEAD = {rt: c.encode_avp(c.AUTH_APPLICATION_ID, APP_ID) + c.encode_avp(CC_REQUEST_TYPE, rt) for rt in TYPE_NAMES}
_RESULT_AVP = {rc: c.encode_avp(c.RESULT_CODE, rc) for rc in RESULT_OF.values()}
_AVP_HDR = struct.Struct("!II")
_GROUP_FLAGS = {code: (c.AVP_M << 24 if c.MANDATORY.get((code, 0)) else 0)
                for code in (MSCC, GSU, FUI, REDIRECT_SERVER, COST_INFORMATION, UNIT_VALUE)}


def _group(code: int, body: bytes) -> bytes:
    """A vendor-0 Grouped AVP around already-encoded (padded) AVPs: ``encode_avp(code, [body])``."""
    return _AVP_HDR.pack(code, _GROUP_FLAGS[code] | (8 + len(body))) + body


def _result_avp(rc: int) -> bytes:
    avp = _RESULT_AVP.get(rc)
    return avp if avp is not None else c.encode_avp(c.RESULT_CODE, rc)


@dataclass(slots=True)
class Ccr:
    """The parts of a CCR the OCS uses."""

    session_id: str
    request_type: int
    request_number: int
    context: str = ""
    service: str | None = None             # the core service of the Service-Context-Id (context_of)
    subscribers: list[tuple[int, str]] = field(default_factory=list)
    action: Action = Action.START
    requested_action: int | None = None
    items: list[UsageItem] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)   # items per MSCC (or the single service), in order
    multiple: bool = False                 # MSCC form (answer in MSCC)
    role: int | None = None                # Role-Of-Node: 0 originating, 1 terminating
    calling: str | None = None
    called: str | None = None
    charging_id: str | None = None
    access_network: str | None = None
    vplmn: str | None = None
    service_identifier: int | None = None


def units_in(group: Avp) -> list[tuple[Unit, int]]:
    """The service units inside an RSU/USU/GSU (RFC 4006 §8.17-8.19); input+output if no total."""
    out: list[tuple[Unit, int]] = []
    inout = 0
    has_total = has_inout = False
    for a in group.group():            # fixed-size lengths were checked by the decoder (5014)
        if a.vendor:
            continue
        code = a.code
        if code == CC_TOTAL:
            out.append((Unit.OCTETS, a.uint))
            has_total = True
        elif code == CC_TIME:
            out.append((Unit.SECONDS, a.uint))
        elif code == CC_INPUT or code == CC_OUTPUT:
            inout += a.uint
            has_inout = True
        elif code == CC_SSU:
            out.append((Unit.MESSAGES, a.uint))
    if has_inout and not has_total:
        out.append((Unit.OCTETS, inout))
    return out


def _items(rsu: Avp | None, usus: list[Avp], default: Unit, rg: int | None, si: int | None) -> list[UsageItem]:
    """One usage item per unit the RSU/USU count (RFC 4006 §8.17-8.19: CC-Time, CC-Total-Octets and
    CC-Service-Specific-Units may travel together), all with the MSCC's rating group and service.

    An empty RSU asks the OCS to choose the grant of every unit reported; a unit the RSU does not
    name while it names others is reported only (no grant wanted for it)."""
    requested_units = units_in(rsu) if rsu is not None and rsu.size else []
    used_units = units_in(usus[0]) if len(usus) == 1 else [u for usu in usus for u in units_in(usu)]
    order: list[Unit] = []
    for unit, _n in requested_units + used_units:
        if unit not in order:
            order.append(unit)
    if not order:
        order.append(default)
    out: list[UsageItem] = []
    for unit in order:
        if rsu is None or (requested_units and all(u is not unit for u, _n in requested_units)):
            requested = None
        else:
            requested = _units_of(requested_units, unit)
        out.append(UsageItem(unit, requested, _units_of(used_units, unit), rg, si))
    return out


def _units_of(units: list[tuple[Unit, int]], unit: Unit) -> int:
    total = 0
    for u, n in units:
        if u is unit:
            total += n
    return total


def context_of(service_context: str) -> tuple[str | None, Unit]:
    """(core service, default unit) of a Service-Context-Id such as ``32251@3gpp.org``."""
    known = _CONTEXT_SEEN.get(service_context)
    if known is None:
        known = CONTEXTS.get(service_context.split("@", 1)[0][-5:], (None, Unit.OCTETS))
        if len(_CONTEXT_SEEN) < 256:        # bounded: peers send a handful of distinct contexts
            _CONTEXT_SEEN[service_context] = known
    return known


_CONTEXT_SEEN: dict[str, tuple[str | None, Unit]] = {}


def _party(text: str | None) -> str | None:
    """Digits of a tel:/sip: URI or E.164 (the tariff prefix key)."""
    if not text:
        return None
    t = text.strip()
    for scheme in ("tel:", "sip:", "sips:"):
        if t.lower().startswith(scheme):
            t = t[len(scheme):]
    t = t.split("@", 1)[0].split(";", 1)[0]
    return t.lstrip("+") or None


def parse_ccr(msg: Message) -> Ccr:
    """Read a CCR (RFC 4006 §3.1, TS 32.299 §6.4.2); protocol errors as :class:`DiameterError`."""
    seen: dict[int, Avp] = {}
    mscc: list[Avp] = []
    subs: list[Avp] = []
    service_info: Avp | None = None
    rsu: Avp | None = None
    usus: list[Avp] = []
    for a in msg.avps:
        code = a.code
        if a.vendor:
            if code == SERVICE_INFORMATION and a.vendor == TGPP:
                service_info = a
        elif code not in _LISTED:
            if code not in seen:
                seen[code] = a
        elif code == MSCC:
            mscc.append(a)
        elif code == SUBSCRIPTION_ID:
            subs.append(a)
        elif code == USU:
            usus.append(a)
        else:
            rsu = a
    if not _MANDATORY_SET.issubset(seen):
        for code in MANDATORY:
            if code not in seen:
                raise c.missing_avp(code)
    # Unsigned32/Enumerated AVPs below had their length checked by the decoder (5014)
    if seen[c.AUTH_APPLICATION_ID].uint != APP_ID:
        raise DiameterError(c.INVALID_AVP_VALUE, seen[c.AUTH_APPLICATION_ID], "Auth-Application-Id")
    rt_avp = seen[CC_REQUEST_TYPE]
    rt = rt_avp.i32
    if rt not in TYPE_NAMES:
        raise DiameterError(c.INVALID_AVP_VALUE, rt_avp, "CC-Request-Type")
    ccr = Ccr(seen[c.SESSION_ID].text, rt, seen[CC_REQUEST_NUMBER].uint,
              seen[SERVICE_CONTEXT_ID].text)
    for s in subs:
        kind = data = None
        for a in s.group():
            if a.code == SUBSCRIPTION_ID_TYPE and not a.vendor:
                kind = a.i32
                if not 0 <= kind <= 4:
                    raise DiameterError(c.INVALID_AVP_VALUE, a, "Subscription-Id-Type")
            elif a.code == SUBSCRIPTION_ID_DATA and not a.vendor:
                data = a.text
        if kind is None or data is None:
            missing = SUBSCRIPTION_ID_TYPE if kind is None else SUBSCRIPTION_ID_DATA
            raise DiameterError(c.MISSING_AVP, c.encode_avp(SUBSCRIPTION_ID, [
                c.encode_avp(missing, 0 if missing == SUBSCRIPTION_ID_TYPE else b"")]), "Subscription-Id")
        ccr.subscribers.append((kind, data))
    if not ccr.subscribers and USER_NAME in seen:
        ccr.subscribers.append((SUB_NAI, seen[USER_NAME].text))
    if rt == EVENT:
        ra = seen.get(REQUESTED_ACTION)
        ccr.requested_action = ra.i32 if ra is not None else 0   # absent: DIRECT_DEBITING (lenient)
        if ccr.requested_action not in ACTIONS:
            raise DiameterError(c.INVALID_AVP_VALUE, ra, "Requested-Action")
        ccr.action = ACTIONS[ccr.requested_action]
    else:
        ccr.action = SESSION_ACTIONS[rt]
    ccr.service, default_unit = context_of(ccr.context)
    si_top = seen.get(SERVICE_IDENTIFIER)
    ccr.service_identifier = si_top.uint if si_top is not None else None
    if mscc:
        ccr.multiple = True
        for m in mscc:
            m_rsu: Avp | None = None
            m_usus: list[Avp] = []
            rg = si = None
            for a in m.group():
                if a.vendor:
                    continue
                code = a.code
                if code == USU:
                    m_usus.append(a)
                elif code == RSU:
                    m_rsu = a
                elif code == RATING_GROUP:
                    rg = a.uint
                elif code == SERVICE_IDENTIFIER:
                    si = a.uint
            if rt == TERMINATION:
                m_rsu = None
            items = _items(m_rsu, m_usus, default_unit, rg, si)
            ccr.items += items
            ccr.groups.append(len(items))
    elif rsu is not None or usus or rt in (EVENT, INITIAL):
        if rt == TERMINATION:
            rsu = None
        elif rsu is None and rt == INITIAL:
            rsu = Avp(RSU, 0, c.AVP_M, b"")     # a session without MSCC/RSU still gets a grant
        ccr.items = _items(rsu, usus, default_unit, None, ccr.service_identifier)
        ccr.groups.append(len(ccr.items))
    if service_info is not None:
        _service_information(ccr, service_info)
    return ccr


def _service_information(ccr: Ccr, info: Avp) -> None:
    """IMS-Information (role, parties, charging id, access network) and PS-Information (VPLMN)."""
    for a in info.group():
        if a.vendor != TGPP:
            continue
        if a.code == IMS_INFORMATION:
            for b in a.group():
                if b.vendor != TGPP:
                    continue
                if b.code == ROLE_OF_NODE:
                    ccr.role = b.i32
                elif b.code == CALLING_PARTY and ccr.calling is None:
                    ccr.calling = b.text
                elif b.code == CALLED_PARTY:
                    ccr.called = b.text
                elif b.code == IMS_CHARGING_ID:
                    ccr.charging_id = b.text
                elif b.code == ACCESS_NETWORK_INFO:
                    ccr.access_network = b.data.decode(errors="replace")
        elif a.code == PS_INFORMATION:
            for b in a.group():
                if b.vendor == TGPP and b.code == SGSN_MCC_MNC:
                    ccr.vplmn = b.text
        elif a.code == SMS_INFORMATION and ccr.called is None:
            # TS 32.299 §7.2.209: the (first) recipient is the tariff destination of an SMS
            for b in a.group():
                if b.vendor == TGPP and b.code in (RECIPIENT_INFO, RECIPIENT_ADDRESS):
                    addresses = b.group() if b.code == RECIPIENT_INFO else [b]
                    for ra in addresses:
                        if ra.vendor == TGPP and ra.code == RECIPIENT_ADDRESS:
                            for d in ra.group():
                                if d.vendor == TGPP and d.code == ADDRESS_DATA and ccr.called is None:
                                    ccr.called = d.text


def redirect_address_type(address: str) -> int:
    """Redirect-Address-Type (RFC 4006 §8.38) from the address's form: IPv4 0, IPv6 1, URL 2, SIP URI 3."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return 3 if address.lower().startswith(("sip:", "sips:")) else 2
    return 0 if ip.version == 4 else 1


# ---- the answer (RFC 4006 §3.2) -----------------------------------------------------------------

_MSG_HDR = struct.Struct("!IIIII")      # version|length, flags|code, Application-Id, Hop-by-Hop, End-to-End
_U32 = struct.Struct("!I")
_NUMBER_PREFIX = c.encode_avp(CC_REQUEST_NUMBER, 0)[:8]
_GSU_CACHE = 1024                       # distinct (unit, amount) GSU bodies remembered per template
_MSCC_CACHE = 1024                      # distinct single-unit MSCC answers remembered per template


class CcaTemplate:
    """The CCAs of one node: Origin-Host/Realm, Auth-Application-Id and CC-Request-Type encoded once
    per request type; per answer only Session-Id, Result-Code, CC-Request-Number and the grants (an
    MSCC of one unit remembered whole by its grant, outcome and identifiers, bounded).

    Answers are the bytes of ``Node.answer(request, rc, [Auth-Application-Id, CC-Request-Type,
    CC-Request-Number, MSCC...])``: Session-Id first (RFC 6733 §8.8), then Result-Code, Origin-Host,
    Origin-Realm (§6.2), the E-bit for a 3xxx Result-Code (§7.1.3), the P-bit copied."""

    __slots__ = ("validity", "threshold", "exponent", "currency", "_after_rc", "_gsu", "_msccs")

    def __init__(self, origin_avps: bytes, validity: int, threshold: int, exponent: int, currency: int) -> None:
        self.validity = validity            # Validity-Time of a refusal that redirects (RFC 4006 §5.6.2)
        self.threshold = threshold          # Volume/Time-Quota-Threshold, % of a grant (TS 32.299 §7.2)
        self.exponent = exponent
        self.currency = currency
        self._after_rc = {rt: origin_avps + _CCA_HEAD[rt] for rt in TYPE_NAMES}
        self._gsu: dict[tuple[str, int], bytes] = {}
        self._msccs: dict[tuple[Any, ...], bytes] = {}

    def build(self, msg: Message, ccr: Ccr, result: ChargeResult, override: Override | None,
              redirect: str) -> bytes:
        """CCA (RFC 4006 §3.2): per-MSCC results, GSU, Validity-Time, FUI; EVENT extras (§6)."""
        rc = _RC_OF[result.outcome._value_]
        items: Sequence[ItemResult] = result.items
        if override is not None:
            items = [_override(i, override) for i in items]
            if override.result_code is not None:
                rc = override.result_code
        rt = ccr.request_type
        groups = _grouped(ccr.groups, items)
        sid = msg.avps[0] if msg.avps and msg.avps[0].code == c.SESSION_ID else msg.find(c.SESSION_ID)
        raw = sid.raw if sid is not None else b""
        parts = [raw + b"\0" * (-len(raw) & 3), b"", self._after_rc[rt],
                 _NUMBER_PREFIX + _U32.pack(ccr.request_number)]
        if rt == EVENT:
            parts += self._event_avps(ccr, result, items, groups, override)
            if ccr.action is Action.CHECK and result.outcome is Outcome.CREDIT_LIMIT_REACHED and override is None:
                rc = c.SUCCESS
        elif ccr.multiple:
            for group in groups:
                if override is None and len(group) == 1:
                    parts.append(self._single_mscc(ccr, group, redirect))
                else:
                    parts.append(_group(MSCC, b"".join(self._mscc(ccr, group, override, redirect))))
        elif groups:
            parts += self._service_avps(ccr, groups[0], redirect)
        parts[1] = _result_avp(rc)
        body = b"".join(parts)
        flags = (msg.flags & c.FLAG_P) | (c.FLAG_E if 3000 <= rc < 4000 else 0)
        return _MSG_HDR.pack(0x01000000 | (20 + len(body)), flags << 24 | msg.code, msg.app_id, msg.hbh,
                             msg.e2e) + body

    def _mscc(self, ccr: Ccr, group: Sequence[ItemResult], override: Override | None, redirect: str) -> list[bytes]:
        """One MSCC (RFC 4006 §8.16) for all the units of one rating group: one GSU, one Result-Code."""
        out = self._service_avps(ccr, group, redirect)
        out += _service_ids(group[0])
        out.append(_result_avp(_group_result(group, override)))
        return out

    def _single_mscc(self, ccr: Ccr, group: Sequence[ItemResult], redirect: str) -> bytes:
        """The MSCC of one unit with no hook override, from the cache when this answer was built before:
        it depends only on the request type's being TERMINATION, the redirect address and the item."""
        i = group[0]
        key = (ccr.request_type == TERMINATION, redirect, i.outcome._value_, i.unit._value_, i.granted,
               i.validity, i.final, i.rating_group, i.service_identifier)
        mscc = self._msccs.get(key)
        if mscc is None:
            mscc = _group(MSCC, b"".join(self._mscc(ccr, group, None, redirect)))
            if len(self._msccs) < _MSCC_CACHE:
                self._msccs[key] = mscc
        return mscc

    def _grant(self, granted: Sequence[ItemResult]) -> bytes:
        """The GSU of these grants (RFC 4006 §8.17); a single unit's from a bounded cache."""
        if len(granted) != 1:
            return _group(GSU, b"".join([_unit_avp(i.unit, i.granted) for i in granted]))
        one = granted[0]
        key = (one.unit._value_, one.granted)
        gsu = self._gsu.get(key)
        if gsu is None:
            gsu = _group(GSU, _unit_avp(one.unit, one.granted))
            if len(self._gsu) < _GSU_CACHE:
                self._gsu[key] = gsu
        return gsu

    def _service_avps(self, ccr: Ccr, group: Sequence[ItemResult], redirect: str) -> list[bytes]:
        """GSU with every unit granted (RFC 4006 §8.17), Validity-Time, quota thresholds and FUI.

        Units are granted only when every unit of the service is: a service metered in two units
        cannot run on one.  A refusal for credit carries FUI REDIRECT when a top-up address is known
        (RFC 4006 §5.6.2, §8.34): the gateway redirects the user for Validity-Time, then asks again."""
        out: list[bytes] = []
        if ccr.request_type == TERMINATION:
            return out
        success = Outcome.SUCCESS
        for i in group:
            if i.outcome is not success:
                granted = []
                break
        else:
            granted = [i for i in group if i.granted]
        if granted:
            out.append(self._grant(granted))
            validity = min((i.validity for i in granted if i.validity), default=0)
            if validity:
                out.append(_VALIDITY_PREFIX + _U32.pack(validity))
            if self.threshold:
                for i in granted:
                    if i.unit in (Unit.SECONDS, Unit.OCTETS):
                        code = TIME_QUOTA_THRESHOLD if i.unit is Unit.SECONDS else VOLUME_QUOTA_THRESHOLD
                        out.append(c.encode_avp(code, min(i.granted * self.threshold // 100, 0xFFFFFFFF), TGPP))
            if any(i.final for i in group):
                out.append(_fui(redirect))
        elif redirect and any(i.outcome is Outcome.CREDIT_LIMIT_REACHED for i in group):
            out.append(c.encode_avp(VALIDITY_TIME, self.validity))
            out.append(_fui(redirect))
        return out

    def _event_avps(self, ccr: Ccr, result: ChargeResult, items: Sequence[ItemResult],
                    groups: list[Sequence[ItemResult]], override: Override | None) -> list[bytes]:
        """One-time event answer (RFC 4006 §6): Check-Balance-Result, GSU of the units debited and
        Cost-Information; in MSCC form (§8.16) one MSCC per requested MSCC with its GSU and Result-Code."""
        out: list[bytes] = []
        action = ccr.action
        if action is Action.CHECK:
            ok = result.outcome is Outcome.SUCCESS
            out.append(c.encode_avp(CHECK_BALANCE_RESULT, 0 if ok else 1))     # ENOUGH_CREDIT / NO_CREDIT
        for group in groups if ccr.multiple else groups[:1]:
            avps: list[bytes] = []
            if action is Action.DEBIT and all(i.outcome is Outcome.SUCCESS for i in group):
                avps.append(_group(GSU, b"".join(_unit_avp(i.unit, i.debited) for i in group)))
            if not ccr.multiple:
                out += avps
                break
            avps += _service_ids(group[0])
            rc = _group_result(group, override)
            if action is Action.CHECK and rc == 4012 and override is None:
                rc = c.SUCCESS               # a balance check answers in Check-Balance-Result (§6.5)
            avps.append(_result_avp(rc))
            out.append(_group(MSCC, b"".join(avps)))
        if action in (Action.PRICE, Action.DEBIT, Action.REFUND) and result.outcome is Outcome.SUCCESS:
            money = sum(i.charged for i in items)
            out.append(c.encode_avp(COST_INFORMATION, [
                c.encode_avp(UNIT_VALUE, [c.encode_avp(VALUE_DIGITS, abs(money)),
                                          c.encode_avp(EXPONENT, self.exponent)]),
                c.encode_avp(CURRENCY_CODE, self.currency)]))
        return out


_VALIDITY_PREFIX = c.encode_avp(VALIDITY_TIME, 0)[:8]


def _grouped(counts: Sequence[int], items: Sequence[ItemResult]) -> list[Sequence[ItemResult]]:
    """The results of each MSCC (``counts``: items per MSCC, in request order); empty ones dropped."""
    out: list[Sequence[ItemResult]] = []
    start = 0
    for n in counts:
        group = items[start:start + n]
        start += n
        if group:
            out.append(group)
    return out


def _service_ids(item: ItemResult) -> list[bytes]:
    out: list[bytes] = []
    if item.rating_group is not None:
        out.append(c.encode_avp(RATING_GROUP, item.rating_group))
    if item.service_identifier is not None:
        out.append(c.encode_avp(SERVICE_IDENTIFIER, item.service_identifier))
    return out


def _group_result(group: Sequence[ItemResult], override: Override | None) -> int:
    """The Result-Code of one MSCC: the worst of its units' (RFC 6733 §7.1: 5xxx permanent worse than
    4xxx transient, worse than 2xxx), or the hook's."""
    if override is not None and override.result_code is not None:
        return override.result_code
    worst = 0
    for i in group:
        rc = _RC_OF[i.outcome._value_]
        if rc > worst:
            worst = rc
    return worst


def _fui(redirect: str) -> bytes:
    """Final-Unit-Indication (RFC 4006 §8.34): TERMINATE, or REDIRECT to ``redirect`` (§8.37-8.39)."""
    if not redirect:
        return _group(FUI, c.encode_avp(FINAL_UNIT_ACTION, 0))
    server = c.encode_avp(REDIRECT_SERVER, [c.encode_avp(REDIRECT_ADDRESS_TYPE, redirect_address_type(redirect)),
                                            c.encode_avp(REDIRECT_SERVER_ADDRESS, redirect)])
    return _group(FUI, c.encode_avp(FINAL_UNIT_ACTION, 1) + server)


def _echo(msg: Message) -> list[bytes]:
    """Auth-Application-Id, CC-Request-Type and CC-Request-Number for an error CCA, when usable."""
    out = [c.encode_avp(c.AUTH_APPLICATION_ID, APP_ID)]
    for code in (CC_REQUEST_TYPE, CC_REQUEST_NUMBER):
        a = msg.find(code)
        if a is not None and len(a.data) == 4:
            out.append(c.encode_avp(code, a.data, type_=c.OCTETS, mandatory=True))
    return out


def candidates(subscribers: Sequence[tuple[int, str]]) -> tuple[str, ...]:
    """The Subscription-Ids as inventory identities, in the order to try them (IMSI first)."""
    if len(subscribers) == 1:
        return (_strip(subscribers[0][1]),)
    return tuple(_strip(ident) for _kind, ident in sorted(subscribers, key=lambda x: (x[0] != SUB_IMSI, x[0])))


def _strip(ident: str) -> str:
    """Subscription-Id-Data as the inventory stores it: no URI scheme, no leading '+'."""
    if ident.startswith(("tel:", "sip:")):
        ident = ident.split(":", 1)[1].split(";", 1)[0]
        if "@" in ident and ident.split("@", 1)[0].lstrip("+").isdigit():
            ident = ident.split("@", 1)[0]
    return ident.removeprefix("+")


def _unit_avp(unit: Unit, amount: int) -> bytes:
    if unit is Unit.SECONDS:
        return c.encode_avp(CC_TIME, min(amount, 0xFFFFFFFF))
    if unit is Unit.MESSAGES:
        return c.encode_avp(CC_SSU, amount)
    return c.encode_avp(CC_TOTAL, amount)


def _override(item: ItemResult, o: Override) -> ItemResult:
    changes: dict[str, Any] = {}
    if o.granted is not None:
        changes["granted"] = max(0, o.granted)
    if o.final is not None:
        changes["final"] = o.final
    if o.result_code is not None:
        outcome = next((k for k, v in RESULT_OF.items() if v == o.result_code), None)
        if outcome is not None:
            changes["outcome"] = outcome
    return replace(item, **changes) if changes else item


# ---- the transaction-log record (docs/logs.md) --------------------------------------------------

def _num(v: Any) -> str:
    """A JSON number (or null/true/false) as the log's encoder writes it."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    return int.__repr__(v)


def log_record(ccr: Ccr, request: ChargeRequest, result: ChargeResult, override: Override | None,
               peer_host: str | None, peer_realm: str | None) -> str:
    """The acct record of one CCR as compact JSON, written field by field: the text the log's encoder
    gives the record ``translog.charge_fields(request, result)`` without its null top-level fields,
    then ``protocol``, ``app``, ``type``, ``request_type``, ``request_number``, ``peer``,
    ``origin_realm``, ``result``, ``duplicate``, ``calling_party`` and the subscriber's identities.
    Raises TypeError on a value that is not a str/int/None where one is expected."""
    jstr = _jstr
    out = []
    if request.subscriber is not None:
        out.append(f'"subscriber":{jstr(request.subscriber)}')
    if request.session_id is not None:
        out.append(f'"session_id":{jstr(request.session_id)}')
    if request.action is not None:
        out.append(f'"action":{jstr(request.action._value_)}')
    if request.service is not None:
        out.append(f'"service":{jstr(request.service)}')
    if request.destination is not None:
        out.append(f'"destination":{jstr(request.destination)}')
    if request.vplmn is not None:
        out.append(f'"vplmn":{jstr(request.vplmn)}')
    results = result.items
    n = len(results)
    charged = 0
    units = []
    i = 0
    for item in request.items:
        si = item.service_identifier
        u = (f'{{"unit":{jstr(item.unit._value_)},"rating_group":{_num(item.rating_group)},'
             f'"requested":{_num(item.requested)},"used":{_num(item.used)}'
             + ("" if si is None else f',"service_identifier":{_num(si)}'))
        if i < n:
            r = results[i]
            u = (f'{u},"granted":{_num(r.granted)},"debited":{_num(r.debited)},"charged":{_num(r.charged)},'
                 f'"unpaid":{_num(r.unpaid)},"outcome":{jstr(r.outcome._value_)}'
                 + (',"final":true}' if r.final else "}"))
            charged += r.charged
        else:
            u += "}"
        units.append(u)
        i += 1
    out.append(f'"units":[{",".join(units)}],"charged":{_num(charged)},"outcome":{jstr(result.outcome._value_)},'
               f'"protocol":"diameter","app":"ro","type":"CCR","request_type":{_REQUEST_TYPE_JSON[ccr.request_type]},'
               f'"request_number":{_num(ccr.request_number)}')
    if peer_host is not None:
        out.append(f'"peer":{jstr(peer_host)}')
    if peer_realm is not None:
        out.append(f'"origin_realm":{jstr(peer_realm)}')
    rc = override.result_code if override and override.result_code else _RC_OF[result.outcome._value_]
    out.append(f'"result":{_num(rc)},"duplicate":{_num(result.duplicate)}')
    if ccr.calling is not None:
        out.append(f'"calling_party":{jstr(ccr.calling)}')
    subscribers = ccr.subscribers
    if len(subscribers) == 1:
        kind, ident = subscribers[0]
        name = _ID_FIELDS.get(kind)
        if name is not None and ident is not None:
            out.append(name + jstr(ident))
    elif subscribers:
        ids: dict[str, str] = {}          # a repeated kind keeps its first place and its last value
        for kind, ident in subscribers:
            name = _ID_FIELDS.get(kind)
            if name is not None and ident is not None:
                ids[name] = ident
        for name, ident in ids.items():
            out.append(name + jstr(ident))
    return "{" + ",".join(out) + "}"


_REQUEST_TYPE_JSON = {rt: _jstr(name) for rt, name in TYPE_NAMES.items()}
