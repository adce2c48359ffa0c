"""The ledger's shard leases kept alive, and the authentication of other nodes' front ends.

:func:`keep_leases` runs beside a ledger that enforces shards (``ledger.shards`` > 1 or a TCP
``ledger.listen``): every ``ledger.lease_interval`` it checks the leases it holds (a lost
PostgreSQL session loses them all: the ledger stops executing those shards at once) and tries to
take the shards it prefers (:func:`preferred`: ``shard % (ledger.nodes × processes.ledger)`` is
its slot, ``ledger.node_index × processes.ledger + index``) and, once it has
run for :data:`START_GRACE` (and two intervals), any shard nobody holds (its owner died): a shard
is taken over within about two intervals of its owner's death.  A shard is not handed back when
its preferred ledger restarts; it stays with its holder until that one stops.  A shard taken is
written to ``ledger_owner`` by its new holder.

A front end of another node connects over TCP and proves it knows ``ledger.secret`` before any
frame is decoded (``marshal`` frames are for trusted peers only), and the ledger proves it too:
the ledger sends 32 random octets; the front end answers HMAC-SHA256(secret, "peer" label ‖ the
ledger's nonce) and 32 random octets of its own; the ledger answers HMAC-SHA256(secret, "ledger"
label ‖ the front end's nonce).  Both compare in constant time.  A wrong answer closes the
connection and counts ``ledger.peers_refused``; the secret is never logged.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import os
from typing import Any

from .shards import Ownership

log = logging.getLogger("appliance.ledger")

NONCE = 32
_PEER = b"appliance-ledger-peer\x00"
_LEDGER = b"appliance-ledger-owner\x00"
AUTH_TIMEOUT = 5.0                   # seconds a peer has to answer the challenge
START_GRACE = 3.0                    # seconds before a starting ledger takes shards it does not prefer


def challenge() -> bytes:
    return os.urandom(NONCE)


def proof(secret: str, nonce: bytes, ledger: bool = False) -> bytes:
    """What a front end (``ledger`` False) or a ledger (True) answers to the other side's nonce."""
    return hmac.new(secret.encode("utf-8"), (_LEDGER if ledger else _PEER) + nonce, hashlib.sha256).digest()


def verify(secret: str, nonce: bytes, answer: bytes, ledger: bool = False) -> bool:
    return hmac.compare_digest(proof(secret, nonce, ledger), answer)


def preferred(shards: int, index: int, count: int, node_index: int = 0, nodes: int = 1) -> list[int]:
    """The shards ledger ``index`` of ``count`` on node ``node_index`` of ``nodes`` takes first."""
    slots = max(count, 1) * nodes
    mine = node_index * max(count, 1) + index
    return [k for k in range(shards) if k % slots == mine % slots]


async def keep_leases(ownership: Ownership, leases: Any, me: tuple[str, str, str], first: list[int],
                      interval: float, stop: asyncio.Event) -> None:
    """Hold this ledger's shards for as long as it runs (see the module's text); ``first``: the
    shards it prefers (:func:`preferred`)."""
    preferred = list(first)
    others = [k for k in range(ownership.shards) if k not in first]
    turns = 0
    # the others are left to their preferred ledgers while those start (a supervisord start takes seconds)
    grace = max(2, math.ceil(START_GRACE / interval))
    while not stop.is_set():
        try:
            if not await asyncio.to_thread(leases.check):
                if ownership.held:
                    log.error("ledger: lease session lost; shards %s no longer held", sorted(ownership.held))
                ownership.held.clear()
                ownership.epochs.clear()
            for shard in preferred + (others if turns >= grace else []):
                if shard in ownership.held:
                    continue
                if await asyncio.to_thread(leases.take, shard):
                    ownership.epochs[shard] = await asyncio.to_thread(leases.write_owner, shard, me)
                    ownership.held.add(shard)
                    log.info("ledger: shard %d taken (node %s)", shard, me[0])
            found = await asyncio.to_thread(leases.owners)
            ownership.owners = {k: v[:3] for k, v in found.items() if k not in ownership.held}
        except Exception as exc:          # the database away: keep what is held, try again
            log.warning("ledger: leases not renewed this turn: %s", exc)
        turns += 1
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
