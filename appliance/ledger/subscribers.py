"""Who listens to the ledger's credit events in every process that changes balances.

The PCRF (Gx pushes) subscribes inside the transaction; counters are kept by
:func:`appliance.ledger.events.dispatch` after commit.  Called by :class:`LedgerClient`, so a
process cannot change balances without its subscribers.
"""
from __future__ import annotations


def install() -> None:
    from ..pcrf import credit
    credit.subscribe()
