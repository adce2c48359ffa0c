"""The simple quota API of the OpenMVCore Go OCS (seeds/openmvcore-ocs-README.md), on the core.

``POST /quota {"imsi", "mb"}`` is an event DIRECT_DEBITING (RFC 4006 §6.3) of ``mb`` megabytes
of data: ``mb * rest.quota_mb_octets`` octets (default 1 MB = 1,000,000 octets), all or nothing,
through the same core operation as a Ro event CCR.  ``balance`` is the subscriber's usable octet
buckets in whole MB (floor).  Status codes: 200 for an answer (approved or not, as the README's
two response bodies), 400 for bad input, 404 for an unknown IMSI; ``GET /health`` 200 (503 when
the store does not answer).
"""
from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from aiohttp import web

from ..ledger import book, protocol
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, Outcome, UsageItem
from ..ocs.units import Unit
from ..telemetry import metrics
from .charges import USAGE_DOC, debit_in, stamp_balance_change  # noqa: F401  (also named from here)
from .http import ApiError, check_fields, iso, need_object, need_str, read_json, reply
from .nrf import log_charge
from .resources import ledger_call
from .routes import CFG, CHARGING, CLOCK, INT, STORE, STR, Route, obj

REASONS = {Outcome.CREDIT_LIMIT_REACHED: "Insufficient balance", Outcome.SERVICE_DENIED: "Service denied",
           Outcome.RATING_FAILED: "Rating failed", Outcome.USER_UNKNOWN: "Unknown subscriber"}


def _imsi(value: str, where: str) -> str:
    if not re.fullmatch(r"[0-9]{5,15}", value):
        raise ApiError(400, f"{where}: imsi must be 5 to 15 digits")
    return value


async def post_quota(request: web.Request) -> web.Response:
    body = need_object(await read_json(request))
    check_fields(body, ("imsi", "mb"), required=("imsi", "mb"))
    imsi = _imsi(need_str(body, "imsi", "body", 15), "body")
    mb = body["mb"]
    if isinstance(mb, bool) or not isinstance(mb, int) or not 0 < mb <= 10_000_000:
        raise ApiError(400, "body.mb must be a positive integer (megabytes)")
    app = request.app
    size = app[CFG].rest.quota_mb_octets
    now = int(app[CLOCK]())
    sid = f"quota:{uuid.uuid4().hex}"
    req = ChargeRequest(imsi, sid, Action.DEBIT, (UsageItem(Unit.OCTETS, requested=mb * size),), f"{sid}:0",
                        service="data", now=now)
    result = protocol.result_from_wire(await ledger_call(app[CHARGING], "quota_debit",
                                                         protocol.request_to_wire(req)))
    log_charge(req, result, "quota", "event")
    balance = int(result.balance.get(Unit.OCTETS.value, 0)) // size
    if result.outcome is Outcome.SUCCESS:
        metrics.inc("rest.quota.approved")
        return reply({"approved": True, "balance": balance})
    metrics.inc("rest.quota.rejected")
    answer = {"approved": False, "reason": REASONS.get(result.outcome, "Rejected"), "balance": balance}
    return reply(answer, 404 if result.outcome is Outcome.USER_UNKNOWN else 200)


async def get_balance(request: web.Request) -> web.Response:
    imsi = _imsi(request.match_info["imsi"], "path")
    app = request.app
    now = int(app[CLOCK]())

    def read(ledger: Ledger) -> Any:
        bal = book.balance(ledger, imsi, now)
        return bal, (ledger.get_doc(USAGE_DOC, bal.product_id) or {}) if bal else {}

    bal, usage = await app[STORE].atransact(read)
    if bal is None:
        raise ApiError(404, f"subscriber {imsi} not found", "unknown_subscriber")
    cfg = app[CFG]
    octets = int(bal.totals.get(Unit.OCTETS.value, 0))
    money = int(bal.totals.get(Unit.MONEY.value, 0))
    # balance: whole MB of data buckets (the quota API's unit); money is shown beside it, not in it
    return reply({"imsi": imsi, "balance": octets // cfg.rest.quota_mb_octets, "octets": octets,
                  "money": {"amount": money, "currency": cfg.money.currency, "scale": cfg.money.scale},
                  "updated": iso(usage.get("updated")), "last_used": iso(usage.get("last_used"))})


async def health(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(request.app[STORE].atransact(lambda l: None), 5)
    except (TimeoutError, Exception):  # any store failure means "not healthy"
        return reply({"status": "unavailable"}, 503)
    return reply({"status": "ok"})


def routes() -> list[Route]:
    return [
        Route("POST", "/quota", post_quota, "charge", "quota authorization (debit mb megabytes)", "quota",
              body=obj({"imsi": STR, "mb": INT}, ("imsi", "mb")),
              responses={200: "approved or rejected", 400: "bad input", 404: "unknown subscriber"}),
        Route("GET", "/balance/{imsi}", get_balance, "read", "data left in MB and octets, money, last use", "quota",
              responses={200: "balance", 404: "unknown subscriber"}),
        Route("GET", "/health", health, None, "liveness (no authentication)", "quota",
              responses={200: "healthy", 503: "store not answering"}),
    ]

