"""The wallet API's transaction functions (seeds/wallet-rating-walkthrough.txt), without HTTP.

A wallet is a core product + service with the same id (offer ``wallet``, no prices); its buckets
are core buckets (``microcents`` = money minor units, ``bytes`` = octets, ``seconds``).  A session
is a core reservation (START, exact amounts, all or nothing: 402) committed by STOP; a debit is an
event DIRECT_DEBITING (RFC 4006 §6.3), all or nothing.  A subscription runs its service's
lifecycle (:mod:`appliance.rest.lifecycle`: parsed, never evaluated) in the same transaction.

Every change of a wallet is one function here, run as a named operation of the ledger (the one
door; :mod:`appliance.rest.ledger_ops`): by the ledger role when one runs, else in the REST
process.  The HTTP side is :mod:`appliance.rest.wallet`; nothing here imports an HTTP server.
"""
from __future__ import annotations

import uuid
from typing import Any

from ..ledger import book, protocol
from ..ocs.catalog import Offer
from ..ocs.inventory import Product, Service
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, ChargeResult, Outcome, UsageItem
from ..ocs.units import Unit
from .fields import MAX_SECONDS, ApiError, as_int, check_fields, get_list, iso, need_object, parse_iso
from .lifecycle import OpKind, parse_action

OFFER = "wallet"
WALLET_DOC, SESSION_DOC, LIFECYCLE_DOC, SERVICE_DOC, SUB_DOC = (
    "wallet", "wallet_session", "wallet_lifecycle", "wallet_service", "wallet_subscription")
UNITS = {"microcents": Unit.MONEY, "bytes": Unit.OCTETS, "byte": Unit.OCTETS, "octets": Unit.OCTETS,
         "seconds": Unit.SECONDS, "second": Unit.SECONDS, "messages": Unit.MESSAGES}
NAMES = {Unit.MONEY: "microcents", Unit.OCTETS: "bytes", Unit.SECONDS: "seconds", Unit.MESSAGES: "messages"}
GROUP = {Unit.MONEY: 1, Unit.OCTETS: 2, Unit.SECONDS: 3, Unit.MESSAGES: 4}
MAX_STEPS = 16


def unit_of(value: Any, where: str) -> Unit:
    if not isinstance(value, str) or value.lower() not in UNITS:
        raise ApiError(400, f"{where}.unit must be one of {', '.join(sorted(set(UNITS)))}")
    return UNITS[value.lower()]


def valid_id(value: str, where: str) -> str:
    if not value or len(value) > 128 or "/" in value or "|" in value:
        raise ApiError(400, f"{where}: an id is 1-128 characters without '/' or '|'")
    return value


def rating(items: list[Any], where: str) -> list[tuple[Unit, int]]:
    out: list[tuple[Unit, int]] = []
    for i, item in enumerate(items):
        item = need_object(item, f"{where}[{i}]")
        check_fields(item, ("unit", "value"), f"{where}[{i}]", required=("unit", "value"))
        out.append((unit_of(item["unit"], f"{where}[{i}]"), as_int(item["value"], f"{where}[{i}].value")))
    if len({u for u, _ in out}) != len(out):
        raise ApiError(400, f"{where}: one entry per unit")
    return out


def _session_key(wallet: str, sid: str) -> str:
    return f"wallet:{wallet}:{sid}"


def need_wallet(ledger: Ledger, wallet: str) -> dict[str, Any]:
    doc = ledger.get_doc(WALLET_DOC, wallet)
    if doc is None:
        raise ApiError(404, f"wallet {wallet!r} not found")
    return doc


def _touch(ledger: Ledger, wallet: str, now: int) -> None:
    doc = ledger.get_doc(WALLET_DOC, wallet) or {"initial_creation_timestamp": now}
    ledger.put_doc(WALLET_DOC, wallet, {**doc, "last_change_timestamp": now})


def wallet_view(ledger: Ledger, wallet: str, now: int) -> dict[str, Any]:
    audit = need_wallet(ledger, wallet)
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


# --- wallets and their buckets ----------------------------------------------------------------

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


def delete_in(ledger: Ledger, now: int, wallet: str) -> None:
    """A wallet without open sessions removed with its buckets, sessions and subscriptions."""
    need_wallet(ledger, wallet)
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
    unit = unit_of(doc["unit"], where)
    value = as_int(doc["value"], f"{where}.value", None)
    if value < 0:
        raise ApiError(422, f"{where}.value must not be negative: a balance below zero is refused")
    end = parse_expiry(doc.get("expiry"), now, f"{where}.expiry")
    bid = book.top_up(ledger, wallet, unit, value, now, end, None, "wallet")
    out: dict[str, Any] = {"value": value, "id": str(bid), "unit": NAMES[unit]}
    if end is not None:
        out["expiry"] = iso(end)
    return out


def add_bucket_in(ledger: Ledger, now: int, wallet: str, body: Any) -> dict[str, Any]:
    """A bucket of the request's body (checked here: an unknown wallet is 404 before a bad body)."""
    need_wallet(ledger, wallet)
    out = new_bucket(ledger, wallet, body, now, "body")
    _touch(ledger, wallet, now)
    return out


def delete_bucket_in(ledger: Ledger, now: int, wallet: str, ident: str) -> None:
    need_wallet(ledger, wallet)
    bucket = ledger.get_bucket(int(ident)) if ident.isdigit() and len(ident) < 18 else None
    if bucket is None or bucket.product_id != wallet:
        raise ApiError(404, f"bucket {ident!r} not found in wallet {wallet!r}")
    book.remove_bucket(ledger, bucket.id, now)
    _touch(ledger, wallet, now)


# --- engine: sessions, debits, subscriptions -------------------------------------------------

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


def _insufficient(reason: str = "Insufficient Funds") -> ApiError:
    return ApiError(402, reason, "insufficient_funds")


def _units(amounts: Any) -> Wanted:
    return [(Unit(u), v) for u, v in amounts]


def reserve_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str, sid: str,
               wanted: Any) -> dict[str, Any]:
    """A session's reservation of exactly what is wanted (all or nothing: 402) and its record."""
    wanted = _units(wanted)
    req = ChargeRequest(wallet, _session_key(wallet, sid), Action.START,
                        tuple(UsageItem(u, v, 0, GROUP[u]) for u, v in wanted), None, None, None, None, now)
    need_wallet(ledger, wallet)
    if ledger.reservations(req.session_id):
        raise ApiError(409, f"session {sid!r} is open: commit it first")
    result = _charge(ledger, req, policy, journal)
    if result.outcome is not Outcome.SUCCESS or any(r.granted < v for r, (_u, v) in zip(result.items, wanted)):
        raise _insufficient()
    session = {"initial_creation_timestamp": iso(now), "id": sid}
    ledger.put_doc(SESSION_DOC, f"{wallet}|{sid}", session)
    _touch(ledger, wallet, now)
    return {"id": sid, "rating_granted": [{"unit": NAMES[r.unit], "value": r.granted} for r in result.items]}


def commit_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str, sid: str,
              used: Any) -> dict[str, Any]:
    """A session's STOP: what was used (None: what was reserved) debited, the rest released."""
    key = _session_key(wallet, sid)
    need_wallet(ledger, wallet)
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


def debit_wallet_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str,
                    wanted: Any) -> dict[str, Any]:
    need_wallet(ledger, wallet)
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


def subscribe_in(ledger: Ledger, journal: Journal, policy: Any, now: int, wallet: str,
                 service_id: str) -> dict[str, Any]:
    """A subscription to a service: its lifecycle run from the initial state (debits, buckets)."""
    need_wallet(ledger, wallet)
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
