"""Recurring and one-time prices: what a product owes at a given time (a pure function).

A RECURRING price with ``period`` daily/weekly/monthly/yearly is due at the product's start and at
every period boundary after it (monthly on the start's day of month, clamped to the month's
length).  A ONE_TIME price is due once.  What was charged is remembered in the product's
characteristics (``charged: {price name: epoch of the last period charged}``), so a late or
repeated housekeeping pass charges each period exactly once.  Fees may take the money balance
below zero (the subscriber owes them); usage is then refused until a top-up.
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .balance import Wallet
from .catalog import Offer, PriceType
from .inventory import Bucket, Product
from .units import Unit

if TYPE_CHECKING:
    from .ports import Ledger

PERIODS = ("daily", "weekly", "monthly", "yearly")
MAX_PERIODS_PER_PASS = 400  # bound: a product created years ago is caught up over several passes


@dataclass(frozen=True, slots=True)
class Fee:
    price: str
    period_start: int
    amount: int


def _add_months(dt: datetime, months: int, day: int) -> datetime:
    month0 = dt.month - 1 + months
    year, month = dt.year + month0 // 12, month0 % 12 + 1
    return dt.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))


def period_starts(anchor: int, period: str, after: int | None, now: int) -> list[int]:
    """Period start times in (after, now], the first being ``anchor`` itself."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r} (known: {', '.join(PERIODS)})")
    base = datetime.fromtimestamp(anchor, UTC)
    starts: list[int] = []
    for n in range(10**6):
        if period == "daily":
            t = base + timedelta(days=n)
        elif period == "weekly":
            t = base + timedelta(weeks=n)
        elif period == "monthly":
            t = _add_months(base, n, base.day)
        else:
            t = _add_months(base, 12 * n, base.day)
        ts = int(t.timestamp())
        if ts > now or len(starts) >= MAX_PERIODS_PER_PASS:
            break
        if after is None or ts > after:
            starts.append(ts)
    return starts


def period_start_at(anchor: int, period: str, now: int) -> int | None:
    """Start of the period (of the series :func:`period_starts` yields) that holds ``now``;
    None before ``anchor``.  Computed directly, so a series of years of daily periods costs the
    same as one (the same calendar arithmetic: UTC, month ends clamped to the anchor's day)."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r} (known: {', '.join(PERIODS)})")
    if now < anchor:
        return None
    base = datetime.fromtimestamp(anchor, UTC)
    if period in ("daily", "weekly"):
        step = 86_400 if period == "daily" else 7 * 86_400
        return int((base + timedelta(seconds=(now - anchor) // step * step)).timestamp())
    at = datetime.fromtimestamp(now, UTC)
    months = (at.year - base.year) * 12 + at.month - base.month
    if period == "yearly":
        months -= months % 12
    step = 1 if period == "monthly" else 12
    while months > 0 and int(_add_months(base, months, base.day).timestamp()) > now:
        months -= step
    return int(_add_months(base, months, base.day).timestamp())


def fees_due(product: Product, offer: Offer, now: int, created: int) -> list[Fee]:
    """Fees the product owes at ``now`` that were not charged yet."""
    if product.status != "active":
        return []
    anchor = product.start if product.start is not None else created
    charged = dict(product.characteristics.get("charged", {}))
    fees: list[Fee] = []
    for price in offer.prices:
        last = charged.get(price.name)
        if price.type is PriceType.ONE_TIME:
            if last is None and anchor <= now:
                fees.append(Fee(price.name, anchor, price.amount))
        elif price.type is PriceType.RECURRING and price.period:
            end = now if product.end is None else min(now, product.end - 1)
            for start in period_starts(anchor, price.period, last, end):
                fees.append(Fee(price.name, start, price.amount))
    return fees


def apply_fees(product: Product, buckets: Iterable[Bucket], fees: list[Fee], now: int) -> tuple[Product, Wallet]:
    """Debit the fees from money buckets (first to expire; overdraft allowed); record them as charged."""
    wallet = Wallet(product.id, buckets, now)
    charged = dict(product.characteristics.get("charged", {}))
    for fee in fees:
        taken = wallet.take(Unit.MONEY, fee.amount, [])
        if taken < fee.amount:
            wallet.overdraw(Unit.MONEY, fee.amount - taken)
        charged[fee.price] = max(fee.period_start, charged.get(fee.price, 0))
    chars = dict(product.characteristics)
    chars["charged"] = charged
    return replace(product, characteristics=chars), wallet


def charge_fees_in(ledger: Ledger, now: int, limit: int = 1000) -> int:
    """Charge every active product's due fees in the caller's transaction; returns fees charged."""
    count = 0
    offers: dict[str, Offer | None] = {}
    for product in ledger.list_products():
        if product.status != "active":
            continue
        if product.offer not in offers:
            offers[product.offer] = ledger.get_offer(product.offer)
        offer = offers[product.offer]
        if offer is None or not any(p.type is not PriceType.USAGE for p in offer.prices):
            continue
        created = product.characteristics.get("created")
        if product.start is None and created is None:
            created = now  # first seen: fees are anchored here
            product = replace(product, characteristics={**product.characteristics, "created": now})
            ledger.put_product(product)
        fees = fees_due(product, offer, now, int(created or now))
        if not fees:
            continue
        updated, wallet = apply_fees(product, ledger.buckets(product.id), fees, now)
        for bucket_id, remaining in wallet.changes().items():
            ledger.set_bucket_remaining(bucket_id, remaining)
        for new in wallet.new_buckets:
            ledger.add_bucket(new)
        ledger.put_product(updated)
        count += len(fees)
        if count >= limit:
            break
    return count
