"""The ledger role's read model: ``balance`` and ``authorize`` answered from memory, exactly.

The ledger role is the only writer of its subscribers' balances, so it can keep the answers of
reads it computed and know when one stops being true:

- an answer is computed from committed state only: between two of the ledger's transactions, on
  the loop thread, over the writer connection's caches (``SqliteStore.read_here``), never while a
  write transaction is open (a read must never see an uncommitted balance), and within one read
  snapshot per loop turn that the caches were checked against (no answer mixes two states);
- while a batch runs (in steps, the loop turning in between) a read gets an answer kept from
  before the batch or the server falls back to the store's read path; nothing is computed;
- it is kept per product and dropped when a committed transaction of the ledger changed that
  product's buckets or reservations (``SqliteStore.take_touched``: the store marks them as it
  writes; anything it cannot attribute to a product — catalog and inventory writes, bulk deletes,
  expiry — drops every answer);
- a commit of another connection (a CLI process, another node's import) changes the writer
  connection's ``PRAGMA data_version``: checked once per loop turn before an answer is reused, and
  every answer is dropped when it moved (catalog changes arrive the same way: they bump
  ``catalog_gen`` in a commit);
- an answer depends on ``now`` through bucket validity (``start``/``end``), the product's validity
  (TS 32.296 product status and dates, ``usable.refusal``) and time-of-day price windows
  (``rating.next_price_change``): it is reused only for ``now`` from the time it was computed up
  to the first of those boundaries, and recomputed past it.

The model answers what ``book.balance`` / ``book.authorize`` answer in a fresh store transaction at
the same ``now`` (a test compares them over random interleavings of charges, top-ups, expiry and
catalog changes).  It is bounded: past ``bound`` answers it starts again empty.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from ..ocs.catalog import subscribed_offer
from ..ocs.inventory import Bucket
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, UsageItem, next_price_change
from ..ocs.units import Unit
from . import book, protocol

FOREVER = 1 << 62
_UNITS = {u.value: u for u in Unit}
_NO_PRODUCT = ""                  # answers of identities without a product: dropped with everything
ANSWERED = frozenset({"balance", "authorize"})


def window(now: int, buckets: Iterable[Bucket], *bounds: int | None) -> int:
    """The first time after ``now`` at which a bucket's or one of ``bounds``' validity changes."""
    until = FOREVER
    for b in buckets:
        s, e = b.start, b.end
        if s is not None and now < s < until:
            until = s
        if e is not None and now < e < until:
            until = e
    for t in bounds:
        if t is not None and now < t < until:
            until = t
    return until


def balance_answer(l: Ledger, identity: str, now: int) -> tuple[Any, str, int]:
    """(wire answer, product id, valid until) of ``balance``."""
    service, _product = l.find_subscriber(identity)
    answer = protocol.balance_to_wire(book.balance(l, identity, now))
    if service is None or service.product_id is None:
        return answer, _NO_PRODUCT, FOREVER
    return answer, service.product_id, window(now, l.buckets(service.product_id))


def authorize_answer(l: Ledger, identity: str, now: int, units: tuple[str, ...], service_type: str,
                     timezone: str) -> tuple[Any, str, int]:
    """(wire answer, product id, valid until) of ``authorize`` (operations' ``_authorize``)."""
    service, product = l.find_subscriber(identity)
    asked = tuple(_UNITS[u] for u in units)
    a = book.authorize(l, identity, now, asked, service_type, service, timezone, product)
    answer = (a.allowed, a.reason, a.seconds, a.capacity, a.product_id, a.service.id if a.service else None)
    if service is None or product is None:
        return answer, service.product_id if service is not None and service.product_id else _NO_PRODUCT, FOREVER
    offer = subscribed_offer(l.get_offer, product.offer)
    request = ChargeRequest("", "", Action.CHECK, service=service_type, now=now)
    changes = [next_price_change(offer, request, UsageItem(u), timezone) for u in set(asked) | {Unit.SECONDS}]
    return answer, product.id, window(now, l.buckets(product.id), product.start, product.end, *changes)


def _key(name: str, args: tuple[Any, ...] | list[Any]) -> tuple[tuple[Any, ...], int]:
    """(the key of a read's answer, its ``now``)."""
    if name == "balance":
        identity, now = args
        return (name, identity), now
    if name == "authorize":
        identity, now, units, service_type, timezone = args
        return (name, identity, tuple(units), service_type, timezone), now
    raise KeyError(name)


class ReadModel:
    """Answers of ``balance``/``authorize`` keyed by their arguments (``now`` aside), per product."""

    def __init__(self, store: Any, bound: int = 200_000) -> None:
        self.store = store
        self.bound = bound
        # key -> (wire answer, computed at, valid until)
        self.answers: dict[tuple[Any, ...], tuple[Any, int, int]] = {}
        self.keys: dict[str, list[tuple[Any, ...]]] = {}     # product id -> keys of its answers
        self.version: int | None = None       # the writer connection's data_version the answers are of
        self.checked = False                  # data_version checked in this loop turn
        self.hits = self.misses = 0

    def answer(self, name: str, args: tuple[Any, ...] | list[Any]) -> Any:
        """The answer of read ``name``; raises what the computation raises (the caller falls back
        to the store's read path: a transaction is open, the database is busy)."""
        if not self.checked:
            self._check()
        key, now = _key(name, args)
        kept = self.answers.get(key)
        if kept is not None and kept[1] <= now < kept[2]:
            self.hits += 1
            return kept[0]
        self.misses += 1
        identity = key[1]
        if name == "balance":
            answer, product, until = self.store.read_here(lambda l: balance_answer(l, identity, now))
        else:
            _name, _identity, units, service_type, timezone = key
            answer, product, until = self.store.read_here(
                lambda l: authorize_answer(l, identity, now, units, service_type, timezone))
        answers = self.answers
        if len(answers) >= self.bound:
            self.clear()
        if key not in answers:
            self.keys.setdefault(product, []).append(key)
        answers[key] = (answer, now, until)
        return answer

    def kept(self, name: str, args: tuple[Any, ...] | list[Any]) -> tuple[Any, int, int] | None:
        """The kept (answer, computed at, valid until) of a read if it holds at its ``now``; nothing
        computed (while a batch is open, whose commit will drop what it changes)."""
        key, now = _key(name, args)
        kept = self.answers.get(key)
        if kept is not None and kept[1] <= now < kept[2]:
            self.hits += 1
            return kept
        return None

    def sync(self) -> None:
        """Drop everything if another connection committed since the last check."""
        self._check()

    def _check(self) -> None:
        version = self.store.here_version()
        if version != self.version:
            self.clear()
            self.version = version
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:            # no loop: checked at every answer
            return
        self.checked = True
        loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self.checked = False
        self.store.here_release()

    def committed(self, products: Iterable[str], everything: bool) -> None:
        """After the ledger's own transaction: forget the answers of the products it changed."""
        if everything:
            self.clear()
            return
        answers, keys = self.answers, self.keys
        for product in products:
            for key in keys.pop(product, ()):
                answers.pop(key, None)

    def clear(self) -> None:
        self.answers.clear()
        self.keys.clear()
