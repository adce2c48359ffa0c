"""Charges the REST APIs make with a record beside them, as ledger transaction functions (no HTTP).

The simple quota debit (``POST /quota``, :mod:`appliance.rest.quota`) keeps the subscriber's
usage stamp; an Nrf rating request (TS 32.291, :mod:`appliance.rest.nrf`) keeps its rating
session.  Each is one transaction: the ledger's operations ``quota_debit`` and ``nrf_rate``
(:mod:`appliance.rest.ledger_ops`), run by the ledger role when one runs.
"""
from __future__ import annotations

from typing import Any

from ..ledger import book
from ..ocs.ports import Ledger
from ..ocs.rating import Action, ChargeRequest, ChargeResult, ChargingPolicy, Outcome

USAGE_DOC = "quota_usage"
SESSION_DOC = "nrf_session"


def debit_in(ledger: Ledger, req: ChargeRequest, policy: ChargingPolicy) -> ChargeResult:
    """The quota debit (an event: all or nothing) and the subscriber's usage stamp, in one transaction
    (the ledger's operation ``quota_debit``, :mod:`appliance.rest.ledger_ops`)."""
    result = book.charge(ledger, req, policy)
    service = ledger.find_service(req.subscriber) if result.outcome is Outcome.SUCCESS else None
    if service is not None and service.product_id:
        doc = ledger.get_doc(USAGE_DOC, service.product_id) or {}
        ledger.put_doc(USAGE_DOC, service.product_id, {**doc, "updated": req.now, "last_used": req.now})
    return result


def stamp_balance_change(ledger: Ledger, product_id: str, now: int) -> None:
    """Record that a product's balance changed through REST (the ``updated`` field of /balance)."""
    doc = ledger.get_doc(USAGE_DOC, product_id) or {}
    ledger.put_doc(USAGE_DOC, product_id, {**doc, "updated": now})


def rate_in(ledger: Ledger, core_req: ChargeRequest, policy: ChargingPolicy, subscription: Any,
            created: int) -> ChargeResult:
    """One rating request and its rating session record (the resource ``ref`` is the charging
    session), in one transaction: the ledger's operation ``nrf_rate`` (:mod:`appliance.rest.ledger_ops`)."""
    result = book.charge(ledger, core_req, policy)
    ref = core_req.session_id
    if core_req.action in (Action.START, Action.UPDATE) and result.outcome is not Outcome.USER_UNKNOWN:
        ledger.put_doc(SESSION_DOC, ref, {"subscriber": core_req.subscriber, "service": core_req.service,
                                          "subscriptionId": subscription, "created": created,
                                          "updated": core_req.now})
    elif core_req.action is Action.STOP:
        ledger.delete_doc(SESSION_DOC, ref)
    return result
