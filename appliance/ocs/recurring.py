"""Recurring and one-time prices: what a product owes at a given time (a pure function).

A RECURRING price with ``period`` hourly/daily/weekly/monthly/yearly is due at the product's start
and at every period boundary after it (monthly on the start's day of month, clamped to the month's
length; all in UTC).  A ONE_TIME price is due once.  What was charged is remembered in the
product's characteristics (``charged: {price name: epoch of the last period charged}``; a bundle
member's price is named ``<member>/<price>``), so a late or repeated housekeeping pass charges each
period exactly once.  Fees may take the money balance below zero (the subscriber owes them).

A fee whose price has an ``allowance`` grants its units as buckets named
``allowance:<price>:<period start, UTC>`` in the same transaction: a recurring allowance ends
with its period, or ``rollover`` periods later; a one-time allowance ends ``validity`` seconds after
the fee's time (or never).  The rating consumes them first-to-expire, before money.
"""
from __future__ import annotations

import calendar
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .balance import NewBucket, Wallet
from .catalog import PERIODS, Offer, Price, PriceType, subscribed_offer
from .inventory import Bucket, Product
from .units import Unit

if TYPE_CHECKING:
    from .ports import Ledger

log = logging.getLogger("appliance.ocs.recurring")

MAX_PERIODS_PER_PASS = 400  # bound: a product created years ago is caught up over several passes
_FIXED = {"hourly": 3600, "daily": 86_400, "weekly": 7 * 86_400}   # periods of a fixed length (UTC)


@dataclass(frozen=True, slots=True)
class Fee:
    price: str
    period_start: int
    amount: int
    allowance: tuple[tuple[Unit, int], ...] = ()
    allowance_end: int | None = None   # when the granted units expire (None: never)


@dataclass(frozen=True, slots=True)
class FeeRun:
    """What one pass of :func:`charge_fees_in` did: fees charged, products whose fees failed."""

    charged: int
    failed: tuple[str, ...] = ()


def _add_months(dt: datetime, months: int, day: int) -> datetime:
    month0 = dt.month - 1 + months
    year, month = dt.year + month0 // 12, month0 % 12 + 1
    return dt.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))


def nth_period_start(anchor: int, period: str, n: int) -> int:
    """Start of period ``n`` (0: the one starting at ``anchor``) of a recurring series."""
    step = _FIXED.get(period)
    if step is not None:
        return anchor + n * step
    base = datetime.fromtimestamp(anchor, UTC)
    return int(_add_months(base, n if period == "monthly" else 12 * n, base.day).timestamp())


def _check(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r} (known: {', '.join(PERIODS)})")


def _series(anchor: int, period: str, after: int | None, now: int) -> list[tuple[int, int]]:
    """(n, start) of the periods starting in (after, now], at most :data:`MAX_PERIODS_PER_PASS`."""
    _check(period)
    step = _FIXED.get(period)
    first = 0
    if after is not None and step is not None and after >= anchor:
        first = (after - anchor) // step     # skip what was charged (an hourly series years long)
    out: list[tuple[int, int]] = []
    n = first
    while len(out) < MAX_PERIODS_PER_PASS:
        ts = nth_period_start(anchor, period, n)
        if ts > now:
            break
        if after is None or ts > after:
            out.append((n, ts))
        n += 1
    return out


def period_starts(anchor: int, period: str, after: int | None, now: int) -> list[int]:
    """Period start times in (after, now], the first being ``anchor`` itself."""
    return [ts for _n, ts in _series(anchor, period, after, now)]


def period_start_at(anchor: int, period: str, now: int) -> int | None:
    """Start of the period (of the series :func:`period_starts` yields) that holds ``now``;
    None before ``anchor``.  Computed directly, so a series of years of daily periods costs the
    same as one (the same calendar arithmetic: UTC, month ends clamped to the anchor's day)."""
    _check(period)
    if now < anchor:
        return None
    step = _FIXED.get(period)
    if step is not None:
        return anchor + (now - anchor) // step * step
    base = datetime.fromtimestamp(anchor, UTC)
    at = datetime.fromtimestamp(now, UTC)
    months = (at.year - base.year) * 12 + at.month - base.month
    if period == "yearly":
        months -= months % 12
    step = 1 if period == "monthly" else 12
    while months > 0 and int(_add_months(base, months, base.day).timestamp()) > now:
        months -= step
    return int(_add_months(base, months, base.day).timestamp())


def _fee(price: Price, start: int, allowance_end: int | None) -> Fee:
    return Fee(price.name, start, price.amount, price.allowance, allowance_end)


def fees_due(product: Product, offer: Offer, now: int, created: int) -> list[Fee]:
    """Fees the product owes at ``now`` that were not charged yet (``offer`` with its bundle resolved)."""
    if product.status != "active":
        return []
    anchor = product.start if product.start is not None else created
    charged = dict(product.characteristics.get("charged", {}))
    fees: list[Fee] = []
    for price in offer.prices:
        last = charged.get(price.name)
        if price.type is PriceType.ONE_TIME:
            if last is None and anchor <= now:
                fees.append(_fee(price, anchor, anchor + price.validity if price.validity else None))
        elif price.type is PriceType.RECURRING:
            if price.period is None:
                raise ValueError(f"price {price.name}: a recurring price needs a period")
            end = now if product.end is None else min(now, product.end - 1)
            for n, start in _series(anchor, price.period, last, end):
                fees.append(_fee(price, start, nth_period_start(anchor, price.period, n + 1 + price.rollover)))
    return fees


def allowance_name(price: str, period_start: int) -> str:
    """``allowance:<price>:<period start as UTC ISO 8601>``: how an allowance bucket is recognised."""
    return f"allowance:{price}:{datetime.fromtimestamp(period_start, UTC).strftime('%Y-%m-%dT%H:%MZ')}"


def apply_fees(product: Product, buckets: Iterable[Bucket], fees: list[Fee],
               now: int) -> tuple[Product, Wallet, list[NewBucket]]:
    """Debit the fees from money buckets (first to expire; overdraft allowed); record them as charged;
    the allowance buckets they grant (none already expired: a period caught up late grants nothing)."""
    wallet = Wallet(product.id, buckets, now)
    charged = dict(product.characteristics.get("charged", {}))
    granted: list[NewBucket] = []
    for fee in fees:
        taken = wallet.take(Unit.MONEY, fee.amount, [])
        if taken < fee.amount:
            wallet.overdraw(Unit.MONEY, fee.amount - taken)
        charged[fee.price] = max(fee.period_start, charged.get(fee.price, 0))
        if fee.allowance_end is None or fee.allowance_end > now:
            name = allowance_name(fee.price, fee.period_start)
            granted.extend(NewBucket(product.id, unit, amount, fee.allowance_end, name)
                           for unit, amount in fee.allowance)
    chars = dict(product.characteristics)
    chars["charged"] = charged
    return replace(product, characteristics=chars), wallet, granted


def charge_fees_in(ledger: Ledger, now: int, limit: int = 1000) -> FeeRun:
    """Charge every active product's due fees in the caller's transaction.

    Each product's fees are computed in full before anything is written for it; a product whose
    fees cannot be computed (its offer bundles a missing offer, a stored price is invalid, ...) is logged, named
    in :attr:`FeeRun.failed` and skipped, and the others are charged.
    """
    count = 0
    failed: list[str] = []
    for product in ledger.list_products():
        if product.status != "active":
            continue
        try:
            work = _fees_for(ledger, product, now)
        except Exception:
            log.exception("recurring fees of product %s not charged", product.id)
            failed.append(product.id)
            continue
        if work is None:
            continue
        updated, wallet, granted, charged = work
        for bucket_id, remaining in wallet.changes().items():
            ledger.set_bucket_remaining(bucket_id, remaining)
        for new in (*wallet.new_buckets, *granted):
            ledger.add_bucket(new)
        ledger.put_product(updated)
        count += charged
        if count >= limit:
            break
    return FeeRun(count, tuple(failed))


def _fees_for(ledger: Ledger, product: Product, now: int) -> tuple[Product, Wallet, list[NewBucket], int] | None:
    """What charging ``product`` now writes (nothing written here); None when nothing is due."""
    offer = subscribed_offer(ledger.get_offer, product.offer)
    if offer is None or not any(p.type is not PriceType.USAGE for p in offer.prices):
        return None
    created = product.characteristics.get("created")
    first_seen = product.start is None and created is None
    if first_seen:
        created = now  # first seen: fees are anchored here
        product = replace(product, characteristics={**product.characteristics, "created": now})
    fees = fees_due(product, offer, now, int(created or now))
    if not fees:
        return (product, Wallet(product.id, (), now), [], 0) if first_seen else None
    updated, wallet, granted = apply_fees(product, ledger.buckets(product.id), fees, now)
    return updated, wallet, granted, len(fees)
