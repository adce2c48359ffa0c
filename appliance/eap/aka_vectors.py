"""Where EAP-AKA/AKA' gets authentication vectors and keeps its identities.

* :class:`VectorSource` -- ``vector(imsi, ...)`` and ``resync(imsi, rand, auts)``.  Local sources run
  Milenage over the subscriber's K/OPc/SQN (:class:`StoreVectors`: SQN read and advanced in ONE store
  transaction; :class:`LookupVectors` over a :class:`CredentialLookup`); the SWx client
  (``appliance.diameter.apps.swx``) implements the same protocol against an HSS (MAR/MAA).
* :class:`AkaDocs` -- pseudonyms and fast re-authentication contexts (keys included) as store
  documents (kinds ``eap_aka_pseudonym`` / ``eap_aka_reauth``), so any worker or node can continue.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import milenage
from .credentials import CredentialLookup

if TYPE_CHECKING:
    from ..ocs.ports import Ledger, Store

PSEUDONYM_KIND = "eap_aka_pseudonym"
REAUTH_KIND = "eap_aka_reauth"


@dataclass(frozen=True, slots=True)
class AkaVector:
    """RAND, AUTN, XRES, CK, IK; ``primed`` when an HSS already returned CK'/IK' (TS 29.273 §8.1.2.1)."""
    rand: bytes
    autn: bytes
    xres: bytes
    ck: bytes
    ik: bytes
    primed: bool = False

    def __repr__(self) -> str:
        return f"AkaVector(rand={self.rand.hex()}, primed={self.primed})"


class VectorSource(Protocol):
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
        def take(ledger: Ledger) -> tuple[str, milenage.Vector] | None:
            try:
                return milenage.take_vector(ledger, imsi, rand)
            except milenage.NoCredentials:
                return None
        got = await self.store.atransact(take)
        return None if got is None else (got[0], _from_milenage(got[1]))

    async def resync(self, imsi: str, rand: bytes, auts: bytes) -> bool:
        ok: bool = await self.store.atransact(lambda ledger: milenage.resynchronise(ledger, imsi, rand, auts))
        return ok


class LookupVectors:
    """Milenage vectors over a :class:`CredentialLookup` (tests; not atomic across processes)."""

    def __init__(self, lookup: CredentialLookup) -> None:
        self.lookup = lookup

    async def vector(self, imsi: str, rand: bytes, prime: bool, network_name: bytes
                     ) -> tuple[str | None, AkaVector] | None:
        svc = await self.lookup.find_service(imsi)
        if svc is None or not svc.enabled or not svc.credentials.k or not svc.credentials.opc:
            return None
        cred = svc.credentials
        sqn = milenage.next_sqn(cred.sqn)
        await self.lookup.set_sqn(svc.id, sqn)
        return svc.id, _from_milenage(milenage.generate(cred.k, cred.opc, cred.amf, sqn, rand))  # type: ignore[arg-type]

    async def resync(self, imsi: str, rand: bytes, auts: bytes) -> bool:
        svc = await self.lookup.find_service(imsi)
        if svc is None or not svc.credentials.k or not svc.credentials.opc:
            return False
        sqn_ms = milenage.auts_sqn(svc.credentials.k, svc.credentials.opc, rand, auts)
        if sqn_ms is None:
            return False
        await self.lookup.set_sqn(svc.id, sqn_ms)
        return True


class AkaDocs(Protocol):
    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def put(self, kind: str, key: str, doc: dict[str, Any]) -> None: ...

    async def put_all(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Several documents in one transaction (one durable write)."""
        ...

    async def take(self, kind: str, key: str) -> dict[str, Any] | None:
        """Get and delete in one step (a re-authentication id is single-use, RFC 4187 §5.1)."""
        ...


class StoreDocs:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.store.atransact(lambda ledger: ledger.get_doc(kind, key))
        return doc

    async def put(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        await self.store.atransact(lambda ledger: ledger.put_doc(kind, key, doc))

    async def put_all(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        def put(ledger: Ledger) -> None:
            for kind, key, doc in items:
                ledger.put_doc(kind, key, doc)
        await self.store.atransact(put)

    async def take(self, kind: str, key: str) -> dict[str, Any] | None:
        def take(ledger: Ledger) -> dict[str, Any] | None:
            doc: dict[str, Any] | None = ledger.get_doc(kind, key)
            if doc is not None:
                ledger.delete_doc(kind, key)
            return doc
        got: dict[str, Any] | None = await self.store.atransact(take)
        return got


class MemoryDocs:
    """In-process documents, bounded (oldest dropped first)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.docs.get((kind, key))

    async def put(self, kind: str, key: str, doc: dict[str, Any]) -> None:
        self.docs[(kind, key)] = doc
        while len(self.docs) > self.capacity:
            self.docs.pop(next(iter(self.docs)))

    async def put_all(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        for kind, key, doc in items:
            await self.put(kind, key, doc)

    async def take(self, kind: str, key: str) -> dict[str, Any] | None:
        return self.docs.pop((kind, key), None)


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
