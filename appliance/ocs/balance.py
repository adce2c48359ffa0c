"""Account Balance Management (ABMF): a product's buckets within one transaction.

:class:`Wallet` is a working copy of one product's buckets.  It takes units
first-to-expire, holds them for a reservation, gives holds back and records
every change; the store writes those changes in the same transaction that read
the buckets (TS 32.296 ABMF: reserve, debit, refund).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .frozen import quick_init
from .inventory import Bucket, expiry_order
from .units import Unit


@quick_init
@dataclass(frozen=True, slots=True)
class Hold:
    """Units taken from one bucket for a reservation (already deducted from the bucket)."""

    bucket_id: int
    unit: Unit
    amount: int


@quick_init
@dataclass(frozen=True, slots=True)
class Reservation:
    """A session's reservation for one rating group; survives restarts in the store."""

    session_id: str
    rating_group: int
    product_id: str
    service_id: str
    unit: Unit
    granted: int
    holds: tuple[Hold, ...]
    rate: int | None
    size: int
    created: int
    expires: int

    def held(self, unit: Unit) -> int:
        return sum(h.amount for h in self.holds if h.unit is unit)


@dataclass(frozen=True, slots=True)
class NewBucket:
    product_id: str
    unit: Unit
    remaining: int
    end: int | None = None
    name: str = ""


_NONE: list[Bucket] = []  # no usable bucket of a unit (never appended to)


class Wallet:
    """Mutable view of a product's buckets; only usable buckets are charged."""

    __slots__ = ("product_id", "now", "_buckets", "_remaining", "_changed", "new_buckets", "_orders")

    def __init__(self, product_id: str, buckets: Iterable[Bucket], now: int) -> None:
        self.product_id = product_id
        self.now = now
        self._buckets: dict[int, Bucket] = {}
        self._remaining: dict[int, int] = {}
        self._changed: set[int] = set()
        self.new_buckets: list[NewBucket] = []
        # Usable buckets per unit, first to expire first (the set is fixed for the wallet's life).
        orders: dict[Unit, list[Bucket]] = {}
        for b in buckets:
            self._buckets[b.id] = b
            self._remaining[b.id] = b.remaining
            if (b.start is None or b.start <= now) and (b.end is None or now < b.end):  # Bucket.usable
                order = orders.get(b.unit)
                if order is None:
                    orders[b.unit] = [b]
                else:
                    order.append(b)
        for order in orders.values():
            if len(order) > 1:
                order.sort(key=expiry_order)
        self._orders = orders

    def _order(self, unit: Unit) -> list[Bucket]:
        """Usable buckets of ``unit``, first to expire first."""
        return self._orders.get(unit, _NONE)

    def available(self, unit: Unit) -> int:
        total = 0
        remaining = self._remaining
        for b in self._orders.get(unit, _NONE):
            have = remaining[b.id]
            if have > 0:
                total += have
        return total

    def remaining(self, bucket_id: int) -> int:
        return self._remaining[bucket_id]

    def take(self, unit: Unit, amount: int, holds: list[Hold]) -> int:
        """Take up to ``amount`` first-to-expire; append a Hold per bucket; return the total taken."""
        taken = 0
        for bucket in self._orders.get(unit, _NONE):
            if taken >= amount:
                break
            have = self._remaining[bucket.id]
            if have <= 0:
                continue
            part = min(have, amount - taken)
            self._remaining[bucket.id] = have - part
            self._changed.add(bucket.id)
            holds.append(Hold(bucket.id, unit, part))
            taken += part
        return taken

    def overdraw(self, unit: Unit, amount: int) -> None:
        """Charge ``amount`` beyond zero (a price allowing overdraft) to the last-expiring bucket."""
        order = self._order(unit)
        if order:
            target = order[-1]
            self._remaining[target.id] -= amount
            self._changed.add(target.id)
        else:
            self.new_buckets.append(NewBucket(self.product_id, unit, -amount, None, "overdraft"))

    def give_back(self, hold: Hold) -> int:
        """Return a hold's unused units; a bucket that expired or vanished meanwhile keeps nothing."""
        bucket = self._buckets.get(hold.bucket_id)
        if bucket is None or bucket.expired(self.now) or hold.amount <= 0:
            return 0
        self._remaining[hold.bucket_id] += hold.amount
        self._changed.add(hold.bucket_id)
        return hold.amount

    def credit(self, unit: Unit, amount: int) -> None:
        """Refund into the last-expiring usable bucket of ``unit``, or a new bucket."""
        order = self._order(unit)
        if order:
            target = order[-1]
            self._remaining[target.id] += amount
            self._changed.add(target.id)
        else:
            self.new_buckets.append(NewBucket(self.product_id, unit, amount, None, "refund"))

    def changes(self) -> dict[int, int]:
        return {bid: self._remaining[bid] for bid in sorted(self._changed)
                if self._remaining[bid] != self._buckets[bid].remaining}

    def totals(self) -> dict[Unit, int]:
        remaining = self._remaining
        return {unit: sum([remaining[b.id] for b in order]) for unit, order in self._orders.items()}
