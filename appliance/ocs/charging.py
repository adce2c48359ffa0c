"""The Online Charging Function entry point every front end calls (Ro, RADIUS, Nrf, REST).

``Charging.charge(request)`` runs inside one store transaction: idempotency
check, load the subscriber's data, ``rate()``, write the changes, remember the
answer.  A retransmitted request (same ``request_key``) gets the remembered
answer and is never charged twice.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .balance import Reservation, Wallet
from .catalog import PrefixTable, subscribed_offer
from .ports import Ledger, Store
from .rating import (
    Action,
    ChargeRequest,
    ChargeResult,
    ChargingPolicy,
    Decision,
    ItemResult,
    Outcome,
    RatingContext,
    rate,
)
from .usable import refusal


@dataclass(frozen=True, slots=True)
class Balance:
    service_id: str
    product_id: str
    totals: dict[str, int]
    reserved: dict[str, int]


def charge_in(ledger: Ledger, request: ChargeRequest, policy: ChargingPolicy) -> ChargeResult:
    """Decide and apply one request within the caller's transaction."""
    key = request.request_key if request.action.mutating else None
    if key is not None:
        seen = ledger.recall(request.session_id, key)
        if seen is not None:
            return ChargeResult.from_doc(json.loads(seen), duplicate=True)
    service, product = ledger.find_subscriber(request.subscriber)
    if service is None or product is None:
        return _final(ledger, key, request, ChargeResult(Outcome.USER_UNKNOWN))
    if refusal(service, product, request.now) is not None:
        return _final(ledger, key, request, ChargeResult(Outcome.SERVICE_DENIED))
    offer = subscribed_offer(ledger.get_offer, product.offer)   # a bundle: its members' prices too
    tables: dict[str, PrefixTable] = {}
    if offer is not None:
        for price in offer.prices:
            for name in (price.tariff, price.roaming):
                if name and name not in tables:
                    table = ledger.get_table(name)
                    if table is not None:
                        tables[name] = table
    reservations = ledger.reservations(request.session_id) if request.action in (
        Action.START, Action.UPDATE, Action.STOP) else []
    ctx = RatingContext(service, product, offer, tables, ledger.buckets(product.id), reservations)
    decision = rate(request, ctx, policy)
    apply(ledger, decision)
    return _final(ledger, key, request, decision.result)


def apply(ledger: Ledger, decision: Decision) -> None:
    for bucket_id, remaining in decision.bucket_updates.items():
        ledger.set_bucket_remaining(bucket_id, remaining)
    for new in decision.new_buckets:
        ledger.add_bucket(new)
    replaced = {(r.session_id, r.rating_group, r.unit) for r in decision.put_reservations}
    for key in decision.drop_reservations:
        if key not in replaced:  # a put of the same key replaces the row anyway
            ledger.drop_reservation(*key)
    for reservation in decision.put_reservations:
        ledger.put_reservation(reservation)


def _final(ledger: Ledger, key: str | None, request: ChargeRequest, result: ChargeResult) -> ChargeResult:
    if key is not None:
        ledger.remember(request.session_id, key, request.now, result.to_json(), ends_session(request, result))
    return result


def ends_session(request: ChargeRequest, result: ChargeResult) -> bool:
    """Whether an answer is the last of its session (its retransmission is then only awaited for
    the peers' retransmission window): a STOP, an event, or a START that opened nothing."""
    if request.action is Action.START:
        return result.outcome in (Outcome.USER_UNKNOWN, Outcome.SERVICE_DENIED)
    return request.action is not Action.UPDATE


def release_stale(ledger: Ledger, now: int, limit: int = 1000) -> int:
    """Release reservations whose session went silent (validity + grace passed)."""
    stale = ledger.expired_reservations(now, limit)
    by_product: dict[str, list[Reservation]] = {}
    for res in stale:
        by_product.setdefault(res.product_id, []).append(res)
    for product_id, group in by_product.items():
        wallet = Wallet(product_id, ledger.buckets(product_id), now)
        for res in group:
            for hold in res.holds:
                wallet.give_back(hold)
            ledger.drop_reservation(res.session_id, res.rating_group, res.unit)
        for bucket_id, remaining in wallet.changes().items():
            ledger.set_bucket_remaining(bucket_id, remaining)
    return len(stale)


def balance_in(ledger: Ledger, subscriber: str, now: int) -> Balance | None:
    service = ledger.find_service(subscriber)
    if service is None or service.product_id is None:
        return None
    totals: dict[str, int] = {}
    for bucket in ledger.buckets(service.product_id):
        if bucket.usable(now) or bucket.remaining < 0:      # a debt counts until it is paid
            totals[bucket.unit.value] = totals.get(bucket.unit.value, 0) + bucket.remaining
    reserved: dict[str, int] = {}
    for res in ledger.product_reservations(service.product_id):
        for hold in res.holds:
            reserved[hold.unit.value] = reserved.get(hold.unit.value, 0) + hold.amount
    return Balance(service.id, service.product_id, totals, reserved)


class ChargeOperation:
    """``charge_in`` as a store operation; ``request_key`` tells the store which answer it will recall.

    A store may read the remembered answers of a whole batch of operations in one statement
    (see ``Store`` in ports.py); one that ignores the hint loses nothing.
    """

    __slots__ = ("request", "policy", "request_key")

    def __init__(self, request: ChargeRequest, policy: ChargingPolicy) -> None:
        self.request = request
        self.policy = policy
        self.request_key = request.request_key if request.action.mutating else None

    def __call__(self, ledger: Ledger) -> ChargeResult:
        return charge_in(ledger, self.request, self.policy)


class Charging:
    """Binds the core to a store and a policy; what protocol workers hold."""

    def __init__(self, store: Store, policy: ChargingPolicy | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        import time
        self.store = store
        self.policy = policy or ChargingPolicy()
        self.clock = clock or time.time

    def _stamp(self, request: ChargeRequest) -> ChargeRequest:
        if request.now:
            return request
        return request.stamped(int(self.clock()))

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self.store.transact(ChargeOperation(self._stamp(request), self.policy))

    def acharge(self, request: ChargeRequest) -> Awaitable[ChargeResult]:
        return self.store.atransact(ChargeOperation(self._stamp(request), self.policy))

    def balance(self, subscriber: str) -> Balance | None:
        now = int(self.clock())
        return self.store.transact(lambda ledger: balance_in(ledger, subscriber, now))

    def release_stale(self, limit: int = 1000) -> int:
        now = int(self.clock())
        return self.store.transact(lambda ledger: release_stale(ledger, now, limit))


__all__ = ["Charging", "ChargeOperation", "Balance", "charge_in", "release_stale", "balance_in", "ItemResult"]
