"""Authorization of a RADIUS session against the OCS core (read-only, inside one store transaction).

A subscriber is authorized when its service is enabled, its product active, and
its balance can pay for at least one block of what accounting will charge (the
units of ``radius.acct_units``).  The answer carries the seconds the balance can
buy (for Session-Timeout) when seconds are charged or held in buckets.  Nothing is
reserved here: Accounting-Start reserves (RFC 2866 sessions map to Ro-like
START/UPDATE/STOP in :mod:`appliance.radius.acct`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ocs.balance import Wallet
from ..ocs.catalog import subscribed_offer
from ..ocs.inventory import Service
from ..ocs.rating import Action as _Action
from ..ocs.rating import ChargeRequest, RatingFailed, UsageItem, find_price, unit_rate
from ..ocs.units import Unit, units_bought

UNLIMITED = 1 << 62


@dataclass(frozen=True, slots=True)
class Authorization:
    service: Service | None
    allowed: bool
    reason: str = ""                   # Reply-Message on refusal (no secrets, no balances)
    seconds: int | None = None         # seconds the balance can pay (None: time not charged)
    capacity: dict[str, int] | None = None


def capacity(wallet: Wallet, offer: Any, service_type: str, unit: Unit) -> int:
    """Units of ``unit`` the wallet can pay now: unit buckets + whole blocks money buys."""
    units = wallet.available(unit)
    request = ChargeRequest("", "", _Action.CHECK, service=service_type, now=wallet.now)
    price = find_price(offer, request, UsageItem(unit))    # the price in force now (time of day)
    try:
        rate = unit_rate(price, {}, None, None) if price is not None and not price.tariff else None
    except RatingFailed:
        rate = None
    if price is None or rate is None:
        return units
    if rate == 0:
        return UNLIMITED
    return units + units_bought(wallet.available(Unit.MONEY), rate, price.size)


def authorize_in(ledger: Any, identity: str, now: int, units: tuple[Unit, ...], service_type: str,
                 service: Service | None = None) -> Authorization:
    if service is None:
        service = ledger.find_service(identity)
    if service is None:
        return Authorization(None, False, "Unknown user")
    if not service.enabled:
        return Authorization(service, False, "Service disabled")
    product = ledger.get_product(service.product_id) if service.product_id else None
    if product is None or product.status != "active" or (product.end is not None and product.end <= now):
        return Authorization(service, False, "No active subscription")
    offer = subscribed_offer(ledger.get_offer, product.offer)
    wallet = Wallet(product.id, ledger.buckets(product.id), now)
    caps = {u.value: capacity(wallet, offer, service_type, u) for u in set(units) | {Unit.SECONDS}}
    if not any(caps[u.value] > 0 for u in units):
        return Authorization(service, False, "No usable balance", capacity=caps)
    seconds = caps[Unit.SECONDS.value]
    charged_by_time = Unit.SECONDS in units or wallet.available(Unit.SECONDS) > 0
    return Authorization(service, True, seconds=seconds if charged_by_time else None, capacity=caps)

