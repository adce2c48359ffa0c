"""The REST resources that change balances, as operations of the ledger (the one door).

The simple quota debit (``POST /quota``) and an Nrf rating request (TS 32.291) are charges with
a record beside them (the usage stamp, the rating session).  A TMF654 bucket, top-up or
adjustment is written by the resource's own transaction function
(:func:`appliance.rest.kinds.create_in` / ``update_in`` / ``remove_in``), which validates the
request, calls :mod:`appliance.ledger.book` and keeps the resource's record, all in one ledger
transaction.  When the ledger role runs, the REST process sends the request's plain fields
here by name and the ledger runs the same function; a refusal comes back with its HTTP status.
Each call carries a fresh key (:func:`appliance.ledger.operations.once`): a resend after a lost
connection is answered, not applied twice.  A request's body crosses the socket as plain data, its
exact decimal numbers as text (:func:`appliance.rest.fields.body_to_wire`).

The wallet API (:mod:`appliance.rest.wallet_book`) changes balances the same way: a wallet's creation
and deletion, its buckets, a session's reservation and commit, a direct debit and a subscription
(its lifecycle's debits and buckets) are each one keyed operation; those that charge answer with
the charging requests they made, for the REST process's charging log, and use the exact amounts
asked (no configured minimum reservation).

The ledger role imports this module: it and the modules it names (:mod:`~appliance.rest.kinds`,
:mod:`~appliance.rest.tmf654`, :mod:`~appliance.rest.charges`, :mod:`~appliance.rest.wallet_book`,
:mod:`~appliance.rest.fields`) import no HTTP server (a test checks the ledger's imports).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..ledger import protocol
from ..ledger.operations import Operation, once, wire_key
from ..ocs.ports import Ledger
from ..ocs.rating import ChargingPolicy
from . import charges, tmf654, wallet_book
from .fields import body_from_wire
from .kinds import Ctx, Kind, create_in, remove_in, update_in

KINDS: dict[tuple[str, str], Kind] = {(k.api, k.name): k for k in (tmf654.BUCKET, tmf654.TOPUP, tmf654.ADJUST)}


def _kind(api: str, name: str) -> Kind:
    kind = KINDS.get((api, name))
    if kind is None or not kind.ledger:
        raise LookupError(f"{api}/{name} is not a resource the ledger writes")
    return kind


def _create(l: Ledger, now: int, api: str, name: str, ident: str, scale: int, currency: str,
            body: dict[str, Any]) -> dict[str, Any]:
    return create_in(l, _kind(api, name), ident, Ctx(scale, currency, now), body_from_wire(body))


def _update(l: Ledger, now: int, api: str, name: str, ident: str, scale: int, currency: str, body: Any,
            patch_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return update_in(l, _kind(api, name), ident, Ctx(scale, currency, now), body_from_wire(body), patch_type)


def _remove(l: Ledger, now: int, api: str, name: str, ident: str, scale: int, currency: str) -> dict[str, Any] | None:
    return remove_in(l, _kind(api, name), ident, Ctx(scale, currency, now))


def _quota_debit(policy: ChargingPolicy) -> Any:
    def run(l: Ledger, wire: tuple[Any, ...]) -> tuple[Any, ...]:
        return protocol.result_to_wire(charges.debit_in(l, protocol.request_from_wire(wire), policy))
    return run


def _nrf_rate(policy: ChargingPolicy) -> Any:
    def run(l: Ledger, wire: tuple[Any, ...], subscription: Any, created: int) -> tuple[Any, ...]:
        return protocol.result_to_wire(charges.rate_in(l, protocol.request_from_wire(wire), policy, subscription,
                                                   created))
    return run


def _wallet_add_bucket(l: Ledger, now: int, wallet: str, body: Any) -> dict[str, Any]:
    return wallet_book.add_bucket_in(l, now, wallet, body_from_wire(body))


def _wallet_charging(fn: Any, policy: ChargingPolicy) -> Any:
    """A wallet operation that charges: exact amounts (no minimum reservation), answered with
    [its answer, the charging requests and results it made]."""
    exact = dataclasses.replace(policy, min_reserve={})

    def run(l: Ledger, now: int, *args: Any) -> list[Any]:
        return wallet_book.journaled(fn, l, exact, now, *args)
    run.__name__ = fn.__name__
    return run


def ledger_operations(policy: ChargingPolicy) -> dict[str, Operation]:
    return {"rest_create": once(_create), "rest_update": once(_update), "rest_remove": once(_remove),
            "quota_debit": (_quota_debit(policy), wire_key), "nrf_rate": (_nrf_rate(policy), wire_key),
            "wallet_create": once(wallet_book.create_in), "wallet_delete": once(wallet_book.delete_in),
            "wallet_add_bucket": once(_wallet_add_bucket),
            "wallet_delete_bucket": once(wallet_book.delete_bucket_in),
            **{name: once(_wallet_charging(fn, policy)) for name, fn in (
                ("wallet_reserve", wallet_book.reserve_in), ("wallet_commit", wallet_book.commit_in),
                ("wallet_debit", wallet_book.debit_wallet_in), ("wallet_subscribe", wallet_book.subscribe_in))}}
