"""Nrf rating API (the SBI-style Re interface of a Rating Function, after TS 32.291 Nchf shapes).

``POST /nrf-rating/v1/ratingdata`` creates a rating session (201, ``Location`` names the
``ratingDataRef``), ``POST .../{ref}/update`` and ``.../{ref}/release`` continue and end it;
``oneTimeEvent: true`` is event rating (IEC/PEC -> DIRECT_DEBITING, all or nothing).  Each
``serviceRating`` becomes one core usage item: ``requestedUnit`` the reservation wanted
(RESERVE), ``consumedUnit`` what was used (DEBIT); the unit comes from the key (``totalVolume``
octets, ``time`` seconds, ``serviceSpecificUnit`` messages) or the serviceContextId (TS 32.299
§7.1.9: 32251 PS data, 32260 IMS voice, 32274 SMS).  The core does the same START / UPDATE /
STOP / DEBIT it does for Ro; ``invocationSequenceNumber`` makes a retransmission idempotent.
The entries of one rating group and unit become ONE usage item (the used units of its DEBIT
entries, the requested units of its RESERVE entries): the core settles the usage before it
reserves again, so ``[RESERVE, DEBIT]`` and ``[DEBIT, RESERVE]`` give the same result.
Answers carry ``grantedUnit``, ``price`` (money charged, decimal) and ``resultCode`` per item;
a request whose every item failed is 403 (``QUOTA_LIMIT_REACHED``, ``END_USER_SERVICE_DENIED``,
``RATING_FAILED``), an unknown subscriber 404 ``USER_UNKNOWN`` (TS 29.501 ProblemDetails).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..ledger import protocol
from ..ocs.rating import Action, ChargeRequest, ChargeResult, Outcome, UsageItem
from ..ocs.units import Unit
from ..telemetry import metrics
from .charges import SESSION_DOC, rate_in  # noqa: F401  (also named from here)
from .http import (
    ApiError,
    as_int,
    check_fields,
    get_bool,
    get_list,
    get_obj,
    get_str,
    iso,
    money_text,
    need_object,
    read_json,
    reply,
)
from .routes import BOOL, CFG, CHARGING, CLOCK, INT, OBJ, STORE, STR, Route, arr, obj

BASE = "/nrf-rating/v1/ratingdata"
UNIT_KEYS = {"totalVolume": Unit.OCTETS, "uplinkVolume": Unit.OCTETS, "downlinkVolume": Unit.OCTETS,
             "time": Unit.SECONDS, "serviceSpecificUnit": Unit.MESSAGES}
CONTEXTS = {"32251": ("data", Unit.OCTETS), "32260": ("voice", Unit.SECONDS), "32274": ("sms", Unit.MESSAGES),
            "32270": ("sms", Unit.MESSAGES), "32255": ("data", Unit.OCTETS)}
RESULT_CODES = {Outcome.SUCCESS: "SUCCESS", Outcome.CREDIT_LIMIT_REACHED: "QUOTA_LIMIT_REACHED",
                Outcome.RATING_FAILED: "RATING_FAILED", Outcome.SERVICE_DENIED: "END_USER_SERVICE_DENIED",
                Outcome.USER_UNKNOWN: "USER_UNKNOWN"}
REQUEST_FIELDS = ("invocationTimeStamp", "invocationSequenceNumber", "subscriptionId", "oneTimeEvent",
                  "oneTimeEventType", "serviceRating", "nfConsumerIdentification", "nodeFunctionality")
RATING_FIELDS = ("serviceContextId", "serviceId", "ratingGroup", "destinationId", "originationId",
                 "requestedUnit", "consumedUnit", "requestSubType", "uPFID", "serviceInformation")


@dataclass(frozen=True, slots=True)
class _Echo:
    """One serviceRating of the request: what it echoes, the usage item it went into, its part."""

    doc: dict[str, Any]
    item: int                  # index of its usage item in the core request
    reports: bool              # carries consumedUnit (the DEBIT part)
    asks: bool                 # wants a grant (the RESERVE part)


def _merged(requested: int | None, more: int | None) -> int | None:
    if requested is None:
        return more
    return requested if more is None else requested + more


def _units(doc: dict[str, Any] | None, where: str) -> tuple[Unit | None, int | None]:
    if doc is None:
        return None, None
    check_fields(doc, tuple(UNIT_KEYS), where)
    unit: Unit | None = None
    total = 0
    for key, value in doc.items():
        u = UNIT_KEYS[key]
        if unit is not None and u is not unit:
            raise ApiError(400, f"{where}: one unit kind per service rating")
        unit = u
        total += as_int(value, f"{where}.{key}", 0)
    return unit, (total if unit is not None else 0)


def _subscriber(ids: list[Any]) -> str | None:
    for i, value in enumerate(ids):
        if not isinstance(value, str) or len(value) > 256:
            raise ApiError(400, f"subscriptionId[{i}] must be a string like imsi-001010123456789")
    for prefix in ("imsi-", "msisdn-", "nai-", "extid-", ""):
        for value in ids:
            if prefix and value.startswith(prefix):
                return value[len(prefix):]
            if not prefix and "-" not in value:
                return value
    return None


def parse(body: Any, session: str, stored: dict[str, Any] | None, now: int,
          phase: str) -> tuple[ChargeRequest, list[_Echo], dict[str, Any]]:
    """A ratingdata request -> (core request, the echo of each serviceRating, the request's header)."""
    body = need_object(body)
    check_fields(body, REQUEST_FIELDS)
    seq = as_int(body.get("invocationSequenceNumber", 0), "body.invocationSequenceNumber", 0, (1 << 32) - 1)
    get_str(body, "invocationTimeStamp")
    get_obj(body, "nfConsumerIdentification")
    ids = get_list(body, "subscriptionId", "body", 8)
    subscriber = _subscriber(ids) if ids else (stored or {}).get("subscriber")
    if not subscriber:
        raise ApiError(400, "body.subscriptionId is required (e.g. [\"imsi-001010123456789\"])")
    event = bool(get_bool(body, "oneTimeEvent"))
    event_type = get_str(body, "oneTimeEventType")
    if event_type is not None and event_type not in ("IEC", "PEC"):
        raise ApiError(400, "body.oneTimeEventType must be IEC or PEC")
    if event and phase != "create":
        raise ApiError(400, "a oneTimeEvent is rated by create only")
    items: list[UsageItem] = []
    echoes: list[_Echo] = []
    slots: dict[tuple[int | None, Unit], int] = {}      # (rating group, unit) -> its usage item
    service: str | None = None
    destination: str | None = None
    ratings = get_list(body, "serviceRating", "body", 64)
    if not ratings and phase != "release":
        raise ApiError(400, "body.serviceRating is required (one or more)")
    for i, sr in enumerate(ratings):
        where = f"body.serviceRating[{i}]"
        sr = need_object(sr, where)
        check_fields(sr, RATING_FIELDS, where)
        ctx_id = get_str(sr, "serviceContextId", where) or ""
        svc, default_unit = CONTEXTS.get(ctx_id.split("@")[0].split(".")[-1], (None, Unit.OCTETS))
        service = service or svc
        sub_type = get_str(sr, "requestSubType", where)
        if sub_type is not None and sub_type not in ("RESERVE", "DEBIT", "RELEASE"):
            raise ApiError(400, f"{where}.requestSubType must be RESERVE, DEBIT or RELEASE")
        req_unit, requested = _units(get_obj(sr, "requestedUnit", where), f"{where}.requestedUnit")
        used_unit, used = _units(get_obj(sr, "consumedUnit", where), f"{where}.consumedUnit")
        if req_unit and used_unit and req_unit is not used_unit:
            raise ApiError(400, f"{where}: requestedUnit and consumedUnit count different units")
        unit = req_unit or used_unit or default_unit
        if sub_type == "RESERVE" and requested is None:
            requested = 0  # the OCS chooses (configured minimum)
        if sub_type in ("DEBIT", "RELEASE") or phase == "release":
            requested = None
        if event:
            requested, used = (used if used is not None else requested) or 0, 0
        for j, dest in enumerate(get_list(sr, "destinationId", where, 4)):
            dest = need_object(dest, f"{where}.destinationId[{j}]")
            check_fields(dest, ("destinationIdType", "destinationIdData"), f"{where}.destinationId[{j}]")
            destination = destination or get_str(dest, "destinationIdData", f"{where}.destinationId[{j}]")
        rg = as_int(sr["ratingGroup"], f"{where}.ratingGroup", 0, (1 << 32) - 1) if "ratingGroup" in sr else None
        sid = as_int(sr["serviceId"], f"{where}.serviceId", 0, (1 << 32) - 1) if "serviceId" in sr else None
        echo: dict[str, Any] = {k: sr[k] for k in ("serviceContextId", "serviceId", "ratingGroup") if k in sr}
        at = None if event else slots.get((rg, unit))
        if at is None:
            at = len(items)
            items.append(UsageItem(unit, requested, used or 0, rg, sid))
            if not event:
                slots[(rg, unit)] = at
        else:                      # one more entry of the rating group: debit and reserve as one item
            prev = items[at]
            items[at] = UsageItem(unit, _merged(prev.requested, requested), prev.used + (used or 0), rg,
                                  prev.service_identifier if prev.service_identifier is not None else sid)
        echoes.append(_Echo(echo, at, used_unit is not None or event, requested is not None))
    action = {"create": Action.START, "update": Action.UPDATE, "release": Action.STOP}[phase]
    if event:
        action = Action.DEBIT
    if stored:
        service = service or stored.get("service")
    # idempotency only when the client numbers its requests: without a number every request is new
    key = f"nrf:{session}:{phase}:{seq}" if "invocationSequenceNumber" in body else None
    request = ChargeRequest(subscriber, session, action, tuple(items), key, service, destination, None, now)
    header = {"invocationSequenceNumber": seq, "subscriptionId": ids or stored.get("subscriptionId", [])
              if stored else ids}
    return request, echoes, header


def answer(result: ChargeResult, request: ChargeRequest, echoes: list[_Echo],
           header: dict[str, Any], scale: int) -> dict[str, Any]:
    """One answer entry per request entry: the grant on the RESERVE part, the usage and its price on
    the (first) DEBIT part of its usage item."""
    ratings = []
    granted_shown: set[int] = set()
    used_shown: set[int] = set()
    reporting = {e.item for e in echoes if e.reports}
    for echo in echoes:
        if echo.item >= len(result.items):
            continue
        item, res = request.items[echo.item], result.items[echo.item]
        key = {Unit.OCTETS: "totalVolume", Unit.SECONDS: "time", Unit.MESSAGES: "serviceSpecificUnit"}.get(
            item.unit, "serviceSpecificUnit")
        out = dict(echo.doc)
        if echo.asks and echo.item not in granted_shown:
            granted_shown.add(echo.item)
            if res.granted:
                out["grantedUnit"] = {key: res.granted}
                out["validityTime"] = res.validity
                if res.final:
                    out["finalUnitIndication"] = {"finalUnitAction": "TERMINATE"}
        usage_part = echo.reports or echo.item not in reporting
        if usage_part and echo.item not in used_shown:
            used_shown.add(echo.item)
            if res.debited:
                out["consumedUnit"] = {key: res.debited}
            out["price"] = money_text(res.charged, scale)
        else:
            out["price"] = money_text(0, scale)
        outcome = res.outcome
        if not echo.asks and outcome is Outcome.CREDIT_LIMIT_REACHED:
            outcome = Outcome.SUCCESS            # the usage is accounted; the refusal is the new grant's
        out["resultCode"] = RESULT_CODES.get(outcome, "RATING_FAILED")
        ratings.append(out)
    return {"invocationTimeStamp": iso(time.time()), **header, "serviceRating": ratings}


async def _rate(request: web.Request, phase: str, ref: str) -> web.Response:
    body = await read_json(request, optional=(phase == "release"))
    if body is None:
        body = {}
    app = request.app
    now = int(app[CLOCK]())
    store = app[STORE]
    charging = app[CHARGING]
    stored = None
    if phase != "create":
        stored = await store.atransact(lambda l: l.get_doc(SESSION_DOC, ref))
        if stored is None:
            raise ApiError(404, f"rating session {ref!r} not found (released or never created)",
                           "RATING_DATA_REF_UNKNOWN")
    core_req, echoes, header = parse(body, ref, stored, now, phase)
    if phase == "release" and not core_req.items and stored:
        core_req = ChargeRequest(core_req.subscriber, ref, Action.STOP, (), core_req.request_key,
                                 core_req.service, None, None, now)

    if core_req.request_key is None:      # unnumbered: a new request, but a resend to the ledger is known
        core_req = ChargeRequest(core_req.subscriber, core_req.session_id, core_req.action, core_req.items,
                                 f"nrf:{ref}:{uuid.uuid4().hex}", core_req.service, core_req.destination,
                                 core_req.vplmn, core_req.now)
    from .resources import ledger_call
    result = protocol.result_from_wire(await ledger_call(
        charging, "nrf_rate", protocol.request_to_wire(core_req), header["subscriptionId"],
        (stored or {}).get("created", now)))
    log_charge(core_req, result, "nrf", "event" if core_req.action is Action.DEBIT else
               {"create": "initial", "update": "update", "release": "termination"}[phase])
    metrics.inc(f"rest.nrf.{phase}")
    scale = app[CFG].money.scale
    body_out = answer(result, core_req, echoes, header, scale)
    if result.outcome is Outcome.USER_UNKNOWN:
        return _problem(404, "USER_UNKNOWN", f"no subscriber {core_req.subscriber!r}")
    if result.outcome is not Outcome.SUCCESS and core_req.items:
        cause = RESULT_CODES.get(result.outcome, "RATING_FAILED")
        return _problem(403, cause, "no service rating could be granted", body_out["serviceRating"])
    if phase == "create" and core_req.action is not Action.DEBIT:
        return reply(body_out, 201, {"Location": f"{BASE}/{ref}"})
    return reply(body_out)


def _problem(status: int, cause: str, detail: str, ratings: list[Any] | None = None) -> web.Response:
    doc: dict[str, Any] = {"title": cause.replace("_", " ").title(), "status": status, "cause": cause,
                           "detail": detail, "code": cause, "reason": detail}
    if ratings is not None:
        doc["serviceRating"] = ratings
    return reply(doc, status, content_type="application/problem+json")


def log_charge(req: ChargeRequest, result: ChargeResult, app: str, request_type: str) -> None:
    """One accounting transaction-log record (appliance.logs, docs/logs.md) per charging request."""
    try:
        from ..logs import translog
    except ImportError:  # the logs package is optional
        return
    if not translog.enabled():
        return
    translog.acct({"protocol": "http", "app": app, "type": app, "request_type": request_type,
                   **translog.charge_fields(req, result), "duplicate": result.duplicate})


async def create(request: web.Request) -> web.Response:
    return await _rate(request, "create", uuid.uuid4().hex)


async def update(request: web.Request) -> web.Response:
    return await _rate(request, "update", request.match_info["ref"])


async def release(request: web.Request) -> web.Response:
    return await _rate(request, "release", request.match_info["ref"])


_UNIT = obj({"totalVolume": INT, "uplinkVolume": INT, "downlinkVolume": INT, "time": INT,
             "serviceSpecificUnit": INT})
_RATING = obj({"serviceContextId": STR, "serviceId": INT, "ratingGroup": INT,
               "destinationId": arr(obj({"destinationIdType": STR, "destinationIdData": STR})),
               "originationId": arr(OBJ), "requestedUnit": _UNIT, "consumedUnit": _UNIT,
               "requestSubType": {"enum": ["RESERVE", "DEBIT", "RELEASE"]}, "uPFID": STR,
               "serviceInformation": OBJ})
BODY = obj({"invocationTimeStamp": STR, "invocationSequenceNumber": INT, "subscriptionId": arr(STR),
            "oneTimeEvent": BOOL, "oneTimeEventType": {"enum": ["IEC", "PEC"]}, "serviceRating": arr(_RATING),
            "nfConsumerIdentification": OBJ, "nodeFunctionality": STR})


def routes() -> list[Route]:
    return [
        Route("POST", BASE, create, "charge", "create a rating session or rate an event", "nrf", body=BODY,
              responses={200: "event rated", 201: "session created", 403: "not granted", 404: "unknown user"}),
        Route("POST", f"{BASE}/{{ref}}/update", update, "charge", "update a rating session", "nrf", body=BODY,
              responses={200: "rated", 403: "not granted", 404: "unknown session"}),
        Route("POST", f"{BASE}/{{ref}}/release", release, "charge", "release a rating session", "nrf",
              body=BODY, body_optional=True, responses={200: "released", 404: "unknown session"}),
    ]
