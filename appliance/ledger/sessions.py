"""Credit-control sessions (RFC 4006 §5): a session opened by an initial request, continued by
updates, closed by a termination — the ledger's record of whose balance a session charges.

:func:`credit_control` is one ledger operation: it finds the subscriber (the session record for
an update/termination, the request's identities for an initial request or an event), charges
through :func:`appliance.ledger.book.charge`, and keeps the session record, all in the caller's
transaction.  The Diameter Ro/Gy application translates a CCR into this call; it is protocol
free (identities come already normalised, in the order to try).
"""
from __future__ import annotations

import json

from ..ocs.ports import Ledger
from ..ocs.rating import ChargeRequest, ChargeResult, ChargingPolicy, Outcome
from . import book

SESSION_DOC = "ro_session"               # key Session-Id: {"s": subscriber, "t": opened at}
INITIAL, UPDATE, TERMINATION, EVENT = 1, 2, 3, 4     # CC-Request-Type (RFC 4006 §8.3)


def credit_control(l: Ledger, request: ChargeRequest, request_type: int, candidates: tuple[str, ...],
                   policy: ChargingPolicy, redirect: str | None) -> tuple[ChargeResult | None, str | None, str]:
    """(result, subscriber, redirect address) of one credit-control request.

    An UPDATE or TERMINATION continues a session opened by an INITIAL (RFC 4006 §5.3, §5.4): the
    session record names its subscriber.  Without it the result is None (DIAMETER_UNKNOWN_SESSION_ID)
    and nothing is charged, whatever identity the request carries, unless the request is a
    retransmission of one already answered (its remembered answer is repeated: a TERMINATION's
    retransmission arrives after the record is gone).  ``candidates``: the identities to try for an
    INITIAL or EVENT, preferred first.  ``redirect``: the configured top-up address when the
    final-unit action is REDIRECT ("" if none configured), None when it is TERMINATE.
    """
    r = request
    if request_type in (UPDATE, TERMINATION):
        doc = l.read_doc(SESSION_DOC, r.session_id)
        if doc is None:
            key = r.request_key if r.action.mutating else None
            seen = l.recall(r.session_id, key) if key else None
            if seen is None:
                return None, None, ""
            result = ChargeResult.from_doc(json.loads(seen), duplicate=True)
            subscriber = _named(l, r, candidates).subscriber or None
            return result, subscriber, _redirect(l, redirect, subscriber, result)
        r = r.for_subscriber(doc["s"])
    else:
        r = _named(l, r, candidates)
    if not r.subscriber:
        return ChargeResult(Outcome.USER_UNKNOWN), None, ""
    result = book.charge(l, r, policy)
    address = _redirect(l, redirect, r.subscriber, result)
    if request_type == INITIAL and not result.duplicate and (
            result.outcome is Outcome.SUCCESS or (result.outcome is Outcome.CREDIT_LIMIT_REACHED and address)):
        # RFC 4006 §5.6.2: a user redirected to top up keeps the session; its next UPDATE (after
        # Validity-Time) is rated again
        l.put_doc(SESSION_DOC, r.session_id, {"s": r.subscriber, "t": r.now})
    elif request_type == TERMINATION:
        l.delete_doc(SESSION_DOC, r.session_id)
    return result, r.subscriber, address


def _redirect(l: Ledger, configured: str | None, subscriber: str | None, result: ChargeResult) -> str:
    """The top-up address of a Final-Unit-Indication REDIRECT: the offer's (``extra: {redirect: ...}``),
    else the configured one; "" when the answer carries none (or the final-unit action is TERMINATE)."""
    if configured is None or not subscriber or not any(
            i.final or i.outcome is Outcome.CREDIT_LIMIT_REACHED for i in result.items):
        return ""
    _service, product = l.find_subscriber(subscriber)
    offer = l.get_offer(product.offer) if product is not None else None
    address = offer.extra.get("redirect") if offer is not None else None
    return address.strip() if isinstance(address, str) and address.strip() else configured


def _named(l: Ledger, r: ChargeRequest, candidates: tuple[str, ...]) -> ChargeRequest:
    """The request with the first candidate identity the inventory knows (the request's own when
    there is a single one)."""
    if len(candidates) > 1:
        for ident in candidates:
            if l.find_service(ident) is not None:
                return r.for_subscriber(ident)
    elif candidates:
        return r.for_subscriber(candidates[0])
    return r
