"""Credit-Control application (RFC 4006) as used by Gy (TS 32.251) and IMS Ro (TS 32.260/32.299).

A CCR becomes one core ``ChargeRequest`` (one ``UsageItem`` per unit of each Multiple-Services-
Credit-Control, or of the single-service form; the CCA answers each MSCC once, with one GSU for
all its units and the worst of their Result-Codes) decided and applied in ONE store transaction
together with the Diameter session document, through the ledger (:mod:`appliance.ledger.book`,
which emits the credit events the PCRF acts on); the decision becomes the CCA.  Retransmissions
are answered, not charged: the core remembers ``request_key = Session-Id:CC-Request-Number``
and the node answers T-flag duplicates (End-to-End-Id) from its cache.

This module is the asyncio side (ledger call, hook, held log records); reading the CCR, building
the CCA and encoding the log record are pure, in :mod:`.ro_codec` (compiled when built).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...ledger.remote import LedgerUnavailable
from ...logs import translog
from ...ocs.rating import ChargeRequest, ChargeResult
from ...telemetry import metrics
from .. import codec as c
from ..codec import DiameterError
from ..hook import CcrView, Override, load_hook, run_hook
from ..node import Node, Request
from ..peer import AppSupport
from .ro_codec import (  # the codec's names, kept importable from here
    ACCESS_NETWORK_INFO,
    ACTIONS,
    ADDRESS_DATA,
    APP_ID,
    CALLED_PARTY,
    CALLING_PARTY,
    CC_INPUT,
    CC_OUTPUT,
    CC_REQUEST_NUMBER,
    CC_REQUEST_TYPE,
    CC_SSU,
    CC_TIME,
    CC_TOTAL,
    CHECK_BALANCE_RESULT,
    CMD_CC,
    CONTEXTS,
    COST_INFORMATION,
    CURRENCIES,
    CURRENCY_CODE,
    EVENT,
    EXPONENT,
    FINAL_UNIT_ACTION,
    FUI,
    GSU,
    HOOK_TYPES,
    IMS_CHARGING_ID,
    IMS_INFORMATION,
    INITIAL,
    MANDATORY,
    MSCC,
    PS_INFORMATION,
    RATING_GROUP,
    RECIPIENT_ADDRESS,
    RECIPIENT_INFO,
    REDIRECT_ADDRESS_TYPE,
    REDIRECT_SERVER,
    REDIRECT_SERVER_ADDRESS,
    REQUESTED_ACTION,
    RESULT_OF,
    ROLE_OF_NODE,
    RSU,
    SERVICE_CONTEXT_ID,
    SERVICE_IDENTIFIER,
    SERVICE_INFORMATION,
    SESSION_ACTIONS,
    SESSION_DOC,
    SGSN_MCC_MNC,
    SMS_INFORMATION,
    SUB_E164,
    SUB_IMSI,
    SUB_NAI,
    SUB_PRIVATE,
    SUB_SIP_URI,
    SUBSCRIPTION_ID,
    SUBSCRIPTION_ID_DATA,
    SUBSCRIPTION_ID_TYPE,
    TERMINATION,
    TIME_QUOTA_THRESHOLD,
    TYPE_NAMES,
    UNIT_VALUE,
    UPDATE,
    USER_NAME,
    USU,
    VALIDITY_TIME,
    VALUE_DIGITS,
    VOLUME_QUOTA_THRESHOLD,
    CcaTemplate,
    Ccr,
    _echo,
    _party,
    _unit_avp,
    candidates,
    context_of,
    log_record,
    parse_ccr,
    redirect_address_type,
    units_in,
)

__all__ = ['ACCESS_NETWORK_INFO', 'ACTIONS', 'ADDRESS_DATA', 'APP_ID', 'CALLED_PARTY', 'CALLING_PARTY',
           'candidates', 'CC_INPUT', 'CC_OUTPUT', 'CC_REQUEST_NUMBER', 'CC_REQUEST_TYPE', 'CC_SSU', 'CC_TIME',
           'CC_TOTAL', 'CcaTemplate', 'Ccr', 'CHECK_BALANCE_RESULT', 'CMD_CC', 'context_of', 'CONTEXTS',
           'COST_INFORMATION', 'CURRENCIES', 'CURRENCY_CODE', 'EVENT', 'EXPONENT', 'FINAL_UNIT_ACTION', 'FUI',
           'GSU', 'HOOK_TYPES', 'IMS_CHARGING_ID', 'IMS_INFORMATION', 'INITIAL', 'log_record', 'MANDATORY', 'MSCC',
           'parse_ccr', 'PS_INFORMATION', 'RATING_GROUP', 'RECIPIENT_ADDRESS', 'RECIPIENT_INFO',
           'redirect_address_type', 'REDIRECT_ADDRESS_TYPE', 'REDIRECT_SERVER', 'REDIRECT_SERVER_ADDRESS',
           'REQUESTED_ACTION', 'RESULT_OF', 'ROLE_OF_NODE', 'RSU', 'SERVICE_CONTEXT_ID', 'SERVICE_IDENTIFIER',
           'SERVICE_INFORMATION', 'SESSION_ACTIONS', 'SESSION_DOC', 'SGSN_MCC_MNC', 'SMS_INFORMATION', 'SUB_E164',
           'SUB_IMSI', 'SUB_NAI', 'SUB_PRIVATE', 'SUB_SIP_URI', 'SUBSCRIPTION_ID', 'SUBSCRIPTION_ID_DATA',
           'SUBSCRIPTION_ID_TYPE', 'TERMINATION', 'TIME_QUOTA_THRESHOLD', 'TYPE_NAMES', 'UNIT_VALUE', 'units_in',
           'UPDATE', 'USER_NAME', 'USU', 'VALIDITY_TIME', 'VALUE_DIGITS', 'VOLUME_QUOTA_THRESHOLD', '_unit_avp']

log = logging.getLogger(__name__)
_LOG_ID_FIELDS = {SUB_IMSI: "imsi", SUB_E164: "msisdn", SUB_NAI: "nai"}     # Subscription-Id type -> log field
_MAYBE_NONE = ("subscriber", "session_id", "action", "service", "destination", "vplmn", "outcome")  # of charge_fields


class RoApplication:
    """The Gy/Ro credit-control server."""

    def __init__(self, node: Node, ctx: Any) -> None:
        self.node = node
        self.store = ctx.store
        self.charging = ctx.charging
        d = ctx.cfg.diameter
        self.hook = load_hook(d.charging_hook)
        self.hook_timeout_ms = d.hook_timeout_ms
        self.redirect = d.redirect_server.strip() if d.final_unit_action == "redirect" else None
        self.validity = ctx.charging.policy.validity
        self.threshold = d.quota_threshold_percent
        self.currency = CURRENCIES.get(ctx.cfg.money.currency.upper(), 0)
        scale, exponent = ctx.cfg.money.scale, 0
        while scale > 1 and scale % 10 == 0:
            scale //= 10
            exponent -= 1
        self.exponent = exponent if scale == 1 else 0
        self.counter = {t: f"diameter.ro.ccr.{n}" for t, n in TYPE_NAMES.items()}
        self._logged = _HeldRecords()
        self.cca = CcaTemplate(node._origin_avps, self.validity, self.threshold, self.exponent, self.currency)

    async def on_ccr(self, req: Request) -> bytes:
        msg = req.message
        try:
            ccr = parse_ccr(msg)
        except DiameterError as exc:
            exc.avps = _echo(msg)     # a CCA carries Auth-Application-Id, CC-Request-Type/Number (RFC 4006 §3.2)
            raise
        metrics.inc(self.counter[ccr.request_type])
        other = ccr.calling if ccr.role == 1 else ccr.called
        now = int(self.charging.clock())
        request = ChargeRequest(
            subscriber=ccr.subscribers[0][1] if ccr.subscribers else "", session_id=ccr.session_id,
            action=ccr.action, items=tuple(ccr.items), request_key=f"{ccr.session_id}:{ccr.request_number}",
            service=ccr.service, destination=_party(other), vplmn=ccr.vplmn, now=now)
        try:
            result, subscriber, redirect = await self.charging.credit_control(
                request, ccr.request_type, candidates(ccr.subscribers), self.redirect)
        except LedgerUnavailable:
            metrics.inc("diameter.ro.ledger_unavailable")
            raise DiameterError(c.TOO_BUSY, None, "the charging ledger is restarting", _echo(msg)) from None
        if result is None:
            raise DiameterError(c.UNKNOWN_SESSION_ID, None, "no such session (no successful CCR-INITIAL)",
                                _echo(msg))
        override = None
        if self.hook is not None:
            override = await run_hook(self.hook, self._view(ccr, subscriber, result), self.hook_timeout_ms)
            if override is not None and override.final and not redirect and self.redirect:
                redirect = self.redirect         # a final grant the hook made: the configured top-up address
        answer = self.cca.build(msg, ccr, result, override, redirect)
        if translog.enabled():
            if translog.holding():
                self._log(req, ccr, request, result, override, held=True)
                await self._logged.wait()      # this turn's records in the file before any answer leaves
            else:
                self._log(req, ccr, request, result, override)
        return answer

    # -- hook and log ---------------------------------------------------------------------------
    def _view(self, ccr: Ccr, subscriber: str | None, result: ChargeResult) -> CcrView:
        item = ccr.items[0] if ccr.items else None
        first = result.items[0] if result.items else None
        return CcrView(
            {0: "originating", 1: "terminating"}.get(ccr.role) if ccr.role is not None else None,
            HOOK_TYPES[ccr.request_type], ccr.calling, ccr.called, ccr.charging_id or ccr.session_id,
            ccr.session_id, subscriber, item.requested if item else None, item.used if item else 0,
            item.unit.value if item else "octets", ccr.access_network,
            item.service_identifier if item and item.service_identifier is not None else ccr.service_identifier,
            ccr.context, RESULT_OF[result.outcome], first.granted if first else 0,
            first.final if first else False)

    def _log(self, req: Request, ccr: Ccr, request: ChargeRequest, result: ChargeResult,
             override: Override | None, held: bool = False) -> None:
        peer = req.peer
        if translog.takes_encoded():            # no capture, no shipper: the record's JSON written directly
            try:
                text = log_record(ccr, request, result, override, peer.host, peer.realm)
            except TypeError:
                pass                            # a field of an unexpected type: the dict path below
            else:
                translog.acct_encoded(text, held=held)
                return
        translog.acct(record_fields(ccr, request, result, override, peer.host, peer.realm), held=held)


class _HeldRecords:
    """The acct records of one loop turn written with one ``write()`` (and one ``flock``), then released.

    Each CCR's record is logged ``held=True``; its handler awaits :meth:`wait` before returning the
    answer, so no CCA leaves before its record is in the page cache (translog's write-through
    promise), while a turn that answers many pipelined CCRs pays one write instead of one each."""

    __slots__ = ("_turn",)

    def __init__(self) -> None:
        self._turn: asyncio.Future[None] | None = None

    def wait(self) -> asyncio.Future[None]:
        turn = self._turn
        if turn is None:
            loop = asyncio.get_running_loop()
            turn = self._turn = loop.create_future()
            loop.call_soon(self._write)
        return turn

    def _write(self) -> None:
        turn, self._turn = self._turn, None
        try:
            translog.write_held()
        finally:
            if turn is not None and not turn.done():
                turn.set_result(None)


def record_fields(ccr: Ccr, request: ChargeRequest, result: ChargeResult, override: Override | None,
                  peer_host: str | None, peer_realm: str | None) -> dict[str, Any]:
    """The acct record of one CCR as a dict (docs/logs.md): for a capture, a shipper, or a value
    :func:`log_record` cannot write; the same fields in the same order as its JSON."""
    rec = translog.charge_fields(request, result)
    for key in _MAYBE_NONE:       # a record carries no null top-level fields
        if rec[key] is None:
            del rec[key]
    rec["protocol"], rec["app"], rec["type"] = "diameter", "ro", "CCR"
    rec["request_type"] = TYPE_NAMES[ccr.request_type]
    rec["request_number"] = ccr.request_number
    if peer_host is not None:
        rec["peer"] = peer_host
    if peer_realm is not None:
        rec["origin_realm"] = peer_realm
    rec["result"] = override.result_code if override and override.result_code else RESULT_OF[result.outcome]
    rec["duplicate"] = result.duplicate
    if ccr.calling is not None:
        rec["calling_party"] = ccr.calling
    for kind, ident in ccr.subscribers:
        field_name = _LOG_ID_FIELDS.get(kind)
        if field_name and ident is not None:
            rec[field_name] = ident
    return rec


def install(node: Node, ctx: Any) -> None:
    """Register Credit-Control (application 4, advertised as Auth-Application-Id 4)."""
    app = RoApplication(node, ctx)
    node.register(AppSupport(APP_ID), {CMD_CC: app.on_ccr})
