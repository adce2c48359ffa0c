"""The ledger client every front end holds: one object, one door (``appliance.ledger.book``).

``LedgerClient`` runs each ledger operation in one durable store transaction (group-committed
with whatever else arrived: one fsync per batch) and returns once it is committed.  The store
hands each committed transaction's credit events to :func:`appliance.ledger.events.dispatch`.

A front end whose protocol keeps state of its own beside a charge (an Ro session document, a
RADIUS accounting session) passes a transaction function to :meth:`LedgerClient.run` that calls
``book`` and writes that state; nothing else writes balances.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..ocs import charging
from ..ocs.charging import Balance
from ..ocs.inventory import Bucket
from ..ocs.ports import Ledger, Store
from ..ocs.rating import ChargeRequest, ChargeResult, ChargingPolicy
from ..ocs.recurring import FeeRun
from ..ocs.units import Unit
from . import book, events, sessions, subscribers

T = TypeVar("T")


class ChargeOperation(charging.ChargeOperation):
    """``book.charge`` as a store operation (the core's operation, through the one door)."""

    __slots__ = ()

    def __call__(self, l: Ledger) -> ChargeResult:
        return book.charge(l, self.request, self.policy)


def attach(store: Store) -> Store:
    """Make ``store`` a ledger's: its committed credit events are dispatched, and the
    in-transaction subscribers (the PCRF) are installed in this process."""
    store.on_commit = events.dispatch
    subscribers.install()
    return store


class CreditControlOperation:
    """:func:`appliance.ledger.sessions.credit_control` as a store operation."""

    __slots__ = ("request", "request_type", "candidates", "policy", "redirect", "request_key")

    def __init__(self, request: ChargeRequest, request_type: int, candidates: tuple[str, ...],
                 policy: ChargingPolicy, redirect: str | None) -> None:
        self.request, self.request_type, self.candidates = request, request_type, candidates
        self.policy, self.redirect = policy, redirect
        self.request_key = request.request_key if request.action.mutating else None

    def __call__(self, l: Ledger) -> tuple[ChargeResult | None, str | None, str]:
        return sessions.credit_control(l, self.request, self.request_type, self.candidates, self.policy,
                                       self.redirect)


class LedgerClient:
    """The ledger as a front end sees it (in-process: the store's group-committing writer)."""

    def __init__(self, store: Store, policy: ChargingPolicy | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.store = store
        self.policy = policy or ChargingPolicy()
        self.clock = clock or time.time
        attach(store)

    def now(self) -> int:
        return int(self.clock())

    def _stamp(self, request: ChargeRequest) -> ChargeRequest:
        return request if request.now else request.stamped(self.now())

    # --- operations
    def acharge(self, request: ChargeRequest) -> Awaitable[ChargeResult]:
        return self.store.atransact(ChargeOperation(self._stamp(request), self.policy))

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self.store.transact(ChargeOperation(self._stamp(request), self.policy))

    def top_up(self, product_id: str, unit: Unit, amount: int, end: int | None = None,
               start: int | None = None, name: str = "") -> int:
        now = self.now()
        return self.store.transact(lambda l: book.top_up(l, product_id, unit, amount, now, end, start, name))

    def set_remaining(self, bucket: Bucket, remaining: int) -> None:
        now = self.now()
        self.store.transact(lambda l: book.set_remaining(l, bucket, remaining, now))

    def remove_bucket(self, bucket_id: int) -> bool:
        now = self.now()
        return self.store.transact(lambda l: book.remove_bucket(l, bucket_id, now))

    def balance(self, subscriber: str) -> Balance | None:
        now = self.now()
        return self.store.transact(lambda l: book.balance(l, subscriber, now))

    def abalance(self, subscriber: str) -> Awaitable[Balance | None]:
        now = self.now()
        return self.store.atransact(lambda l: book.balance(l, subscriber, now))

    def release_stale(self, limit: int = 1000) -> int:
        now = self.now()
        return self.store.transact(lambda l: book.release_stale(l, now, limit))

    def charge_fees(self) -> FeeRun:
        now = self.now()
        return self.store.transact(lambda l: book.charge_fees(l, now))

    def credit_control(self, request: ChargeRequest, request_type: int, candidates: tuple[str, ...],
                       redirect: str | None) -> Awaitable[tuple[ChargeResult | None, str | None, str]]:
        """One credit-control request (RFC 4006 sessions): :func:`appliance.ledger.sessions.credit_control`."""
        return self.store.atransact(CreditControlOperation(self._stamp(request), request_type, candidates,
                                                           self.policy, redirect))

    # --- named operations (appliance.ledger.operations), as the ledger role runs them
    def call(self, name: str, *args: Any) -> Awaitable[Any]:
        fn = self._operations()[name][0]
        return self.store.atransact(lambda l: fn(l, *args))

    def call_sync(self, name: str, *args: Any) -> Any:
        fn = self._operations()[name][0]
        return self.store.transact(lambda l: fn(l, *args))

    def _operations(self) -> dict[str, Any]:
        ops = self.__dict__.get("_ops")
        if ops is None:
            from .operations import operations
            ops = self.__dict__["_ops"] = operations(self.policy)
        return ops

    # --- a front end's own transaction around book calls
    def run(self, fn: Callable[[Ledger], T]) -> Awaitable[T]:
        return self.store.atransact(fn)

    def run_sync(self, fn: Callable[[Ledger], T]) -> T:
        return self.store.transact(fn)


def client_for(cfg: Any, store: Store, clock: Callable[[], float] | None = None) -> Any:
    """The ledger as this process reaches it: the ledger role when ``processes.ledger`` runs one,
    else charging in this process over ``store``."""
    from ..config import charging_policy
    if cfg.processes.ledger > 0:
        from .remote import RemoteLedgerClient
        from .server import sharded, socket_path
        remote = None
        if sharded(cfg):                  # each operation to the ledger holding its shard
            from .routing import sharded_remote
            remote = sharded_remote(cfg)
        return RemoteLedgerClient(store, charging_policy(cfg), str(socket_path(cfg)), cfg.processes.ledger_timeout,
                                  clock, remote)
    return LedgerClient(store, charging_policy(cfg), clock)
