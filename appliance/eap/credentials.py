"""How EAP methods reach subscriber credentials (the only I/O a method may wait on).

A method never touches the store; it awaits a :class:`CredentialLookup`.  Two
implementations: :class:`StoreLookup` over the appliance store (the core's
``Ledger.find_service`` / ``Ledger.set_sqn``), and :class:`MemoryLookup` for
tests and for pure drivers.  Secrets stay inside ``Service.credentials``, whose
``repr`` hides them.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from ..ocs.inventory import Credentials, Service

if TYPE_CHECKING:
    from ..ocs.ports import Ledger, Store

log = logging.getLogger(__name__)


class CredentialLookup(Protocol):
    async def find_service(self, identity: str) -> Service | None:
        """The service whose IMSI, MSISDN, NAI or id equals ``identity`` (None: unknown)."""
        ...

    async def set_sqn(self, service_id: str, sqn: int) -> None:
        """Store the new highest SQN of a service (EAP-AKA/AKA' after each vector/resync)."""
        ...


class StoreLookup:
    """Lookup over an ``appliance.ocs.ports.Store``: a look-up on the store's read path when it has
    one (SQLite: the last committed snapshot, on the caller's thread, never queued behind writes),
    otherwise one transaction per call."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.read: Callable[[Callable[[Ledger], Service | None]], Service | None] | None = \
            getattr(store, "read", None)

    async def find_service(self, identity: str) -> Service | None:
        if self.read is not None:
            try:
                return self.read(lambda ledger: ledger.find_service(identity))
            except Exception as exc:             # busy or unreadable: the writer's transaction answers
                log.debug("credential read for %s failed: %s", identity, exc)
        service: Service | None = await self.store.atransact(lambda ledger: ledger.find_service(identity))
        return service

    async def set_sqn(self, service_id: str, sqn: int) -> None:
        await self.store.atransact(lambda ledger: ledger.set_sqn(service_id, sqn))


class MemoryLookup:
    """An in-memory lookup keyed by every identity of each service (tests, examples)."""

    def __init__(self, services: list[Service] | tuple[Service, ...] = ()) -> None:
        self.services: dict[str, Service] = {}
        for service in services:
            self.add(service)

    def add(self, service: Service) -> None:
        for identity in service.identities():
            self.services[identity] = service

    @classmethod
    def with_password(cls, identity: str, password: str) -> MemoryLookup:
        return cls([Service(identity, nai=identity, credentials=Credentials(password=password))])

    async def find_service(self, identity: str) -> Service | None:
        return self.services.get(identity)

    async def set_sqn(self, service_id: str, sqn: int) -> None:
        for key, service in list(self.services.items()):
            if service.id == service_id:
                self.services[key] = replace(service, credentials=replace(service.credentials, sqn=sqn))
