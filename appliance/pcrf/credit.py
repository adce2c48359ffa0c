"""Out-of-credit signalling from the charging front ends to the PCRF (TS 29.212 §4.5.2, §4.5.17).

Ro/Gy and RADIUS accounting call :func:`after_charge` inside the transaction of the charge;
top-ups (REST TMF654, wallet buckets, ``appliance bucket add``) call :func:`after_topup` inside
theirs.  Both end in :func:`~appliance.pcrf.tables.set_out_of_credit`, which writes (and queues a
Gx push for the product's live sessions) only when the flag changes.  The core stays protocol
free: this module reads its decisions, the core never calls it.

The cost on the charging path is one document read per answer that says something about the
balance (a grant, a refused grant, unpaid usage); retransmissions and answers without a grant
(CCR-T, a report without Requested-Service-Unit) cost nothing.
"""
from __future__ import annotations

from ..ocs.balance import Wallet
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, ChargeResult, Outcome
from ..ocs.units import Unit
from .tables import set_out_of_credit

_GRANTING = (Action.START, Action.UPDATE)


def credit_state(request: ChargeRequest, result: ChargeResult) -> bool | None:
    """What an answer tells about the subscriber's credit.

    ``True`` (out of credit): an item was refused for credit (CREDIT_LIMIT_REACHED), got its final
    units (the balance could not pay the full grant) or left usage unpaid.  ``False`` (credit
    available): START/UPDATE granted units and none of that happened, or a REFUND succeeded.
    ``None``: the answer says nothing (retransmission, unknown or denied subscriber, rating failure,
    no grant asked, CHECK/PRICE enquiries).
    """
    if result.duplicate or not request.action.mutating:
        return None
    if result.outcome in (Outcome.USER_UNKNOWN, Outcome.SERVICE_DENIED):
        return None
    granted = False
    for item in result.items:
        if item.outcome is Outcome.CREDIT_LIMIT_REACHED or item.unpaid > 0 or (item.final and item.granted > 0):
            return True
        if item.outcome is Outcome.SUCCESS and item.granted > 0:
            granted = True
    if request.action in _GRANTING and granted:
        return False
    if request.action is Action.REFUND and result.outcome is Outcome.SUCCESS:
        return False
    return None


def after_charge(ledger: Ledger, request: ChargeRequest, result: ChargeResult) -> int:
    """Record the credit state a charge revealed (in the charge's transaction).

    Returns the Gx sessions queued for a push (0 when the state did not change)."""
    out = credit_state(request, result)
    if out is None:
        return 0
    _service, product = ledger.find_subscriber(request.subscriber)
    if product is None:
        return 0
    return set_out_of_credit(ledger, product.id, out)


def after_topup(ledger: Ledger, product_id: str, now: int) -> int:
    """Clear the flag once the product has usable balance again (after a top-up or credit adjustment)."""
    wallet = Wallet(product_id, ledger.buckets(product_id), now)
    if not any(wallet.available(unit) > 0 for unit in Unit):
        return 0
    return set_out_of_credit(ledger, product_id, False)


def after_refusal(ledger: Ledger, product_id: str) -> int:
    """RADIUS Access-Reject for no usable balance: the product is out of credit."""
    return set_out_of_credit(ledger, product_id, True)
