"""TMF resource kinds and their writes, without HTTP: what the REST collections and the ledger share.

A :class:`Kind` maps a TMF resource's JSON shape to the store; its functions run inside ONE
store transaction, so a failed validation rolls back.  :func:`create_in`, :func:`update_in` and
:func:`remove_in` are a kind's writes as transaction functions: run by the REST process
(:mod:`appliance.rest.resources`), or, for a kind that changes balances, by the ledger
(:mod:`appliance.rest.ledger_ops`).  No HTTP server is imported here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..ocs.ports import Ledger
from . import tmf630
from .fields import ApiError

TMF = "/tmf-api"


@dataclass(frozen=True)
class Ctx:
    """What a mapping needs besides the ledger: money scale, currency, the time."""

    scale: int
    currency: str
    now: int


Listing = Callable[[Ledger, Ctx], list[dict[str, Any]]]
Getter = Callable[[Ledger, str, Ctx], "dict[str, Any] | None"]
Writer = Callable[[Ledger, str, dict[str, Any], Ctx, bool], dict[str, Any]]  # ..., create
Deleter = Callable[[Ledger, str, Ctx], bool]


@dataclass(frozen=True)
class Kind:
    api: str                       # "productCatalogManagement/v4"
    name: str                      # "productOffering"
    type: str                      # "ProductOffering"
    list_all: Listing
    get: Getter
    write: Writer | None = None    # create (exists=False) and replace-after-PATCH; returns the TMF doc
    delete: Deleter | None = None
    schema: dict[str, Any] | None = None
    patchable: bool = True
    id_from_body: bool = True      # POST may choose the id
    ledger: bool = False           # writes change balances: run by the ledger (the one door)
    name_is_id: bool = False       # without an id, the name is the id (offerings, tables)

    @property
    def base(self) -> str:
        return f"{TMF}/{self.api}/{self.name}"

    def href(self, ident: str) -> str:
        return f"{self.base}/{ident}"


def create_in(ledger: Ledger, kind: Kind, ident: str, ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    if kind.get(ledger, ident, ctx) is not None:
        raise ApiError(409, f"{kind.name} {ident!r} already exists")
    return kind.write(ledger, ident, body, ctx, True)  # type: ignore[misc]


def update_in(ledger: Ledger, kind: Kind, ident: str, ctx: Ctx, body: Any,
              patch_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    current = kind.get(ledger, ident, ctx)
    if current is None:
        raise ApiError(404, f"{kind.name} {ident!r} not found")
    patched = tmf630.apply_patch(patch_type, current, body, ("id", "href", "@type"))
    for key in ("href", "@type", "@baseType", "@schemaLocation"):
        patched.pop(key, None)
    return current, kind.write(ledger, ident, patched, ctx, False)  # type: ignore[misc]


def remove_in(ledger: Ledger, kind: Kind, ident: str, ctx: Ctx) -> dict[str, Any] | None:
    doc = kind.get(ledger, ident, ctx)
    if doc is not None:
        kind.delete(ledger, ident, ctx)  # type: ignore[misc]
    return doc
