"""Policy tables in the store (documents of kind ``policy_table``) and their management.

Every function here takes a :class:`~appliance.ocs.ports.Ledger` and runs inside
the caller's transaction, so the CLI, the REST API and the Gx workers share them.
Changes that affect live Gx sessions queue a push (``gx_push`` documents) which
the Diameter worker holding the session turns into an RAR (TS 29.212 §4.5.2).
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from ..ocs.catalog import subscribed_offer
from ..ocs.policy import PolicyRule, PolicyTable, reset_due, table_name_for
from ..ocs.ports import Ledger
from ..ocs.usable import product_active

KIND_TABLE = "policy_table"
KIND_SESSION = "gx_session"
KIND_BY_PRODUCT = "gx_by_product"     # key "<product>|<session-id>": the sessions of a product
KIND_PUSH = "gx_push"                 # key session id: a re-provisioning (RAR) to send
KIND_USAGE = "gx_usage"               # key product id: {"used": {monitoring key: octets},
#                                       "periods": {key: period start last reset}, "out_of_credit": bool}


class PolicyError(ValueError):
    """An operator request that cannot be applied (unknown table, rule in use ...)."""


_PARSED: dict[str, tuple[str, PolicyTable]] = {}     # name -> (revision, table): skips re-validation


def get_table(ledger: Ledger, name: str) -> PolicyTable | None:
    doc = ledger.get_doc(KIND_TABLE, name)
    if doc is None:
        return None
    rev = doc.get("rev")
    cached = _PARSED.get(name)
    if cached is not None and rev is not None and cached[0] == rev:
        return cached[1]
    table = PolicyTable.from_doc(doc)
    if isinstance(rev, str):
        if len(_PARSED) > 4096:
            _PARSED.clear()
        _PARSED[name] = (rev, table)
    return table


def list_tables(ledger: Ledger) -> list[PolicyTable]:
    return [PolicyTable.from_doc(doc) for _key, doc in ledger.list_docs(KIND_TABLE)]


def put_table(ledger: Ledger, table: PolicyTable) -> int:
    """Create or replace a table; returns the number of Gx sessions queued for a push."""
    # a fresh random revision per write: a parsed copy is reused only while the document is unchanged
    ledger.put_doc(KIND_TABLE, table.name, {**table.to_doc(), "rev": secrets.token_hex(8)})
    return queue_for_table(ledger, table.name, "table changed")


def table_users(ledger: Ledger, name: str) -> tuple[list[str], list[str]]:
    """(offers, products) that reference table ``name``."""
    offers = [o.name for o in ledger.list_offers() if o.policy_table == name]
    products = [p.id for p in ledger.list_products() if p.policy_table == name]
    return offers, products


def delete_table(ledger: Ledger, name: str, force: bool = False) -> int:
    if ledger.get_doc(KIND_TABLE, name) is None:
        raise PolicyError(f"no such policy table: {name}")
    offers, products = table_users(ledger, name)
    if (offers or products) and not force:
        raise PolicyError(f"policy table {name} is used by offers {offers} and products {products} "
                          "(detach it first or force)")
    queued = queue_for_table(ledger, name, "table deleted")
    ledger.delete_doc(KIND_TABLE, name)
    return queued


def put_rule(ledger: Ledger, table_name: str, rule: PolicyRule) -> int:
    table = _need_table(ledger, table_name)
    return put_table(ledger, table.with_rule(rule))


def delete_rule(ledger: Ledger, table_name: str, rule_name: str) -> int:
    table = _need_table(ledger, table_name)
    if table.rule(rule_name) is None:
        raise PolicyError(f"no rule {rule_name} in policy table {table_name}")
    if rule_name in table.throttle_rules():
        raise PolicyError(f"rule {rule_name} is the throttle rule of a monitoring key of {table_name}")
    return put_table(ledger, table.without_rule(rule_name))


def attach_offer(ledger: Ledger, offer_name: str, table_name: str | None) -> int:
    """Point an offer at a table (``None`` detaches); pushes to its subscribers' sessions."""
    offer = ledger.get_offer(offer_name)
    if offer is None:
        raise PolicyError(f"no such offer: {offer_name}")
    if table_name is not None:
        _need_table(ledger, table_name)
    ledger.put_offer(replace(offer, policy_table=table_name))
    queued = 0
    for product in ledger.list_products():
        if product.offer == offer_name and not product.policy_table:
            queued += queue_for_product(ledger, product.id, "offer policy changed")
    return queued


def attach_product(ledger: Ledger, product_id: str, table_name: str | None) -> int:
    """Override a product's table (``None`` falls back to the offer's)."""
    product = ledger.get_product(product_id)
    if product is None:
        raise PolicyError(f"no such product: {product_id}")
    if table_name is not None:
        _need_table(ledger, table_name)
    ledger.put_product(replace(product, policy_table=table_name))
    return queue_for_product(ledger, product_id, "product policy changed")


def change_offer(ledger: Ledger, product_id: str, offer_name: str) -> int:
    """Move a subscriber's product to another offer and push the new policy."""
    product = ledger.get_product(product_id)
    if product is None:
        raise PolicyError(f"no such product: {product_id}")
    if ledger.get_offer(offer_name) is None:
        raise PolicyError(f"no such offer: {offer_name}")
    ledger.put_product(replace(product, offer=offer_name))
    return queue_for_product(ledger, product_id, "offer changed")


def reset_usage(ledger: Ledger, product_id: str, key: str | None = None) -> int:
    """Start a new usage-monitoring period (all keys, or one) and push to the product's sessions."""
    doc = ledger.get_doc(KIND_USAGE, product_id) or {"used": {}}
    if key is None:
        doc["used"] = {}
    else:
        doc["used"].pop(key, None)
    ledger.put_doc(KIND_USAGE, product_id, doc)
    return queue_for_product(ledger, product_id, "usage reset")


def reset_periods(ledger: Ledger, now: int, limit: int = 1000) -> tuple[int, int]:
    """Housekeeping: start a new usage-monitoring period for the keys whose period (a quota's
    ``reset``) has turned; returns (keys reset, Gx sessions queued for a push).  At most
    ``limit`` products are written per call (the next pass goes on).

    The period start reset last is kept per key in ``gx_usage/<product>`` (``periods``), so a
    pass that runs twice or late resets once per period.  Periods are anchored like recurring
    fees: the product's ``start``, else its ``created`` characteristic (stamped now if absent).
    """
    tables = {t.name: t for t in list_tables(ledger) if any(m.reset for m in t.monitoring)}
    if not tables:
        return 0, 0
    offers = {o.name: o for o in ledger.list_offers()}
    resets = queued = written = 0
    for product in ledger.list_products():
        if not product_active(product, now):
            continue
        table = tables.get(table_name_for(offers.get(product.offer), product) or "")
        if table is None:
            continue
        anchor = product.start if product.start is not None else product.characteristics.get("created")
        if anchor is None:
            anchor = now     # first seen: anchored here, as recurring fees do
            ledger.put_product(replace(product, characteristics={**product.characteristics, "created": now}))
        doc = ledger.get_doc(KIND_USAGE, product.id) or {"used": {}}
        last = {str(k): int(v) for k, v in doc.get("periods", {}).items()}
        periods, due = reset_due(table.monitoring, int(anchor), last, now)
        if not due and all(last.get(k) == v for k, v in periods.items()):
            continue
        used = doc.setdefault("used", {})
        cleared = [key for key in due if used.pop(key, 0)]
        doc["periods"] = {**doc.get("periods", {}), **periods}
        ledger.put_doc(KIND_USAGE, product.id, doc)
        resets += len(due)
        written += 1
        if cleared:             # nothing changes for a session when no octets were counted
            queued += queue_for_product(ledger, product.id, "usage period")
        if written >= limit:    # bound one transaction; the next pass goes on
            break
    return resets, queued


def usage(ledger: Ledger, product_id: str) -> dict[str, int]:
    doc = ledger.get_doc(KIND_USAGE, product_id)
    return {str(k): int(v) for k, v in doc["used"].items()} if doc else {}


def usage_periods(ledger: Ledger, product_id: str) -> dict[str, int]:
    """Start (epoch s) of the usage-monitoring period each periodic key was last reset for."""
    doc = ledger.get_doc(KIND_USAGE, product_id)
    return {str(k): int(v) for k, v in doc.get("periods", {}).items()} if doc else {}


def effective_table(ledger: Ledger, product_id: str) -> PolicyTable | None:
    product = ledger.get_product(product_id)
    if product is None:
        return None
    offer = subscribed_offer(ledger.get_offer, product.offer)   # a bundle may take a member's table
    name = table_name_for(offer, product)
    return get_table(ledger, name) if name else None


# --- push queue --------------------------------------------------------------------------------

def queue_push(ledger: Ledger, session_id: str, reason: str, force: bool = False) -> None:
    """Queue (or re-queue: the sequence number grows) a push for one session.  ``force``: an RAR
    is sent even when the session's rules are already what the policy wants (an operator's
    re-authorization); otherwise such a push is dropped without an RAR."""
    old = ledger.get_doc(KIND_PUSH, session_id) or {}
    doc = {"reason": reason, "seq": old.get("seq", 0) + 1}
    if force or old.get("force"):
        doc["force"] = True
    ledger.put_doc(KIND_PUSH, session_id, doc)


def queue_for_product(ledger: Ledger, product_id: str, reason: str) -> int:
    sessions = [key.split("|", 1)[1] for key, _doc in ledger.list_docs(KIND_BY_PRODUCT, product_id + "|")]
    for session_id in sessions:
        queue_push(ledger, session_id, reason)
    return len(sessions)


def queue_for_table(ledger: Ledger, name: str, reason: str) -> int:
    """Queue every session whose product uses table ``name`` (directly or through its offer)."""
    offers = {o.name for o in ledger.list_offers() if o.policy_table == name}
    queued = 0
    for product in ledger.list_products():
        if product.policy_table == name or (not product.policy_table and product.offer in offers):
            queued += queue_for_product(ledger, product.id, reason)
    return queued


def queue_for_identity(ledger: Ledger, identity: str, reason: str) -> int:
    """Queue the sessions of the subscriber ``identity`` (service id, IMSI, MSISDN, NAI)."""
    service = ledger.find_service(identity)
    if service is None or service.product_id is None:
        raise PolicyError(f"unknown subscriber: {identity}")
    return queue_for_product(ledger, service.product_id, reason)


def pending_pushes(ledger: Ledger, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
    return ledger.list_docs(KIND_PUSH)[:limit]


def set_out_of_credit(ledger: Ledger, product_id: str, out: bool) -> int:
    """Called when Ro/RADIUS credit runs out (or is topped up): the table's ``credit_throttle``
    rule replaces the others while ``out`` holds.  Returns the sessions queued for a push."""
    doc = ledger.get_doc(KIND_USAGE, product_id) or {"used": {}}
    if bool(doc.get("out_of_credit")) == out:
        return 0
    doc["out_of_credit"] = out
    ledger.put_doc(KIND_USAGE, product_id, doc)
    return queue_for_product(ledger, product_id, "out of credit" if out else "credit restored")


def _need_table(ledger: Ledger, name: str) -> PolicyTable:
    table = get_table(ledger, name)
    if table is None:
        raise PolicyError(f"no such policy table: {name}")
    return table


def set_out_of_credit_for(ledger: Ledger, identity: str, out: bool) -> int:
    """:func:`set_out_of_credit` by subscriber identity (service id, IMSI, MSISDN, NAI); 0 if unknown."""
    service = ledger.find_service(identity)
    if service is None or service.product_id is None:
        return 0
    return set_out_of_credit(ledger, service.product_id, out)
