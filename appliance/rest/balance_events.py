"""TMF654 balance notifications from the ledger's credit events, through the TMF630 hub.

Subscribed inside the ledger's transaction (:mod:`appliance.ledger.subscribers`): when a
product runs out of credit or gets it back, the event is appended to the outbox queue
(:mod:`appliance.rest.outbox`) of every listener registered on ``/tmf-api/{API}/hub`` that wants
it, in the transaction of the balance change.  A rolled-back change queues nothing and a
retransmitted request changes nothing, so each change is queued once; any REST process then
delivers it (:mod:`appliance.rest.hub`: in order, at least once).

The event (``eventType`` :data:`EVENT_TYPE`)::

    {"eventId": "...", "eventTime": "2026-12-07T21:40:00Z", "eventType": "AccumulatedBalanceStateChangeEvent",
     "event": {"accumulatedBalance": {"product": {"id": "p1"}, "creditState": "outOfCredit",
                                      "reason": "final_units", "stateChangeDate": "..."}}}

``creditState`` is ``outOfCredit`` (``reason``: refused, final_units, unpaid, debt) or ``inCredit``.
"""
from __future__ import annotations

import datetime
import time
import uuid

from ..ledger import events
from ..ocs.ports import Ledger
from .outbox import HUB_DOC, _wanted, enqueue

API = "prepayBalanceManagement/v4"            # the TMF654 API's hub (appliance.rest.tmf654.API)
EVENT_TYPE = "AccumulatedBalanceStateChangeEvent"
RESOURCE = "accumulatedBalance"
BACKLOG = 10_000          # events waiting per listener (rest.hub_backlog's default: the processes that
#                           change balances do not read the REST settings)


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def on_credit_event(ledger: Ledger, event: events.CreditEvent) -> None:
    if isinstance(event, events.OutOfCredit):
        state: dict[str, object] = {"creditState": "outOfCredit", "reason": event.reason}
    elif isinstance(event, events.CreditRestored):
        state = {"creditState": "inCredit"}
    else:
        return
    listeners = [hub_id for hub_id, doc in ledger.list_docs(HUB_DOC)
                 if doc.get("api") == API and _wanted(str(doc.get("query") or ""), EVENT_TYPE)]
    if not listeners:
        return
    queued = time.time()                  # the outbox's age of the event (its retry window)
    body = {"eventId": str(uuid.uuid4()), "eventTime": _iso(queued), "eventType": EVENT_TYPE,
            "event": {RESOURCE: {"product": {"id": event.product_id}, **state,
                                 "stateChangeDate": _iso(event.now)}}}
    for hub_id in listeners:
        enqueue(ledger, hub_id, body, queued, BACKLOG)


def subscribe() -> None:
    events.on_change(on_credit_event)
