"""The PCRF's subscription to the ledger's credit events (TS 29.212 §4.5.2, §4.5.17).

When the ledger (:mod:`appliance.ledger.book`) finds a product out of credit, or back in credit,
it emits an event inside the transaction of the balance change; :func:`on_credit_event` records
it in the product's policy state (:func:`~appliance.pcrf.tables.set_out_of_credit`), which queues
a Gx push for the product's live sessions when the flag changes.  The write commits or rolls
back with the balance change.
"""
from __future__ import annotations

from ..ledger import events
from ..ocs.ports import Ledger
from .tables import set_out_of_credit


def on_credit_event(ledger: Ledger, event: events.CreditEvent) -> None:
    if isinstance(event, events.OutOfCredit):
        set_out_of_credit(ledger, event.product_id, True)
    elif isinstance(event, events.CreditRestored):
        set_out_of_credit(ledger, event.product_id, False)


def subscribe() -> None:
    events.on_change(on_credit_event)
