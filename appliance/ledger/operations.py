"""The ledger's named operations: what a front end asks of the one door, by name, with plain
arguments (ints, strings, tuples, dicts: what the local socket's ``marshal`` frames carry).

Every operation is a function ``fn(ledger, *args)`` run inside one store transaction, in the
ledger role when one runs (``processes.ledger``) and in the caller's process otherwise: the same
function either way (:class:`~appliance.ledger.api.LedgerClient` and
:class:`~appliance.ledger.remote.RemoteLedgerClient` both serve ``call(name, *args)``).

An operation that changes balances is idempotent: either by nature (releasing stale
reservations twice releases them once) or by a key, so that a front end may resend it after a
lost connection.  Keyed administrative operations (:func:`once`) remember their answer as the
last answer of the session ``once:<key>``, final, so housekeeping forgets it after
``charging.event_answer_ttl``.

Operations of the ledger itself are below; a front end that keeps protocol state beside a balance
change declares its own (``ledger_operations(policy)`` in the modules of
:data:`FRONT_END_OPERATIONS`): RADIUS accounting sessions, the REST resources that change
balances.
"""
from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from typing import Any

from ..ocs.ports import Ledger
from ..ocs.rating import ChargingPolicy
from ..ocs.units import Unit
from . import book, protocol, sessions

KeyOf = Callable[[tuple[Any, ...]], "tuple[str, str] | None"]
Operation = tuple[Callable[..., Any], "KeyOf | None"]

# Front-end modules whose transaction functions the ledger runs for them (protocol state kept
# beside the change in one transaction).
FRONT_END_OPERATIONS = ("appliance.radius.acct", "appliance.rest.ledger_ops")

_READ_ONLY = frozenset({"check_balance", "price_enquiry"})
# Operations that only read: the ledger role answers them from the store's read path at once,
# never queued behind the writes of a batch (a WAL snapshot of what is committed).
READS = frozenset({"balance", "authorize", "ping"})
_UNITS = {u.value: u for u in Unit}


def wire_key(args: tuple[Any, ...]) -> tuple[str, str] | None:
    """(session, idempotency key) of an operation whose first argument is a wire request."""
    wire = args[0]
    if wire[4] is None or wire[2] in _READ_ONLY:
        return None
    return wire[1], wire[4]


def once(fn: Callable[..., Any]) -> Operation:
    """``fn(ledger, key, *args)`` made idempotent by ``key`` (None: not keyed): a second call with
    the same key is answered with the first call's (JSON) answer and changes nothing."""
    @functools.wraps(fn)
    def run(l: Ledger, key: str | None, now: int, *args: Any) -> Any:
        if key is None:
            return fn(l, now, *args)
        session = f"once:{key}"
        seen = l.recall(session, key)
        if seen is not None:
            return json.loads(seen)
        answer = fn(l, now, *args)
        l.remember(session, key, now, json.dumps(answer, separators=(",", ":")), True)
        return answer

    def key_of(args: tuple[Any, ...]) -> tuple[str, str] | None:
        return None if args[0] is None else (f"once:{args[0]}", args[0])
    return run, key_of


def _credit_control(policy: ChargingPolicy) -> Callable[..., Any]:
    def run(l: Ledger, wire: tuple[Any, ...], request_type: int, candidates: tuple[str, ...],
            redirect: str | None) -> tuple[Any, ...]:
        result, subscriber, address = sessions.credit_control(
            l, protocol.request_from_wire(wire), request_type, tuple(candidates), policy, redirect)
        return (None if result is None else protocol.result_to_wire(result), subscriber, address)
    return run


def _charge(policy: ChargingPolicy) -> Callable[..., Any]:
    def run(l: Ledger, wire: tuple[Any, ...]) -> tuple[Any, ...]:
        return protocol.result_to_wire(book.charge(l, protocol.request_from_wire(wire), policy))
    return run


def _balance(l: Ledger, identity: str, now: int) -> Any:
    return protocol.balance_to_wire(book.balance(l, identity, now))


def _authorize(l: Ledger, identity: str, now: int, units: tuple[str, ...], service_type: str,
               timezone: str) -> tuple[Any, ...]:
    """``book.authorize`` as plain values: (allowed, reason, seconds, capacity, product id, service id)."""
    a = book.authorize(l, identity, now, tuple(_UNITS[u] for u in units), service_type, None, timezone)
    return (a.allowed, a.reason, a.seconds, a.capacity, a.product_id, a.service.id if a.service else None)


def _top_up(l: Ledger, now: int, product_id: str, unit: str, amount: int, end: int | None, start: int | None,
            name: str) -> int:
    if l.get_product(product_id) is None:
        raise LookupError(f"no such product: {product_id}")
    return book.top_up(l, product_id, _UNITS[unit], amount, now, end, start, name)


def _remove_bucket(l: Ledger, now: int, bucket_id: int) -> bool:
    return book.remove_bucket(l, bucket_id, now)


def _housekeeping(l: Ledger, now: int, limit: int) -> tuple[int, int, int, tuple[str, ...]]:
    """One sweep of the shared balances: stale reservations released, expired buckets removed,
    recurring fees charged (each idempotent: a second sweep at the same time does nothing more)."""
    released = book.release_stale(l, now, limit)
    expired = book.expire_buckets(l, now)
    run = book.charge_fees(l, now)
    return released, expired, run.charged, tuple(run.failed)


def _top_up_initial(l: Ledger, now: int, buckets: tuple[tuple[Any, ...], ...]) -> int:
    """Bulk provisioning's initial balances (``book.top_up_initial``: a product's ``initial``
    buckets replaced, so a resend or a second import does not credit twice)."""
    from ..ocs.balance import NewBucket
    return book.top_up_initial(l, [NewBucket(p, _UNITS[u], r, e, n) for p, u, r, e, n in buckets], now)


def _refused(l: Ledger, product_id: str, now: int) -> bool:
    return book.refused(l, product_id, now)


def operations(policy: ChargingPolicy) -> dict[str, Operation]:
    """name -> (function, its arguments' (session, idempotency key)): the ledger's own operations and
    those the front ends' modules declare (``ledger_operations(policy)``)."""
    ops: dict[str, Operation] = {
        "credit_control": (_credit_control(policy), wire_key), "charge": (_charge(policy), wire_key),
        "balance": (_balance, None), "authorize": (_authorize, None), "ping": (lambda l: "pong", None),
        "top_up": once(_top_up), "remove_bucket": once(_remove_bucket),
        "housekeeping": (_housekeeping, None), "refused": (_refused, None),
        "top_up_initial": (_top_up_initial, None)}
    for module in FRONT_END_OPERATIONS:
        try:
            declared = importlib.import_module(module).ledger_operations(policy)
        except ImportError:
            continue
        ops.update(declared)
    return ops
