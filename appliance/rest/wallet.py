"""Wallet session API (seeds/wallet-rating-walkthrough.txt) on the core.

A wallet is a core product + service with the same id (offer ``wallet``, no prices); its buckets
are core buckets (``microcents`` = money minor units, ``bytes`` = octets, ``seconds``).  A session
is a core reservation (START, exact amounts, all or nothing: 402) committed by STOP with
``rating_used`` (no body: what was reserved); ``debit`` is an event DIRECT_DEBITING (402
"Insufficient Funds"); ``enquire`` reads the balance (``funds_available``), adding what other
units buy through ``rating_context.unit_conversion_ratios``.  Services run a lifecycle whose
state actions are parsed by :mod:`.lifecycle` (never evaluated) and executed in ONE transaction.

Every change of a wallet (its creation and deletion, its buckets, sessions, debits and
subscriptions) is a transaction function here, run as a named operation of the ledger (the one
door; :mod:`appliance.rest.ledger_ops`): by the ledger role when one runs, else in this process.
The charging requests an operation made come back with its answer (or with its refusal, rolled
back) and are logged here once the transaction's fate is known.  Reads stay on the local store.
"""
from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from .. import metrics
from ..ledger import book, protocol
from ..ocs.catalog import Offer
from ..ocs.inventory import Product, Service
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, ChargeResult, Outcome, UsageItem
from ..ocs.units import Unit
from .http import (
    MAX_SECONDS,
    ApiError,
    as_int,
    check_fields,
    get_bool,
    get_list,
    get_obj,
    get_str,
    iso,
    need_object,
    need_str,
    parse_iso,
    plain,
    read_json,
    reply,
)
from .lifecycle import ActionError, OpKind, parse_action
from .nrf import log_charge
from .resources import ledger_call
from .routes import BOOL, CHARGING, CLOCK, INT, OBJ, STORE, STR, Route, arr, obj

OFFER = "wallet"
WALLET_DOC, SESSION_DOC, LIFECYCLE_DOC, SERVICE_DOC, SUB_DOC = (
    "wallet", "wallet_session", "wallet_lifecycle", "wallet_service", "wallet_subscription")
UNITS = {"microcents": Unit.MONEY, "bytes": Unit.OCTETS, "byte": Unit.OCTETS, "octets": Unit.OCTETS,
         "seconds": Unit.SECONDS, "second": Unit.SECONDS, "messages": Unit.MESSAGES}
NAMES = {Unit.MONEY: "microcents", Unit.OCTETS: "bytes", Unit.SECONDS: "seconds", Unit.MESSAGES: "messages"}
GROUP = {Unit.MONEY: 1, Unit.OCTETS: 2, Unit.SECONDS: 3, Unit.MESSAGES: 4}
MAX_STEPS = 16


def _unit(value: Any, where: str) -> Unit:
    if not isinstance(value, str) or value.lower() not in UNITS:
        raise ApiError(400, f"{where}.unit must be one of {', '.join(sorted(set(UNITS)))}")
    return UNITS[value.lower()]


def _ident(value: str, where: str) -> str:
    if not value or len(value) > 128 or "/" in value or "|" in value:
        raise ApiError(400, f"{where}: an id is 1-128 characters without '/' or '|'")
    return value


def rating(items: list[Any], where: str) -> list[tuple[Unit, int]]:
    out: list[tuple[Unit, int]] = []
    for i, item in enumerate(items):
        item = need_object(item, f"{where}[{i}]")
        check_fields(item, ("unit", "value"), f"{where}[{i}]", required=("unit", "value"))
        out.append((_unit(item["unit"], f"{where}[{i}]"), as_int(item["value"], f"{where}[{i}].value")))
    if len({u for u, _ in out}) != len(out):
        raise ApiError(400, f"{where}: one entry per unit")
    return out


def _session_key(wallet: str, sid: str) -> str:
    return f"wallet:{wallet}:{sid}"


def _need_wallet(ledger: Ledger, wallet: str) -> dict[str, Any]:
    doc = ledger.get_doc(WALLET_DOC, wallet)
    if doc is None:
        raise ApiError(404, f"wallet {wallet!r} not found")
    return doc


def _touch(ledger: Ledger, wallet: str, now: int) -> None:
    doc = ledger.get_doc(WALLET_DOC, wallet) or {"initial_creation_timestamp": now}
    ledger.put_doc(WALLET_DOC, wallet, {**doc, "last_change_timestamp": now})


def wallet_view(ledger: Ledger, wallet: str, now: int) -> dict[str, Any]:
    audit = _need_wallet(ledger, wallet)
    held: dict[int, list[dict[str, Any]]] = {}
    prefix = f"wallet:{wallet}:"
    for res in ledger.product_reservations(wallet):
        sid = res.session_id.removeprefix(prefix)
        for hold in res.holds:
            if hold.amount:
                held.setdefault(hold.bucket_id, []).append({"value": hold.amount, "session": sid})
    buckets = []
    for b in sorted(ledger.buckets(wallet), key=lambda b: b.id):
        if b.expired(now):
            continue
        reservations = held.get(b.id, [])
        out: dict[str, Any] = {"value": b.remaining + sum(r["value"] for r in reservations), "id": str(b.id),
                               "unit": NAMES[b.unit]}
        if b.end is not None:
            out["expiry"] = iso(b.end)
        if reservations:
            out["reservations"] = reservations
        buckets.append(out)
    sessions = {d["id"]: d for _k, d in ledger.list_docs(SESSION_DOC, f"{wallet}|")}
    view: dict[str, Any] = {"audit": {"initial_creation_timestamp": iso(audit.get("initial_creation_timestamp")),
                                      "last_change_timestamp": iso(audit.get("last_change_timestamp"))},
                            "buckets": buckets, "id": wallet}
    if sessions:
        view["sessions"] = sessions
    return view


# --- resources ---------------------------------------------------------------------------------

async def create_wallet(request: web.Request) -> web.Response:
    body = need_object(await read_json(request))
    check_fields(body, ("id",), required=("id",))
    wallet = _ident(need_str(body, "id", max_len=128), "body.id")
    now = int(request.app[CLOCK]())
    return reply(await _ledger(request, "wallet_create", now, wallet), 201)


def create_in(ledger: Ledger, now: int, wallet: str) -> dict[str, Any]:
    """A new wallet: its product and service (same id) and its audit record; no buckets yet."""
    if ledger.get_doc(WALLET_DOC, wallet) or ledger.get_product(wallet) or ledger.find_service(wallet):
        raise ApiError(409, f"wallet {wallet!r} (or a product/service with that id) exists")
    if ledger.get_offer(OFFER) is None:
        ledger.put_offer(Offer(OFFER, description="wallet API: bucket units only"))
    ledger.put_product(Product(wallet, OFFER))
    ledger.put_service(Service(wallet, wallet))
    ledger.put_doc(WALLET_DOC, wallet, {"initial_creation_timestamp": now, "last_change_timestamp": now})
    return wallet_view(ledger, wallet, now)


async def get_wallet(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    now = int(request.app[CLOCK]())
    return reply([await request.app[STORE].atransact(lambda l: wallet_view(l, wallet, now))])


async def delete_wallet(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    now = int(request.app[CLOCK]())
    await _ledger(request, "wallet_delete", now, wallet)
    return web.Response(status=204)


def delete_in(ledger: Ledger, now: int, wallet: str) -> None:
    """A wallet without open sessions removed with its buckets, sessions and subscriptions."""
    _need_wallet(ledger, wallet)
    if ledger.product_reservations(wallet):
        raise ApiError(409, f"wallet {wallet!r} has open sessions")
    for b in ledger.buckets(wallet):
        book.remove_bucket(ledger, b.id, now)
    ledger.delete_service(wallet)
    ledger.delete_product(wallet)
    for kind in (SESSION_DOC, SUB_DOC):
        for key, _d in ledger.list_docs(kind, f"{wallet}|"):
            ledger.delete_doc(kind, key)
    ledger.delete_doc(WALLET_DOC, wallet)


def parse_expiry(value: Any, now: int, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_iso(value, where)
    value = need_object(value, where)
    check_fields(value, ("days", "hours", "minutes", "seconds"), where)
    seconds = sum(as_int(value.get(k, 0), f"{where}.{k}", 0, MAX_SECONDS) * m
                  for k, m in (("days", 86_400), ("hours", 3600), ("minutes", 60), ("seconds", 1)))
    if seconds > MAX_SECONDS:
        raise ApiError(400, f"{where}: at most {MAX_SECONDS // 86_400} days")
    return now + seconds


def new_bucket(ledger: Ledger, wallet: str, doc: Any, now: int, where: str) -> dict[str, Any]:
    doc = need_object(doc, where)
    check_fields(doc, ("value", "unit", "expiry"), where, required=("value", "unit"))
    unit = _unit(doc["unit"], where)
    value = as_int(doc["value"], f"{where}.value", None)
    if value < 0:
        raise ApiError(422, f"{where}.value must not be negative: a balance below zero is refused")
    end = parse_expiry(doc.get("expiry"), now, f"{where}.expiry")
    bid = book.top_up(ledger, wallet, unit, value, now, end, None, "wallet")
    out: dict[str, Any] = {"value": value, "id": str(bid), "unit": NAMES[unit]}
    if end is not None:
        out["expiry"] = iso(end)
    return out


async def add_bucket(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = await read_json(request)
    now = int(request.app[CLOCK]())
    return reply(await _ledger(request, "wallet_add_bucket", now, wallet, body), 201)


def add_bucket_in(ledger: Ledger, now: int, wallet: str, body: Any) -> dict[str, Any]:
    """A bucket of the request's body (checked here: an unknown wallet is 404 before a bad body)."""
    _need_wallet(ledger, wallet)
    out = new_bucket(ledger, wallet, body, now, "body")
    _touch(ledger, wallet, now)
    return out


async def delete_bucket(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    ident = request.match_info["bucket"]
    now = int(request.app[CLOCK]())
    await _ledger(request, "wallet_delete_bucket", now, wallet, ident)
    return web.Response(status=204)


def delete_bucket_in(ledger: Ledger, now: int, wallet: str, ident: str) -> None:
    _need_wallet(ledger, wallet)
    bucket = ledger.get_bucket(int(ident)) if ident.isdigit() and len(ident) < 18 else None
    if bucket is None or bucket.product_id != wallet:
        raise ApiError(404, f"bucket {ident!r} not found in wallet {wallet!r}")
    book.remove_bucket(ledger, bucket.id, now)
    _touch(ledger, wallet, now)


# --- lifecycles and services -------------------------------------------------------------------

LIFECYCLE_FIELDS = ("id", "name", "description", "active", "lifecycleclass", "initial_state")


async def create_lifecycle(request: web.Request) -> web.Response:
    body = need_object(await read_json(request))
    check_fields(body, LIFECYCLE_FIELDS, required=("id",))
    ident = _ident(need_str(body, "id", max_len=128), "body.id")
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
    sid = _ident(need_str(body, "id", max_len=128), "body.id")
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
    ident = _ident(need_str(body, "id", max_len=128), "body.id")
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

Journal = list[tuple[ChargeRequest, ChargeResult]]
Wanted = list[tuple[Unit, int]]


class Refused(ApiError):
    """A refusal after charges were tried in the same transaction (rolled back with it): its
    ``detail`` holds the tried requests (wire form), for the front end's charging log."""

    def __init__(self, exc: ApiError, tried: list[Any]) -> None:
        super().__init__(exc.status, exc.reason, exc.code)
        self.detail = tried


def _charge(ledger: Ledger, req: ChargeRequest, policy: Any, journal: Journal) -> ChargeResult:
    result = book.charge(ledger, req, policy)
    journal.append((req, result))
    return result


def journaled(fn: Any, ledger: Ledger, policy: Any, now: int, *args: Any) -> list[Any]:
    """``fn(ledger, journal, policy, now, *args)`` as a ledger operation's body: [its answer, the
    charges it made (wire form)], for the front end to log once the transaction's fate is known."""
    journal: Journal = []
    try:
        answer = fn(ledger, journal, policy, now, *args)
    except ApiError as exc:
        if journal:
            raise Refused(exc, [protocol.request_to_wire(req) for req, _r in journal]) from exc
        raise
    return [answer, [[protocol.request_to_wire(req), protocol.result_to_wire(res)] for req, res in journal]]


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


def _insufficient(reason: str = "Insufficient Funds") -> ApiError:
    return ApiError(402, reason, "insufficient_funds")


def _plain(amounts: Wanted) -> list[tuple[str, int]]:
    return [(u.value, v) for u, v in amounts]


def _units(amounts: Any) -> Wanted:
    return [(Unit(u), v) for u, v in amounts]


async def open_session(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("id", "rating_requested", "rating_context"), required=("rating_requested",))
    sid = _ident(get_str(body, "id", max_len=128) or uuid.uuid4().hex, "body.id")
    wanted = rating(get_list(body, "rating_requested", max_items=8), "body.rating_requested")
    now = int(request.app[CLOCK]())
    out = await _ledger_logged(request, "wallet_reserve", now, wallet, sid, _plain(wanted))
    metrics.inc("rest.wallet.sessions")
    return reply(out, 201)


def reserve_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str, sid: str,
               wanted: Any) -> dict[str, Any]:
    """A session's reservation of exactly what is wanted (all or nothing: 402) and its record."""
    wanted = _units(wanted)
    req = ChargeRequest(wallet, _session_key(wallet, sid), Action.START,
                        tuple(UsageItem(u, v, 0, GROUP[u]) for u, v in wanted), None, None, None, None, now)
    _need_wallet(ledger, wallet)
    if ledger.reservations(req.session_id):
        raise ApiError(409, f"session {sid!r} is open: commit it first")
    result = _charge(ledger, req, policy, journal)
    if result.outcome is not Outcome.SUCCESS or any(r.granted < v for r, (_u, v) in zip(result.items, wanted)):
        raise _insufficient()
    session = {"initial_creation_timestamp": iso(now), "id": sid}
    ledger.put_doc(SESSION_DOC, f"{wallet}|{sid}", session)
    _touch(ledger, wallet, now)
    return {"id": sid, "rating_granted": [{"unit": NAMES[r.unit], "value": r.granted} for r in result.items]}


async def commit_session(request: web.Request) -> web.Response:
    wallet, sid = request.match_info["wallet"], request.match_info["session"]
    body = await read_json(request, optional=True) or {}
    body = need_object(body)
    check_fields(body, ("id", "rating_used", "rating_context"))
    used = rating(get_list(body, "rating_used", max_items=8), "body.rating_used") if "rating_used" in body else None
    now = int(request.app[CLOCK]())
    return reply(await _ledger_logged(request, "wallet_commit", now, wallet, sid,
                                      None if used is None else _plain(used)))


def commit_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str, sid: str,
              used: Any) -> dict[str, Any]:
    """A session's STOP: what was used (None: what was reserved) debited, the rest released."""
    key = _session_key(wallet, sid)
    _need_wallet(ledger, wallet)
    open_res = ledger.reservations(key)
    if ledger.get_doc(SESSION_DOC, f"{wallet}|{sid}") is None:
        raise ApiError(404, f"session {sid!r} not found in wallet {wallet!r}")
    amounts = _units(used) if used is not None else [(r.unit, r.granted) for r in open_res]
    req = ChargeRequest(wallet, key, Action.STOP, tuple(UsageItem(u, None, v, GROUP[u]) for u, v in amounts),
                        None, None, None, None, now)
    result = _charge(ledger, req, policy, journal)
    ledger.delete_doc(SESSION_DOC, f"{wallet}|{sid}")
    _touch(ledger, wallet, now)
    return {"id": sid, "rating_used": [{"unit": NAMES[r.unit], "value": r.debited} for r in result.items]}


async def enquire(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("rating_requested", "rating_context"), required=("rating_requested",))
    wanted = rating(get_list(body, "rating_requested", max_items=8), "body.rating_requested")
    ratios = conversion_ratios(get_obj(body, "rating_context"))
    now = int(request.app[CLOCK]())

    def read(ledger: Ledger) -> dict[Unit, int]:
        _need_wallet(ledger, wallet)
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
        out.append((_unit(r["from_unit"], where), _unit(r["to_unit"], where),
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


def debit_wallet_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str,
                    wanted: Any) -> dict[str, Any]:
    _need_wallet(ledger, wallet)
    result = debit_in(ledger, wallet, _units(wanted), now, policy, journal)
    _touch(ledger, wallet, now)
    return {"rating_used": [{"unit": NAMES[r.unit], "value": r.debited} for r in result.items]}


def debit_in(ledger: Ledger, wallet: str, wanted: Wanted, now: int, policy: Any,
             journal: Journal) -> ChargeResult:
    """Event DIRECT_DEBITING of every entry, all or nothing (402 rolls the transaction back)."""
    req = ChargeRequest(wallet, f"wallet:{wallet}:debit:{uuid.uuid4().hex}", Action.DEBIT,
                        tuple(UsageItem(u, v, 0, GROUP[u]) for u, v in wanted), None, None, None, None, now)
    result = _charge(ledger, req, policy, journal)
    if result.outcome is not Outcome.SUCCESS or any(r.outcome is not Outcome.SUCCESS for r in result.items):
        raise _insufficient()
    return result


async def subscribe(request: web.Request) -> web.Response:
    wallet = request.match_info["wallet"]
    body = need_object(await read_json(request))
    check_fields(body, ("service",), required=("service",))
    service_id = need_str(body, "service", max_len=128)
    now = int(request.app[CLOCK]())
    out = await _ledger_logged(request, "wallet_subscribe", now, wallet, service_id)
    metrics.inc("rest.wallet.subscriptions")
    return reply(out, 201)


def subscribe_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str,
                 service_id: str) -> dict[str, Any]:
    """A subscription to a service: its lifecycle run from the initial state (debits, buckets)."""
    _need_wallet(ledger, wallet)
    service = ledger.get_doc(SERVICE_DOC, service_id)
    if service is None:
        raise ApiError(404, f"service {service_id!r} not found")
    if service.get("active") is False:
        raise ApiError(409, f"service {service_id!r} is not active")
    lifecycle = ledger.get_doc(LIFECYCLE_DOC, service["lifecycle"])
    if lifecycle is None or lifecycle.get("active") is False:
        raise ApiError(409, f"lifecycle {service['lifecycle']!r} is missing or not active")
    active = ledger.list_docs(SUB_DOC, f"{wallet}|{service_id}|")
    if len(active) >= int(service.get("cardinality") or 1_000_000):
        raise ApiError(409, f"wallet {wallet!r} already holds {len(active)} of service {service_id!r}")
    sub_id = uuid.uuid4().hex
    state, history = run_lifecycle(ledger, wallet, lifecycle, service.get("properties") or {}, now, policy,
                                   journal)
    sub = {"id": sub_id, "service": service_id, "lifecycle": service["lifecycle"], "state": state,
           "history": history, "created": iso(now)}
    if state is not None:
        ledger.put_doc(SUB_DOC, f"{wallet}|{service_id}|{sub_id}", sub)
    _touch(ledger, wallet, now)
    return {**sub, "deleted": state is None}


def run_lifecycle(ledger: Ledger, wallet: str, lifecycle: dict[str, Any], context: dict[str, Any], now: int,
                  policy: Any, journal: Journal) -> tuple[str | None, list[str]]:
    """Run states from the initial one, following emitted events; None when the instance deleted itself."""
    by_name = {s["name"]: s for s in lifecycle.get("states", {}).values()}
    state_name = str(lifecycle.get("initial_state"))
    if state_name not in by_name:
        raise ApiError(409, f"lifecycle {lifecycle.get('id')!r} has no initial state {state_name!r}")
    history: list[str] = []
    for _step in range(MAX_STEPS):
        state = by_name[state_name]
        history.append(state_name)
        event = None
        for op in parse_action(state.get("action") or ""):
            if op.kind is OpKind.DEBIT_WALLET:
                spec = need_object(context.get(op.arg), f"service property {op.arg!r}")
                check_fields(spec, ("rating_requested",), f"service property {op.arg!r}")
                debit_in(ledger, wallet, rating(get_list(spec, "rating_requested", max_items=8),
                                                f"{op.arg}.rating_requested"), now, policy, journal)
            elif op.kind is OpKind.ADD_BUCKETS:
                items = context.get(op.arg)
                if not isinstance(items, list) or len(items) > 64:
                    raise ApiError(422, f"service property {op.arg!r} must be a list of buckets")
                for i, item in enumerate(items):
                    new_bucket(ledger, wallet, item, now, f"{op.arg}[{i}]")
            elif op.kind is OpKind.DELETE:
                return None, history
            elif op.kind is OpKind.EMIT:
                event = op.arg
        target = state.get("transitions", {}).get(event) if event else None
        if target is None:
            return state_name, history
        if target not in by_name:
            raise ApiError(409, f"transition to unknown state {target!r}")
        state_name = target
    raise ApiError(409, f"lifecycle did not settle within {MAX_STEPS} states")


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
