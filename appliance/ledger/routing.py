"""A front end's way to the ledger holding an operation's shard (``ledger.shards`` > 1, or nodes
forwarding to each other over TCP).

The front end keeps the owners' table (``ledger_owner``: read in one statement at the first call
and again when an answer says the table is stale) and what it learned of its hints' shards
(:func:`appliance.ledger.shards.hint`).  An operation goes to the owner of its shard when both are
known — this node's ledger by its Unix socket, another node's over TCP (challenge answered with
``ledger.secret``) — else to this node's first ledger.  A ledger that does not hold the shard
answers "not mine" with the owner it knows; the operation is sent there.  A dead owner
(connection refused or lost) makes the front end read the table again until another ledger has
taken the shard over, within ``processes.ledger_timeout``; what was in flight is resent (every
operation sent is idempotent), so a debit acknowledged by the dead owner is answered from its
remembered answer, never charged twice.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..telemetry import metrics
from . import sessions
from .remote import LedgerFailed, LedgerUnavailable, RemoteLedger
from .shards import Hint, hint, shard_of

log = logging.getLogger("appliance.ledger")

MAX_LEARNED = 200_000


class ShardedLedger:
    """:class:`~appliance.ledger.remote.RemoteLedger`'s interface over every ledger of the cluster."""

    def __init__(self, shards: int, node: str, local: str, timeout: float, interval: float,
                 read_owners: Callable[[], dict[int, tuple[str, str, str, int]]], secret: str | None) -> None:
        self.shards, self.node, self.path = shards, node, local
        self.timeout, self.interval, self.secret = timeout, interval, secret
        self.read_owners = read_owners
        self.owners: dict[int, tuple[str, str, str]] = {}
        self.learned: dict[Hint, int] = {}
        self.remotes: dict[str, RemoteLedger] = {}
        self.forwarded = 0                     # operations sent to another node's ledger
        self.redirected = 0                    # "not mine" answers followed
        self._loaded = False
        self._refresh: asyncio.Task[None] | None = None

    @property
    def resent(self) -> int:
        return sum(r.resent for r in self.remotes.values())

    def shard(self, h: Hint | None) -> int | None:
        if h is None:
            return None
        if h[0] == "p":
            return shard_of(h[1], self.shards)
        return self.learned.get(h)

    def target(self, shard: int | None) -> str:
        owner = self.owners.get(shard) if shard is not None else None
        if owner is None:
            return self.path
        node, socket, address = owner
        if node == self.node and socket:
            return socket
        return f"tcp:{address}" if address else self.path

    def _remote(self, target: str) -> RemoteLedger:
        r = self.remotes.get(target)
        if r is None:
            # a dead owner is noticed within two lease intervals, then the table is read again
            per_try = min(self.timeout, max(0.5, 2 * self.interval))
            r = self.remotes[target] = RemoteLedger(target, per_try, self.secret if target.startswith("tcp:")
                                                    else None)
        return r

    async def refresh(self) -> None:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(self._read())
        await asyncio.shield(self._refresh)

    async def _read(self) -> None:
        try:
            found = await asyncio.to_thread(self.read_owners)
        except Exception as exc:           # the database away: keep what is known
            log.warning("ledger owners not read: %s", exc)
            return
        self.owners = {k: v[:3] for k, v in found.items()}
        self._loaded = True

    def _learn(self, h: Hint | None, shard: int) -> None:
        if h is None or h[0] == "p":
            return
        if len(self.learned) >= MAX_LEARNED:
            self.learned.clear()
        self.learned[h] = shard

    async def call(self, op: str, args: tuple[Any, ...]) -> Any:
        loop = asyncio.get_running_loop()
        if not self._loaded:
            await self.refresh()
        h = hint(op, args)
        deadline = loop.time() + self.timeout
        while True:
            shard = self.shard(h)
            target = self.target(shard)
            try:
                if target.startswith("tcp:"):
                    self.forwarded += 1
                value = await self._remote(target).call(op, args)
            except LedgerFailed as exc:
                if exc.name != "NotMine" or not isinstance(exc.detail, (tuple, list)) or len(exc.detail) != 4:
                    raise
                shard, node, socket, address = exc.detail
                self._learn(h, shard)
                self.redirected += 1
                metrics.inc("ledger.client.not_mine")
                if node:
                    self.owners[shard] = (node, socket, address)
                if not node or self.target(shard) == target:      # no owner yet: a takeover under way
                    if loop.time() >= deadline:
                        raise LedgerUnavailable(f"no ledger holds shard {shard}") from None
                    await asyncio.sleep(self.interval / 2)
                    await self.refresh()
                continue
            except LedgerUnavailable:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(self.interval / 2)      # the owner died: wait for its successor
                await self.refresh()
                continue
            if op == "credit_control" and shard is not None and args[1] in (sessions.INITIAL, sessions.EVENT):
                self._learn(("s", args[0][1]), shard)        # the session's updates go straight there
            return value

    def close(self) -> None:
        for r in self.remotes.values():
            r.close()


def sharded_remote(cfg: Any) -> ShardedLedger:
    from ..store.leases import read_owners
    from .server import socket_path
    return ShardedLedger(cfg.ledger.shards, cfg.node.name, str(socket_path(cfg)), cfg.processes.ledger_timeout,
                         cfg.ledger.lease_interval, lambda: read_owners(cfg), cfg.ledger.secret or None)


def call_routed(cfg: Any, name: str, args: tuple[Any, ...]) -> Any:
    """One named operation to its shard's owner, for a command without an event loop (the CLI)."""
    router = sharded_remote(cfg)

    async def one() -> Any:
        try:
            return await router.call(name, args)
        finally:
            router.close()
    return asyncio.run(one())
