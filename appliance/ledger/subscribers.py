"""Who listens to the ledger's credit events in every process that changes balances.

Inside the transaction (what they write commits or rolls back with the balance change): the PCRF
(Gx pushes), RADIUS (the product queued for Disconnect-Requests to its other live sessions,
sent by a RADIUS worker: :mod:`appliance.radius.coa`) and the TMF hub (events queued for the
listeners of the balance API: :mod:`appliance.rest.balance_events`).  After commit: the SNMP
notifications (:mod:`appliance.telemetry.events`) and the counters kept by
:func:`appliance.ledger.events.dispatch`.  Called by :class:`LedgerClient`, so a
process cannot change balances without its subscribers.
"""
from __future__ import annotations


def install() -> None:
    from ..pcrf import credit
    from ..radius import coa
    from ..rest import balance_events
    from ..telemetry import events as telemetry_events
    credit.subscribe()                  # in the transaction: the PCRF's flag and Gx pushes
    coa.subscribe()                     # in the transaction: the product queued for Disconnect-Requests
    balance_events.subscribe()          # in the transaction: the TMF hub's outbox
    telemetry_events.subscribe()             # after commit: ocsOutOfCredit / ocsCreditRestored
