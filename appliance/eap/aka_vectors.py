"""EAP-AKA/AKA' identity records in the store and the vector type the vector sources answer.

The method asks for vectors and identity records through the actions of
:mod:`appliance.eap.events`; :mod:`appliance.store.eap_actions` performs them (Milenage over the
store, or the SWx client of ``appliance.diameter.apps.swx`` against an HSS).  Pseudonyms and fast
re-authentication contexts (keys included) are store documents (kinds ``eap_aka_pseudonym`` /
``eap_aka_reauth``), so any worker or node can continue.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .events import PSEUDONYM_KIND, REAUTH_KIND, AkaVector

if TYPE_CHECKING:
    from ..ocs.ports import Ledger

__all__ = ["PSEUDONYM_KIND", "REAUTH_KIND", "AkaVector", "purge_expired"]


def purge_expired(ledger: Ledger, now: float, limit: int = 10_000) -> int:
    """Delete expired pseudonym and re-authentication documents (for housekeeping; bounded)."""
    dropped = 0
    for kind in (PSEUDONYM_KIND, REAUTH_KIND):
        for key, doc in ledger.list_docs(kind):
            if dropped >= limit:
                return dropped
            if float(doc.get("expires", 0)) <= now:
                ledger.delete_doc(kind, key)
                dropped += 1
    return dropped
