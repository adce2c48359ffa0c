"""Shards of the ledger: which ledger process may change a product's balances.

Balances, reservations and remembered answers belong to a product; the product's shard is a
stable hash of its id (:func:`shard_of`, CRC-32: the same in every process and release, unlike
``hash()``), over the fixed count ``ledger.shards`` recorded in the store.  A ledger executes an
operation only when it holds the lease of the operation's shard; otherwise it answers
:class:`NotMine` with the owner it knows, and the front end sends the operation there.

Routing is decided before an operation runs, from its arguments:

* a front end computes a *hint* (:func:`hint`) without the store: the product id itself
  (``top_up``, ``refused``: its shard is known at once), or an identity, a credit-control session
  or a bucket, whose shard it learns from the first ``NotMine`` answer and keeps;
* the ledger resolves the hint to the product (:func:`product_key`, one read: the identity's
  product, the session record's subscriber, the bucket's product) and checks its leases.

Operations without a hint (housekeeping's sweep, bulk import's initial balances,
Accounting-On/Off, a TMF654 write naming neither product nor bucket) run on whichever ledger
receives them; the store's row locks keep them correct as before (they are not sharded yet).
"""
from __future__ import annotations

import zlib
from typing import Any

from ..ocs.ports import Ledger
from . import sessions

Hint = tuple[str, str]


class NotMine(Exception):
    """The operation's shard is held by another ledger: ``owner`` is (node, socket, address) or None."""

    def __init__(self, shard: int, owner: tuple[str, str, str] | None) -> None:
        super().__init__(f"shard {shard} is not this ledger's")
        self.shard, self.owner = shard, owner


def shard_of(key: str, shards: int) -> int:
    """The shard of a product id (or of an unresolvable hint's value): stable across processes."""
    return zlib.crc32(key.encode("utf-8")) % shards if shards > 1 else 0


def hint(name: str, args: tuple[Any, ...]) -> Hint | None:
    """What a front end knows of an operation's owner before sending it: ("p", product id),
    ("i", identity), ("s", credit-control session), ("b", bucket id), or None (any ledger)."""
    if name == "credit_control":
        wire, request_type, candidates = args[0], args[1], args[2]
        if request_type in (sessions.UPDATE, sessions.TERMINATION):
            return "s", wire[1]
        return "i", candidates[0] if candidates else wire[0]
    if name in ("charge", "quota_debit", "nrf_rate"):      # a wire request first: its subscriber
        return "i", args[0][0]
    if name == "radius_account":                            # (status, key, subscriber, ...)
        return "i", args[2]
    if name == "top_up":
        return "p", args[2]
    if name == "remove_bucket":
        return "b", str(args[2])
    if name == "refused":
        return "p", args[0]
    if name.startswith("wallet_"):                          # (key, now, wallet = its product's id, ...)
        return "p", args[2]
    if name in ("rest_create", "rest_update", "rest_remove"):
        return _resource_hint(args)
    return None


def _resource_hint(args: tuple[Any, ...]) -> Hint | None:
    """A TMF654 resource write, (key, now, api, kind, id, scale, currency[, body ...]): the product
    its body names, else the bucket it names, else the bucket it is (a bucket's update or removal)."""
    body = args[7] if len(args) > 7 and isinstance(args[7], dict) else {}
    for field, kind in (("product", "p"), ("bucket", "b")):
        ref = body.get(field)
        ident = ref.get("id") if isinstance(ref, dict) else None
        if isinstance(ident, str) and ident and (kind == "p" or _bucket_id(ident)):
            return kind, ident
    if args[3] == "bucket" and isinstance(args[4], str) and _bucket_id(args[4]):
        return "b", args[4]
    return None


def _bucket_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 18


def product_key(l: Ledger, name: str, args: tuple[Any, ...], h: Hint) -> str:
    """The key whose shard owns the operation: its product's id when the store knows it, else the
    hint's own value (an unknown subscriber or session changes no balance)."""
    kind, value = h
    if kind == "p":
        return value
    if kind == "s":
        doc = l.read_doc(sessions.SESSION_DOC, value)
        identity = doc["s"] if doc is not None else args[0][0]
        if not identity:
            return value
        kind, value = "i", identity
    if kind == "b":
        bucket = l.get_bucket(int(value))
        return bucket.product_id if bucket is not None else value
    candidates = tuple(args[2]) if name == "credit_control" and len(args[2]) > 1 else (value,)
    for identity in candidates:
        _service, product = l.find_subscriber(identity)
        if product is not None:
            return product.id
    return value


class Ownership:
    """A ledger's view of the shards: those it holds (its leases), the owners of the others (from
    ``ledger_owner``), and the products its hints resolved to (bounded)."""

    MAX_CACHED = 200_000

    def __init__(self, shards: int, node: str) -> None:
        self.shards, self.node = shards, node
        self.held: set[int] = set()
        self.epochs: dict[int, int] = {}       # shard -> this ledger's owner epoch (its fence)
        self.owners: dict[int, tuple[str, str, str]] = {}
        self.keys: dict[Hint, str] = {}

    def cached(self, h: Hint) -> str | None:
        return h[1] if h[0] == "p" else self.keys.get(h)

    def learn(self, h: Hint, key: str) -> None:
        if key == h[1] or h[0] == "b":
            return                        # unresolved (unknown to the store) or a bucket: not kept
        if len(self.keys) >= self.MAX_CACHED:
            self.keys.clear()
        self.keys[h] = key

    def drop(self, shard: int) -> None:
        """A shard found taken over (its fence failed): not executed here any more."""
        self.held.discard(shard)
        self.epochs.pop(shard, None)
        self.owners.pop(shard, None)

    def refusal(self, key: str) -> NotMine | None:
        """None when this ledger holds the key's shard, else the answer to give."""
        shard = shard_of(key, self.shards)
        if shard in self.held:
            return None
        return NotMine(shard, self.owners.get(shard))
