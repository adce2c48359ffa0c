"""TMF637 Product Inventory v4: ``product`` = the core's :class:`Product` (a subscription to an offer).

``productOffering`` names the offer; ``status`` is TMF's ProductStatusType (the core charges only
``active`` products); ``startDate``/``terminationDate`` bound it; the product characteristic
``policyTable`` selects a PCRF policy table, the others are kept as they are.  Changing the
offering or the policy table queues a Gx push (RAR) for the product's live sessions.
"""
from __future__ import annotations

from typing import Any

from ..ocs.inventory import Product
from ..ocs.ports import Ledger
from ..pcrf.tables import queue_for_product
from .http import ApiError, check_fields, get_list, get_str, iso, need_object, need_str, parse_iso, plain, ref_id
from .resources import Ctx, Kind, collection_routes
from .routes import REF, STR, Route, arr, obj

API = "productInventory/v4"
OFFERING_HREF = "/tmf-api/productCatalogManagement/v4/productOffering/"
STATUSES = ("created", "pendingActive", "cancelled", "active", "pendingTerminate", "suspended", "aborted",
            "terminated")
FIELDS = ("id", "name", "description", "status", "productOffering", "startDate", "terminationDate",
          "productCharacteristic")


def product_out(p: Product) -> dict[str, Any]:
    chars = dict(p.characteristics)
    name = chars.pop("@name", p.id)
    doc: dict[str, Any] = {"id": p.id, "href": PRODUCT.href(p.id), "name": name, "status": p.status,
                           "productOffering": {"id": p.offer, "name": p.offer, "href": OFFERING_HREF + p.offer},
                           "productCharacteristic": [{"name": k, "value": v} for k, v in sorted(chars.items())],
                           "@type": "Product"}
    if p.policy_table:
        doc["productCharacteristic"].append({"name": "policyTable", "value": p.policy_table})
    if p.start is not None:
        doc["startDate"] = iso(p.start)
    if p.end is not None:
        doc["terminationDate"] = iso(p.end)
    return doc


def product_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    where = "product"
    check_fields(body, FIELDS, where)
    offer = ref_id(body, "productOffering", where)
    if offer is None:
        raise ApiError(400, f"{where}.productOffering is required")
    if ledger.get_offer(offer) is None:
        raise ApiError(422, f"{where}: productOffering {offer!r} does not exist")
    status = get_str(body, "status", where) or "active"
    if status not in STATUSES:
        raise ApiError(400, f"{where}.status must be one of {', '.join(STATUSES)}")
    chars: dict[str, Any] = {}
    policy = None
    for i, entry in enumerate(get_list(body, "productCharacteristic", where, 256)):
        entry = need_object(entry, f"{where}.productCharacteristic[{i}]")
        check_fields(entry, ("name", "value", "valueType", "@type"), f"{where}.productCharacteristic[{i}]")
        cname = need_str(entry, "name", f"{where}.productCharacteristic[{i}]")
        if cname == "policyTable":
            policy = get_str(entry, "value", f"{where}.productCharacteristic[{i}]")
        else:
            chars[cname] = plain(entry.get("value"))
    name = get_str(body, "name", where)
    if name and name != ident:
        chars["@name"] = name
    get_str(body, "description", where, max_len=2048)
    product = Product(ident, offer, parse_iso(body.get("startDate"), f"{where}.startDate"),
                      parse_iso(body.get("terminationDate"), f"{where}.terminationDate"), policy, status, chars)
    old = None if create else ledger.get_product(ident)
    ledger.put_product(product)
    if old is not None and (old.offer, old.policy_table) != (product.offer, product.policy_table):
        queue_for_product(ledger, ident, "offer changed")     # live Gx sessions get the new policy
    return product_out(product)


PRODUCT = Kind(API, "product", "Product",
               lambda l, c: [product_out(p) for p in sorted(l.list_products(), key=lambda p: p.id)],
               lambda l, i, c: (lambda p: product_out(p) if p else None)(l.get_product(i)),
               product_write, lambda l, i, c: l.delete_product(i),
               obj({"id": STR, "name": STR, "description": STR, "status": {"enum": list(STATUSES)},
                    "productOffering": REF, "startDate": STR, "terminationDate": STR,
                    "productCharacteristic": arr(obj({"name": STR, "value": {}, "valueType": STR}, ("name",)))},
                   ("productOffering",)))


def routes() -> list[Route]:
    return collection_routes(PRODUCT)
