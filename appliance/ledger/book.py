"""The one door for balance changes: every front end changes balances through these functions.

Each function runs inside the caller's store transaction (it takes the
:class:`~appliance.ocs.ports.Ledger` view), applies the change through the core, and emits the
consequences (:mod:`appliance.ledger.events`) in the same transaction, so no caller can forget
to tell the PCRF, count the change or notify a subscriber.  A front end that keeps protocol
state of its own (an Ro session document, a RADIUS accounting session) writes that state in the
same transaction, next to a call here; it never writes a bucket, a reservation or a remembered
answer itself (a test reads the tree for that).

The product's credit state (``ledger_credit`` documents: out of credit or not) is the ledger's:
an event is emitted only when it changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ocs.balance import NewBucket, Wallet
from ..ocs.catalog import subscribed_offer
from ..ocs.charging import Balance, balance_in, charge_in
from ..ocs.charging import release_stale as _release_stale
from ..ocs.inventory import Bucket, Product, Service
from ..ocs.ports import Ledger
from ..ocs.rating import (
    Action,
    ChargeRequest,
    ChargeResult,
    ChargingPolicy,
    Outcome,
    RatingFailed,
    UsageItem,
    find_price,
    unit_rate,
)
from ..ocs.recurring import FeeRun, charge_fees_in
from ..ocs.units import Unit, units_bought
from ..ocs.usable import refusal
from . import events, subscribers

subscribers.install()      # whoever changes a balance in this process has the subscribers too

CREDIT_DOC = "ledger_credit"          # key product id: {"out": bool, "reason": str, "t": epoch}
UNLIMITED = 1 << 62
_GRANTING = (Action.START, Action.UPDATE)


# --- charging ---------------------------------------------------------------------------------

def charge(l: Ledger, request: ChargeRequest, policy: ChargingPolicy) -> ChargeResult:
    """Rate and apply one request (RFC 4006 §5 semantics, see ``ocs.rating``); emit credit changes."""
    result = charge_in(l, request, policy)
    note_credit(l, request, result)
    return result


def note_credit(l: Ledger, request: ChargeRequest, result: ChargeResult) -> bool:
    """Record what a charging answer tells about the product's credit; True if the state changed."""
    out, reason = credit_state(request, result)
    if out is None:
        return False
    _service, product = l.find_subscriber(request.subscriber)
    return product is not None and set_credit(l, product.id, out, reason, request.now)


def credit_state(request: ChargeRequest, result: ChargeResult) -> tuple[bool | None, str]:
    """What an answer tells about the subscriber's credit.

    Out of credit (True): an item was refused for credit, got its final units, or left usage
    unpaid.  Credit available (False): START/UPDATE granted units with none of that, or a REFUND
    succeeded.  None: the answer says nothing (unknown or denied subscriber, rating failure, no
    grant asked, CHECK/PRICE enquiries).
    """
    if result.duplicate or not request.action.mutating or \
            result.outcome in (Outcome.USER_UNKNOWN, Outcome.SERVICE_DENIED):
        return None, ""
    granted = False
    for item in result.items:
        if item.outcome is Outcome.CREDIT_LIMIT_REACHED:
            return True, "refused"
        if item.unpaid > 0:
            return True, "unpaid"
        if item.final and item.granted > 0:
            return True, "final_units"
        if item.outcome is Outcome.SUCCESS and item.granted > 0:
            granted = True
    if request.action in _GRANTING and granted:
        return False, ""
    if request.action is Action.REFUND and result.outcome is Outcome.SUCCESS:
        return False, ""
    return None, ""


def set_credit(l: Ledger, product_id: str, out: bool, reason: str, now: int) -> bool:
    """Record the product's credit state; emit an event when it changed (or was never known)."""
    doc = l.read_doc(CREDIT_DOC, product_id)
    if doc is not None and bool(doc.get("out")) == out:
        return False
    l.put_doc(CREDIT_DOC, product_id, {"out": out, "reason": reason, "t": now})
    events.emit(l, events.OutOfCredit(product_id, reason, now) if out else events.CreditRestored(product_id, now))
    return True


def out_of_credit(l: Ledger, product_id: str) -> bool:
    doc = l.read_doc(CREDIT_DOC, product_id)
    return bool(doc and doc.get("out"))


def refused(l: Ledger, product_id: str, now: int) -> bool:
    """A front end refused service for want of balance (RADIUS Access-Reject): out of credit."""
    return set_credit(l, product_id, True, "refused", now)


def release_session(l: Ledger, subscriber: str, session_id: str, now: int, key: str | None = None) -> ChargeResult:
    """End a session without usage (the NAS or gateway lost it): every hold goes back."""
    return charge(l, ChargeRequest(subscriber, session_id, Action.STOP, (), key, now=now), ChargingPolicy())


# --- money in and out -------------------------------------------------------------------------

def top_up(l: Ledger, product_id: str, unit: Unit, amount: int, now: int, end: int | None = None,
           start: int | None = None, name: str = "") -> int:
    """A new bucket of ``amount`` (never below zero); a product out of credit that can pay again
    is restored."""
    if amount < 0:
        raise ValueError("a top-up must not be negative")
    bucket_id = l.add_bucket(NewBucket(product_id, unit, amount, end, name), start)
    reassess(l, product_id, now)
    return bucket_id


def top_up_initial(l: Ledger, buckets: list[NewBucket], now: int) -> int:
    """Initial balances of bulk provisioning: top-ups that replace their products' buckets of the
    same name (so that importing a file again does not credit it twice); a product out of credit
    that can pay again is restored.  Returns the buckets written."""
    if any(b.remaining < 0 for b in buckets):
        raise ValueError("a top-up must not be negative")
    l.replace_buckets(buckets)
    products = list(dict.fromkeys(b.product_id for b in buckets))
    for product_id, doc in l.get_docs(CREDIT_DOC, products).items():
        if doc.get("out"):
            reassess(l, product_id, now)
    return len(buckets)


def set_remaining(l: Ledger, bucket: Bucket, remaining: int, now: int) -> None:
    """An operator's adjustment of one bucket (the caller checked the rules of its API)."""
    l.set_bucket_remaining(bucket.id, remaining)
    reassess(l, bucket.product_id, now)


class InsufficientBalance(ValueError):
    """A debit adjustment larger than what the product holds of the unit."""


def debit(l: Ledger, product_id: str, unit: Unit, amount: int, now: int) -> list[int]:
    """An operator's debit of ``amount`` (> 0) from the product's usable buckets, first to expire
    first, never below zero (:class:`InsufficientBalance`); returns the buckets changed."""
    wallet = Wallet(product_id, l.buckets(product_id), now)
    if wallet.take(unit, amount, []) < amount:
        raise InsufficientBalance(f"the balance of {unit.value} is smaller than {amount}")
    changed = wallet.changes()
    for bucket_id, remaining in changed.items():
        l.set_bucket_remaining(bucket_id, remaining)
    return list(changed)


def remove_bucket(l: Ledger, bucket_id: int, now: int) -> bool:
    bucket = l.get_bucket(bucket_id)
    if bucket is None:
        return False
    l.delete_bucket(bucket_id)
    reassess(l, bucket.product_id, now)
    return True


def reassess(l: Ledger, product_id: str, now: int) -> None:
    """After an administrative change: a product flagged out of credit that has usable balance
    again is restored.  (Running out is decided by charging, which knows what service costs.)"""
    if not out_of_credit(l, product_id):
        return
    wallet = Wallet(product_id, l.buckets(product_id), now)
    if any(wallet.available(unit) > 0 for unit in Unit):
        set_credit(l, product_id, False, "", now)


# --- housekeeping -----------------------------------------------------------------------------

def release_stale(l: Ledger, now: int, limit: int = 1000) -> int:
    return _release_stale(l, now, limit)


def charge_fees(l: Ledger, now: int) -> FeeRun:
    return charge_fees_in(l, now)


def expire_buckets(l: Ledger, now: int) -> int:
    return l.delete_expired_buckets(now)


# --- reads ------------------------------------------------------------------------------------

def balance(l: Ledger, identity: str, now: int) -> Balance | None:
    return balance_in(l, identity, now)


@dataclass(frozen=True, slots=True)
class Authorization:
    service: Service | None
    allowed: bool
    reason: str = ""                   # Reply-Message on refusal (no secrets, no balances)
    seconds: int | None = None         # seconds the balance can pay (None: time not charged)
    capacity: dict[str, int] | None = None
    product_id: str | None = None


def capacity(wallet: Wallet, offer: object, service_type: str, unit: Unit, timezone: str = "UTC") -> int:
    """Units of ``unit`` the wallet can pay now: unit buckets + whole blocks money buys (debt netted)."""
    units = wallet.available(unit)
    request = ChargeRequest("", "", Action.CHECK, service=service_type, now=wallet.now)
    price = find_price(offer, request, UsageItem(unit), timezone)    # type: ignore[arg-type]
    try:
        rate = unit_rate(price, {}, None, None) if price is not None and not price.tariff else None
    except RatingFailed:
        rate = None
    if price is None or rate is None:
        return units
    if rate == 0:
        return UNLIMITED
    return units + units_bought(wallet.available(Unit.MONEY), rate, price.size)


def authorize(l: Ledger, identity: str, now: int, units: tuple[Unit, ...], service_type: str,
              service: Service | None = None, timezone: str = "UTC", product: Product | None = None) -> Authorization:
    """May ``identity`` start a session now, and for how long (read-only; nothing reserved).

    The one rule of :func:`~appliance.ocs.usable.refusal`, then the balance: at least one block
    of what accounting will charge (``units``) must be payable.  ``service`` and its ``product``,
    when the caller has them already (read in the same transaction).
    """
    if service is None:
        service = l.find_service(identity)
    if product is None or service is None or product.id != service.product_id:
        product = l.get_product(service.product_id) if service is not None and service.product_id else None
    why = refusal(service, product, now)
    if why is not None:
        return Authorization(service, False, why.value)
    assert product is not None
    offer = subscribed_offer(l.get_offer, product.offer)
    wallet = Wallet(product.id, l.buckets(product.id), now)
    caps = {u.value: capacity(wallet, offer, service_type, u, timezone) for u in set(units) | {Unit.SECONDS}}
    if not any(caps[u.value] > 0 for u in units):
        return Authorization(service, False, "No usable balance", capacity=caps, product_id=product.id)
    seconds = caps[Unit.SECONDS.value]
    charged_by_time = Unit.SECONDS in units or wallet.available(Unit.SECONDS) > 0
    return Authorization(service, True, seconds=seconds if charged_by_time else None, capacity=caps,
                         product_id=product.id)
