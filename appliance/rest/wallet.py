"""Wallet session API (seeds/wallet-rating-walkthrough.txt) on the core.

A wallet is a core product + service with the same id (offer ``wallet``, no prices); its buckets
are core buckets (``microcents`` = money minor units, ``bytes`` = octets, ``seconds``).  A session
is a core reservation (START, exact amounts, all or nothing: 402) committed by STOP with
``rating_used`` (no body: what was reserved); ``debit`` is an event DIRECT_DEBITING (402
"Insufficient Funds"); ``enquire`` reads the balance (``funds_available``), adding what other
units buy through ``rating_context.unit_conversion_ratios``.  Services run a lifecycle whose
state actions are parsed by :mod:`.lifecycle` (never evaluated) and executed in ONE transaction.

Every change of a wallet (its creation and deletion, its buckets, sessions, debits and
subscriptions) is a transaction function of :mod:`appliance.rest.wallet_book`, run as a named
operation of the ledger (the one door; :mod:`appliance.rest.ledger_ops`): by the ledger role when
one runs, else in this process.  The charging requests an operation made come back with its answer
(or with its refusal, rolled back: :class:`~appliance.rest.wallet_book.Refused`) and are logged
here once the transaction's fate is known.  Reads stay on the local store.
"""
from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from ..ledger import protocol
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, ChargeResult, Outcome
from ..ocs.units import Unit
from ..telemetry import metrics
from .http import (
    ApiError,
    as_int,
    body_to_wire,
    check_fields,
    get_bool,
    get_list,
    get_obj,
    get_str,
    need_object,
    need_str,
    plain,
    read_json,
    reply,
)
from .lifecycle import ActionError, parse_action
from .nrf import log_charge
from .resources import ledger_call
from .routes import BOOL, CHARGING, CLOCK, INT, OBJ, STORE, STR, Route, arr, obj
from .wallet_book import (
    LIFECYCLE_DOC,
    NAMES,
    SERVICE_DOC,
    Wanted,
    need_wallet,
    rating,
    unit_of,
    valid_id,
    wallet_view,
)

# --- resources ---------------------------------------------------------------------------------

async def create_wallet(request: web.Request) -> web.Response:
    body = need_object(await read_json(request))
    check_fields(body, ("id",), required=("id",))
    wallet = valid_id(need_str(body, "id", max_len=128), "body.id")
    now = int(request.app[CLOCK]())
    return reply(await _ledger(request, "wallet_create", now, wallet), 201)


async def get_wallet(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    now = int(request.app[CLOCK]())
    return reply([await request.app[STORE].atransact(lambda l: wallet_view(l, wallet, now))])


async def delete_wallet(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    now = int(request.app[CLOCK]())
    await _ledger(request, "wallet_delete", now, wallet)
    return web.Response(status=204)


async def add_bucket(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = await read_json(request)
    now = int(request.app[CLOCK]())
    return reply(await _ledger(request, "wallet_add_bucket", now, wallet, body_to_wire(body)), 201)


async def delete_bucket(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    ident = request.match_info["bucket"]
    now = int(request.app[CLOCK]())
    await _ledger(request, "wallet_delete_bucket", now, wallet, ident)
    return web.Response(status=204)


# --- lifecycles and services -------------------------------------------------------------------

LIFECYCLE_FIELDS = ("id", "name", "description", "active", "lifecycleclass", "initial_state")


async def create_lifecycle(request: web.Request) -> web.Response:
    body = need_object(await read_json(request))
    check_fields(body, LIFECYCLE_FIELDS, required=("id",))
    ident = valid_id(need_str(body, "id", max_len=128), "body.id")
    for key in ("name", "description", "lifecycleclass", "initial_state"):
        get_str(body, key, max_len=1024)
    get_bool(body, "active")
    doc = {**plain(body), "states": {}}

    def create(ledger: Ledger) -> dict[str, Any]:
        if ledger.get_doc(LIFECYCLE_DOC, ident):
            raise ApiError(409, f"lifecycle {ident!r} exists")
        ledger.put_doc(LIFECYCLE_DOC, ident, doc)
        return doc

    return reply(await request.app[STORE].atransact(create), 201)


async def update_lifecycle(request: web.Request) -> web.Response:
    ident = request.match_info["lifecycle"]
    body = need_object(await read_json(request))
    check_fields(body, LIFECYCLE_FIELDS)
    if "id" in body and body["id"] != ident:
        raise ApiError(400, "body.id must match the path")
    for key in ("name", "description", "lifecycleclass", "initial_state"):
        get_str(body, key, max_len=1024)
    get_bool(body, "active")

    def update(ledger: Ledger) -> dict[str, Any]:
        doc = ledger.get_doc(LIFECYCLE_DOC, ident)
        if doc is None:
            raise ApiError(404, f"lifecycle {ident!r} not found")
        doc = {**doc, **plain(body)}
        ledger.put_doc(LIFECYCLE_DOC, ident, doc)
        return doc

    return reply(await request.app[STORE].atransact(update))


async def get_lifecycle(request: web.Request) -> web.Response:
    ident = request.match_info["lifecycle"]
    doc = await request.app[STORE].atransact(lambda l: l.get_doc(LIFECYCLE_DOC, ident))
    if doc is None:
        raise ApiError(404, f"lifecycle {ident!r} not found")
    return reply(doc)


async def add_state(request: web.Request) -> web.Response:
    ident = request.match_info["lifecycle"]
    body = need_object(await read_json(request))
    check_fields(body, ("id", "name", "description", "action"), required=("id", "name"))
    sid = valid_id(need_str(body, "id", max_len=128), "body.id")
    need_str(body, "name", max_len=128)
    get_str(body, "description", max_len=1024)
    try:
        parse_action(get_str(body, "action", max_len=4096) or "")
    except ActionError as exc:
        raise ApiError(400, f"body.action: {exc}") from None
    state = {**body, "transitions": {}}

    def add(ledger: Ledger) -> dict[str, Any]:
        doc = ledger.get_doc(LIFECYCLE_DOC, ident)
        if doc is None:
            raise ApiError(404, f"lifecycle {ident!r} not found")
        if sid in doc["states"]:
            raise ApiError(409, f"state {sid!r} exists")
        doc["states"][sid] = state
        ledger.put_doc(LIFECYCLE_DOC, ident, doc)
        return state

    return reply(await request.app[STORE].atransact(add), 201)


async def add_transition(request: web.Request) -> web.Response:
    ident, sid = request.match_info["lifecycle"], request.match_info["state"]
    body = need_object(await read_json(request))
    check_fields(body, ("event", "to_state"), required=("event", "to_state"))
    event = need_str(body, "event", max_len=64)
    to_state = need_str(body, "to_state", max_len=128)

    def add(ledger: Ledger) -> dict[str, Any]:
        doc = ledger.get_doc(LIFECYCLE_DOC, ident)
        if doc is None or sid not in doc["states"]:
            raise ApiError(404, f"state {sid!r} of lifecycle {ident!r} not found")
        doc["states"][sid]["transitions"][event] = to_state
        ledger.put_doc(LIFECYCLE_DOC, ident, doc)
        return {"event": event, "to_state": to_state}

    return reply(await request.app[STORE].atransact(add), 201)


SERVICE_FIELDS = ("id", "name", "description", "active", "lifecycle", "serviceclass", "properties", "cardinality")


async def create_service(request: web.Request) -> web.Response:
    body = need_object(await read_json(request))
    check_fields(body, SERVICE_FIELDS, required=("id", "lifecycle"))
    ident = valid_id(need_str(body, "id", max_len=128), "body.id")
    lifecycle = need_str(body, "lifecycle", max_len=128)
    for key in ("name", "description", "serviceclass"):
        get_str(body, key, max_len=1024)
    get_bool(body, "active")
    get_obj(body, "properties")
    if body.get("cardinality") is not None:
        as_int(body["cardinality"], "body.cardinality", 1, 1_000_000)
    doc = plain(body)

    def create(ledger: Ledger) -> dict[str, Any]:
        if ledger.get_doc(LIFECYCLE_DOC, lifecycle) is None:
            raise ApiError(422, f"lifecycle {lifecycle!r} does not exist")
        if ledger.get_doc(SERVICE_DOC, ident):
            raise ApiError(409, f"service {ident!r} exists")
        ledger.put_doc(SERVICE_DOC, ident, doc)
        return doc

    return reply(await request.app[STORE].atransact(create), 201)


async def get_service(request: web.Request) -> web.Response:
    ident = request.match_info["service"]
    doc = await request.app[STORE].atransact(lambda l: l.get_doc(SERVICE_DOC, ident))
    if doc is None:
        raise ApiError(404, f"service {ident!r} not found")
    return reply(doc)


# --- engine ------------------------------------------------------------------------------------


async def _ledger(request: web.Request, name: str, *args: Any) -> Any:
    """The wallet's ledger operation ``name`` (:mod:`appliance.rest.ledger_ops`), keyed afresh: a
    resend after a lost connection is answered, not applied twice.  A refusal keeps its status and
    reason; the charges it rolled back (:class:`Refused`) are logged here as not charged."""
    try:
        return await ledger_call(request.app[CHARGING], name, uuid.uuid4().hex, *args)
    except ApiError as exc:
        if exc.detail:    # rolled back: nothing of it was charged
            failed = ChargeResult(Outcome.CREDIT_LIMIT_REACHED if exc.status == 402 else Outcome.RATING_FAILED)
            for wire in exc.detail:
                req = protocol.request_from_wire(wire)
                log_charge(req, failed, "wallet", _request_type(req))
        raise


async def _ledger_logged(request: web.Request, name: str, *args: Any) -> Any:
    """A wallet operation that charges: its charging requests are logged once the transaction's
    fate is known (a refusal: each as not charged)."""
    answer, journal = await _ledger(request, name, *args)
    for req_wire, result_wire in journal:
        req = protocol.request_from_wire(req_wire)
        log_charge(req, protocol.result_from_wire(result_wire), "wallet", _request_type(req))
    return answer


def _request_type(req: ChargeRequest) -> str:
    return {Action.START: "initial", Action.STOP: "termination"}.get(req.action, "event")


def _plain(amounts: Wanted) -> list[tuple[str, int]]:
    return [(u.value, v) for u, v in amounts]


async def open_session(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("id", "rating_requested", "rating_context"), required=("rating_requested",))
    sid = valid_id(get_str(body, "id", max_len=128) or uuid.uuid4().hex, "body.id")
    wanted = rating(get_list(body, "rating_requested", max_items=8), "body.rating_requested")
    now = int(request.app[CLOCK]())
    out = await _ledger_logged(request, "wallet_reserve", now, wallet, sid, _plain(wanted))
    metrics.inc("rest.wallet.sessions")
    return reply(out, 201)


async def commit_session(request: web.Request) -> web.Response:
    wallet, sid = request.match_info["wallet"], request.match_info["session"]
    body = await read_json(request, optional=True) or {}
    body = need_object(body)
    check_fields(body, ("id", "rating_used", "rating_context"))
    used = rating(get_list(body, "rating_used", max_items=8), "body.rating_used") if "rating_used" in body else None
    now = int(request.app[CLOCK]())
    return reply(await _ledger_logged(request, "wallet_commit", now, wallet, sid,
                                      None if used is None else _plain(used)))


async def enquire(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("rating_requested", "rating_context"), required=("rating_requested",))
    wanted = rating(get_list(body, "rating_requested", max_items=8), "body.rating_requested")
    ratios = conversion_ratios(get_obj(body, "rating_context"))
    now = int(request.app[CLOCK]())

    def read(ledger: Ledger) -> dict[Unit, int]:
        need_wallet(ledger, wallet)
        totals: dict[Unit, int] = {}
        for b in ledger.buckets(wallet):
            if b.usable(now):
                totals[b.unit] = totals.get(b.unit, 0) + max(b.remaining, 0)
        return totals

    totals = await request.app[STORE].atransact(read)
    funds = []
    for unit, _value in wanted:
        value = totals.get(unit, 0)
        for src, dst, src_count, dst_count in ratios:
            if src is unit and dst is not unit:
                value += totals.get(dst, 0) // dst_count * src_count
        funds.append({"unit": NAMES[unit], "value": value})
    return reply({"funds_available": funds})


def conversion_ratios(context: dict[str, Any] | None) -> list[tuple[Unit, Unit, int, int]]:
    if context is None:
        return []
    check_fields(context, ("unit_conversion_ratios",), "body.rating_context")
    out = []
    for i, r in enumerate(get_list(context, "unit_conversion_ratios", "body.rating_context", 16)):
        where = f"body.rating_context.unit_conversion_ratios[{i}]"
        r = need_object(r, where)
        check_fields(r, ("from_unit", "to_unit", "from_unit_count", "to_unit_count"), where,
                     required=("from_unit", "to_unit", "from_unit_count", "to_unit_count"))
        out.append((unit_of(r["from_unit"], where), unit_of(r["to_unit"], where),
                    as_int(r["from_unit_count"], f"{where}.from_unit_count", 1),
                    as_int(r["to_unit_count"], f"{where}.to_unit_count", 1)))
    return out


async def debit(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("id", "rating_requested", "rating_context"), required=("rating_requested",))
    wanted = rating(get_list(body, "rating_requested", max_items=8), "body.rating_requested")
    now = int(request.app[CLOCK]())
    return reply(await _ledger_logged(request, "wallet_debit", now, wallet, _plain(wanted)))


async def subscribe(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("service",), required=("service",))
    service_id = need_str(body, "service", max_len=128)
    now = int(request.app[CLOCK]())
    out = await _ledger_logged(request, "wallet_subscribe", now, wallet, service_id)
    metrics.inc("rest.wallet.subscriptions")
    return reply(out, 201)


# --- routes ------------------------------------------------------------------------------------

_RATING = arr(obj({"unit": STR, "value": INT}, ("unit", "value")))
_RATIOS = obj({"unit_conversion_ratios": arr(obj({"from_unit": STR, "to_unit": STR, "from_unit_count": INT,
                                                  "to_unit_count": INT}))})


def routes() -> list[Route]:
    w = "/resource/wallet/{wallet}"
    e = "/engine/wallet/{wallet}"
    lc = "/resource/lifecycle/{lifecycle}"
    return [
        Route("POST", "/resource/wallet", create_wallet, "write", "create a wallet", "wallet",
              body=obj({"id": STR}, ("id",)), responses={201: "created", 409: "exists"}),
        Route("GET", w, get_wallet, "read", "a wallet with buckets, reservations and sessions", "wallet",
              responses={200: "wallet (in a list)", 404: "unknown"}),
        Route("DELETE", w, delete_wallet, "write", "delete a wallet", "wallet",
              responses={204: "deleted", 404: "unknown", 409: "open sessions"}),
        Route("POST", f"{w}/bucket", add_bucket, "write", "add a bucket", "wallet",
              body=obj({"value": INT, "unit": STR, "expiry": {}}, ("value", "unit")),
              responses={201: "bucket", 404: "unknown wallet"}),
        Route("DELETE", f"{w}/bucket/{{bucket}}", delete_bucket, "write", "delete a bucket", "wallet",
              responses={204: "deleted", 404: "unknown"}),
        Route("POST", "/resource/lifecycle", create_lifecycle, "write", "create a lifecycle", "wallet",
              body=obj({"id": STR, "name": STR, "description": STR, "active": BOOL, "lifecycleclass": STR,
                        "initial_state": STR}, ("id",)), responses={201: "created", 409: "exists"}),
        Route("GET", lc, get_lifecycle, "read", "a lifecycle", "wallet", responses={200: "lifecycle", 404: "unknown"}),
        Route("PUT", lc, update_lifecycle, "write", "update lifecycle attributes (e.g. initial_state)", "wallet",
              body=obj({"id": STR, "name": STR, "description": STR, "active": BOOL, "lifecycleclass": STR,
                        "initial_state": STR}), responses={200: "updated", 404: "unknown"}),
        Route("POST", f"{lc}/state", add_state, "write", "add a state (action: the safe operation set)", "wallet",
              body=obj({"id": STR, "name": STR, "description": STR, "action": STR}, ("id", "name")),
              responses={201: "created", 400: "unsupported action", 404: "unknown lifecycle"}),
        Route("POST", f"{lc}/state/{{state}}/transition", add_transition, "write", "add a transition", "wallet",
              body=obj({"event": STR, "to_state": STR}, ("event", "to_state")),
              responses={201: "created", 404: "unknown state"}),
        Route("POST", "/resource/service", create_service, "write", "create a service", "wallet",
              body=obj({"id": STR, "name": STR, "description": STR, "active": BOOL, "lifecycle": STR,
                        "serviceclass": STR, "properties": OBJ, "cardinality": INT}, ("id", "lifecycle")),
              responses={201: "created", 409: "exists", 422: "unknown lifecycle"}),
        Route("GET", "/resource/service/{service}", get_service, "read", "a service", "wallet",
              responses={200: "service", 404: "unknown"}),
        Route("POST", f"{e}/session", open_session, "charge", "reserve for a session", "wallet",
              body=obj({"id": STR, "rating_requested": _RATING, "rating_context": _RATIOS}, ("rating_requested",)),
              responses={201: "reserved", 402: "insufficient funds", 404: "unknown wallet", 409: "session open"}),
        Route("POST", f"{e}/session/{{session}}/commit", commit_session, "charge", "commit a session", "wallet",
              body=obj({"id": STR, "rating_used": _RATING, "rating_context": _RATIOS}), body_optional=True,
              responses={200: "committed", 404: "unknown session"}),
        Route("POST", f"{e}/enquire", enquire, "charge", "funds available (with unit conversion)", "wallet",
              body=obj({"rating_requested": _RATING, "rating_context": _RATIOS}, ("rating_requested",)),
              responses={200: "funds", 404: "unknown wallet"}),
        Route("POST", f"{e}/debit", debit, "charge", "direct debit, all or nothing", "wallet",
              body=obj({"id": STR, "rating_requested": _RATING, "rating_context": _RATIOS}, ("rating_requested",)),
              responses={200: "debited", 402: "insufficient funds", 404: "unknown wallet"}),
        Route("POST", f"{e}/subscribe", subscribe, "charge", "subscribe to a service (runs its lifecycle)", "wallet",
              body=obj({"service": STR}, ("service",)),
              responses={201: "subscribed", 402: "insufficient funds", 404: "unknown", 409: "not allowed"}),
    ]
