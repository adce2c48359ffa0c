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
    """A session's reservation for one rating group and unit; survives restarts in the store.

    ``used`` and ``paid`` are what the session has used and been billed so far at ``rate`` per
    ``size`` (per-session rounding: each report pays the started blocks of the running total
    less what was billed before).
    """

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
    used: int = 0
    paid: int = 0

    def held(self, unit: Unit) -> int:
        return sum(h.amount for h in self.holds if h.unit is unit)


@quick_init
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

    __slots__ = ("product_id", "now", "_buckets", "_remaining", "_changed", "new_buckets", "_orders", "_debtors")

    def __init__(self, product_id: str, buckets: Iterable[Bucket], now: int) -> None:
        self.product_id = product_id
        self.now = now
        self._buckets: dict[int, Bucket] = {}
        self._remaining: dict[int, int] = {}
        self._changed: set[int] = set()
        self.new_buckets: list[NewBucket] = []
        # Usable buckets per unit, first to expire first (the set is fixed for the wallet's life).
        orders: dict[Unit, list[Bucket]] = {}
        self._debtors: list[int] = []       # buckets that may go or are below zero
        for b in buckets:
            self._buckets[b.id] = b
            self._remaining[b.id] = b.remaining
            if b.remaining < 0:
                self._debtors.append(b.id)
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
        """What can be spent now: the usable buckets' positive remainders, less any debt.

        A debt (a bucket below zero, whatever its validity) is covered first: money topped up
        while the product owes pays the debt before it pays for service.
        """
        total = 0
        remaining = self._remaining
        for b in self._orders.get(unit, _NONE):
            have = remaining[b.id]
            if have > 0:
                total += have
        if self._debtors or self.new_buckets:
            total -= self.debt(unit)
            return total if total > 0 else 0
        return total

    def debt(self, unit: Unit) -> int:
        """What the product owes in ``unit`` (the sum of the buckets below zero, usable or not)."""
        remaining = self._remaining
        owed = 0
        for bid in self._debtors:
            b = self._buckets[bid]
            if b.unit is unit and remaining[bid] < 0:
                owed -= remaining[bid]
        for nb in self.new_buckets:
            if nb.unit is unit and nb.remaining < 0:
                owed -= nb.remaining
        return owed

    def remaining(self, bucket_id: int) -> int:
        return self._remaining[bucket_id]

    def take(self, unit: Unit, amount: int, holds: list[Hold]) -> int:
        """Take up to ``amount`` first-to-expire; append a Hold per bucket; return the total taken.

        Never more than :meth:`available`: a debt is netted before anything is spent.
        """
        if self._debtors or self.new_buckets:
            amount = min(amount, self.available(unit))
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
        """Charge ``amount`` beyond zero (an overdraft price, or a fee) as a debt.

        The debt goes to a bucket that never expires (an existing debt, else a usable bucket
        without an end, else a new ``debt`` bucket), so a debt cannot vanish with an expiring
        top-up.
        """
        if amount <= 0:
            return
        target = None
        for bid in self._debtors:
            b = self._buckets[bid]
            if b.unit is unit and b.end is None:
                target = b
                break
        if target is None:
            for b in reversed(self._order(unit)):
                if b.end is None:
                    target = b
                    break
        if target is None:
            for nb in self.new_buckets:
                if nb.unit is unit and nb.end is None and nb.remaining <= 0:
                    self.new_buckets[self.new_buckets.index(nb)] = NewBucket(
                        nb.product_id, unit, nb.remaining - amount, None, nb.name)
                    return
            self.new_buckets.append(NewBucket(self.product_id, unit, -amount, None, "debt"))
            return
        self._remaining[target.id] -= amount
        self._changed.add(target.id)
        if target.id not in self._debtors:
            self._debtors.append(target.id)

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
        """Net balance per unit: usable buckets' positive remainders less every debt (existing buckets)."""
        remaining = self._remaining
        if not self._debtors:
            return {unit: sum([remaining[b.id] for b in order]) for unit, order in self._orders.items()}
        out: dict[Unit, int] = {}
        for unit, order in self._orders.items():
            out[unit] = sum([remaining[b.id] for b in order if remaining[b.id] > 0])
        for bid in self._debtors:
            have = remaining[bid]
            if have < 0:
                unit = self._buckets[bid].unit
                out[unit] = out.get(unit, 0) + have
        return out
