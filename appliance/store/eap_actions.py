"""The store's side of the sans-I/O EAP methods: performs the actions of
:mod:`appliance.eap.events` (FreeRADIUS's ``load_pseudonym`` / ``load_session`` /
``store_session`` sections, and the vector request) and returns the replies.

One durable transaction per action: a local vector reads K/OPc/SQN and writes the next SQN
together (after a resynchronisation from AUTS in the same transaction, TS 33.102 §6.3.5); the
next pseudonym and re-authentication context are written together; a re-authentication context
is read and deleted together (single-use, RFC 4187 §5.1).  Vectors for realms served by an HSS
come from the :class:`VectorSource` given (the SWx client, TS 29.273 §8.1.2.1).

The SQN advance is durable before the challenge goes out.  The next pseudonym and
re-authentication context are not waited for (``wait_identities=False``, the default): the
success goes out while the write is queued.  This worker's next LoadPseudonym/LoadSession waits
for its queued writes first, so it sees them on every backend; a crash in the few
milliseconds before its commit, or another worker asking first, only costs the peer a full
authentication (the server asks for the permanent identity, RFC 4187 §4.1.5).  It saves one
durable commit per authentication (docs/performance.md, EAP latency).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..eap import milenage
from ..eap.credentials import StoreLookup
from ..eap.events import (
    PSEUDONYM_KIND,
    REAUTH_KIND,
    Action,
    AkaVector,
    FindService,
    LoadPseudonym,
    LoadSession,
    NeedVector,
    NoVector,
    PseudonymRecord,
    ReauthSession,
    Reply,
    StoreSession,
    Vector,
)

if TYPE_CHECKING:
    from ..ocs.ports import Ledger, Store

log = logging.getLogger(__name__)
MAX_QUEUED_WRITES = 256        # identity writes not waited for, at most; past it the method waits


class VectorSource(Protocol):
    """Where vectors come from for one conversation (local Milenage or an HSS)."""

    async def vector(self, imsi: str, rand: bytes, prime: bool, network_name: bytes
                     ) -> tuple[str | None, AkaVector] | None:
        """(service id, vector) for a subscriber, or None when unknown / not allowed."""
        ...

    async def resync(self, imsi: str, rand: bytes, auts: bytes) -> bool:
        """Resynchronise SQN from AUTS (TS 33.102 §6.3.5); False when AUTS does not verify."""
        ...


def _from_milenage(v: milenage.Vector) -> AkaVector:
    return AkaVector(v.rand, v.autn, v.xres, v.ck, v.ik)


class StoreVectors:
    """Milenage vectors from the store: one transaction reads K/OPc/SQN and writes the next SQN."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def vector(self, imsi: str, rand: bytes, prime: bool, network_name: bytes
                     ) -> tuple[str | None, AkaVector] | None:
        got = await self.store.atransact(lambda ledger: _take(ledger, imsi, rand))
        return None if got is None else (got[0], _from_milenage(got[1]))

    async def resync(self, imsi: str, rand: bytes, auts: bytes) -> bool:
        ok: bool = await self.store.atransact(lambda ledger: milenage.resynchronise(ledger, imsi, rand, auts))
        return ok


def _take(ledger: Ledger, imsi: str, rand: bytes) -> tuple[str, milenage.Vector] | None:
    try:
        return milenage.take_vector(ledger, imsi, rand)
    except milenage.NoCredentials:
        return None


class EapActions:
    """Performs EAP method actions over a store; ``vectors`` (default: Milenage over the same
    store) answers :class:`~appliance.eap.events.NeedVector`."""

    def __init__(self, store: Store, vectors: VectorSource | None = None, wait_identities: bool = False) -> None:
        self.store = store
        self.vectors = vectors
        self.wait_identities = wait_identities
        self.queued: set[asyncio.Future[None]] = set()
        self._handlers: dict[type, Callable[[Any], Awaitable[Reply]]] = {
            NeedVector: self.need_vector, LoadPseudonym: self.load_pseudonym, LoadSession: self.load_session,
            StoreSession: self.store_session, FindService: self.find_service}

    async def perform(self, action: Action) -> Reply:
        return await self._handlers[type(action)](action)

    async def need_vector(self, need: NeedVector) -> Vector | NoVector:
        if self.vectors is not None:                  # an HSS: resync MAR, then the vector it brought
            if need.auts is not None and not await self.vectors.resync(need.imsi, need.resync_rand, need.auts):
                return NoVector("bad_auts")
            got = await self.vectors.vector(need.imsi, need.rand, need.prime, need.network_name)
            return NoVector("unknown") if got is None else Vector(*got)

        def local(ledger: Ledger) -> Vector | NoVector:
            if need.auts is not None and not milenage.resynchronise(ledger, need.imsi, need.resync_rand, need.auts):
                return NoVector("bad_auts")
            taken = _take(ledger, need.imsi, need.rand)
            return NoVector("unknown") if taken is None else Vector(taken[0], _from_milenage(taken[1]))
        answer: Vector | NoVector = await self.store.atransact(local)
        return answer

    async def _settled(self) -> None:
        """Wait for this worker's identity writes still queued (read your writes)."""
        if self.queued:
            await asyncio.wait(set(self.queued))

    async def load_pseudonym(self, load: LoadPseudonym) -> PseudonymRecord | None:
        await self._settled()
        doc = await self.store.atransact(lambda ledger: ledger.get_doc(PSEUDONYM_KIND, load.pseudonym))
        return None if doc is None else PseudonymRecord.of(load.pseudonym, doc)

    async def load_session(self, load: LoadSession) -> ReauthSession | None:
        await self._settled()
        def take(ledger: Ledger) -> dict[str, Any] | None:
            doc: dict[str, Any] | None = ledger.get_doc(REAUTH_KIND, load.reauth_id)
            if doc is not None:
                ledger.delete_doc(REAUTH_KIND, load.reauth_id)
            return doc
        doc = await self.store.atransact(take)
        return None if doc is None else ReauthSession.of(load.reauth_id, doc)

    async def store_session(self, save: StoreSession) -> None:
        def put(ledger: Ledger) -> None:
            if save.pseudonym is not None:
                ledger.put_doc(PSEUDONYM_KIND, save.pseudonym.pseudonym, save.pseudonym.doc())
            if save.session is not None:
                ledger.put_doc(REAUTH_KIND, save.session.reauth_id, save.session.doc())
        if self.wait_identities or len(self.queued) >= MAX_QUEUED_WRITES:
            await self.store.atransact(put)
            return
        fut: asyncio.Future[None] = asyncio.ensure_future(self.store.atransact(put))
        self.queued.add(fut)
        fut.add_done_callback(self._written)

    def _written(self, fut: asyncio.Future[None]) -> None:
        self.queued.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            log.error("EAP-AKA identities not stored (the peer's next authentication is a full one): %s",
                      fut.exception())

    async def find_service(self, find: FindService) -> Reply:
        return await StoreLookup(self.store).find_service(find.identity)
