"""Credit events: the consequences of a balance change, emitted by the ledger only.

The ledger (:mod:`appliance.ledger.book`) decides, inside the transaction of a balance change,
whether the product's credit state changed, and emits one event per change:

- :class:`OutOfCredit`: the product cannot pay for service any more (a grant refused, final
  units granted, usage left unpaid, a fee or adjustment took the balance to a debt);
- :class:`CreditRestored`: it can again (a top-up, a credit adjustment, a refund, a grant);
- :class:`BucketsExpired`: housekeeping removed expired buckets of the product.

Two kinds of subscriber:

- *in the transaction* (``on_change``): run inside the ledger's transaction with the ledger
  view, so what they write commits or rolls back with the balance change (the PCRF's credit
  flag and its queued Gx pushes);
- *after commit* (``after_commit``): told once the change is durable (counters, SNMP, the
  REST hub).  They run on the store's thread: they must be quick and thread-safe.

A retransmitted request changes nothing and emits nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..telemetry import metrics

if TYPE_CHECKING:
    from ..ocs.ports import Ledger

log = logging.getLogger("appliance.ledger")


@dataclass(frozen=True, slots=True)
class OutOfCredit:
    product_id: str
    reason: str          # refused | final_units | unpaid | debt
    now: int


@dataclass(frozen=True, slots=True)
class CreditRestored:
    product_id: str
    now: int


@dataclass(frozen=True, slots=True)
class BucketsExpired:
    product_id: str
    count: int
    now: int


CreditEvent = OutOfCredit | CreditRestored | BucketsExpired
InTransaction = Callable[["Ledger", CreditEvent], object]
AfterCommit = Callable[[CreditEvent], object]

_in_transaction: list[InTransaction] = []
_after_commit: list[AfterCommit] = []


def on_change(fn: InTransaction) -> InTransaction:
    """Subscribe ``fn(ledger, event)`` inside the transaction of every change (idempotent)."""
    if fn not in _in_transaction:
        _in_transaction.append(fn)
    return fn


def after_commit(fn: AfterCommit) -> AfterCommit:
    """Subscribe ``fn(event)`` once each change is committed (idempotent)."""
    if fn not in _after_commit:
        _after_commit.append(fn)
    return fn


def unsubscribe(fn: object) -> None:
    for table in (_in_transaction, _after_commit):
        while fn in table:
            table.remove(fn)  # type: ignore[arg-type]


def emit(ledger: Ledger, event: CreditEvent) -> None:
    """Run the in-transaction subscribers and hand the event to the store for after commit."""
    for fn in list(_in_transaction):
        fn(ledger, event)
    ledger.emit(event)


def dispatch(events: list[object]) -> None:
    """Called by the store after COMMIT with the events of the committed transaction(s)."""
    for event in events:
        metrics.inc(f"ledger.events.{_NAMES.get(type(event), 'other')}")
        for fn in list(_after_commit):
            try:
                fn(event)  # type: ignore[arg-type]
            except Exception:
                log.exception("credit event subscriber %r failed on %r", fn, event)


_NAMES: dict[type, str] = {OutOfCredit: "out_of_credit", CreditRestored: "credit_restored",
                           BucketsExpired: "buckets_expired"}
