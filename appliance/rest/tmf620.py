"""TMF620 Product Catalog Management v4: productOffering, productOfferingPrice, productSpecification, catalog.

A productOffering is the core's :class:`Offer` (``id`` = offer name); its prices are
productOfferingPrices (stored as documents ``tmf_pop``) resolved into core :class:`Price`
objects when the offering is written, and re-resolved in every offering that uses a price
when that price is PATCHed.  Price extensions (not in TMF620, documented in docs/rest.md):
``serviceType``, ``ratingGroup`` (list of integers), ``tariffTable``, ``roamingTable``,
``overdraft``, ``allowance`` (list of ``{"amount", "units"}`` granted with a recurring or one-time
fee), ``rollover`` (periods an unused recurring allowance outlives its own), ``validity``
(``{"amount", "units": seconds|minutes|hours|days|weeks}`` of a one-time allowance); offering
extension ``policyTable``.
"""
from __future__ import annotations

from typing import Any

from ..ocs.catalog import MAX_ROLLOVER, CatalogError, Offer, Price, PriceType, effective_offer
from ..ocs.ports import Ledger
from ..ocs.units import Unit
from .http import (
    MAX_AMOUNT,
    ApiError,
    as_int,
    check_fields,
    get_bool,
    get_list,
    get_obj,
    get_str,
    money_text,
    need_object,
    need_str,
    parse_money,
    parse_valid_for,
    plain,
    ref_id,
)
from .resources import Ctx, Kind, collection_routes
from .routes import BOOL, INT, MONEY, OBJ, REF, STR, Route, arr, obj

API = "productCatalogManagement/v4"
POP_DOC = "tmf_pop"
SPEC_DOC = "tmf_spec"
CATALOG_DOC = "tmf_catalog"
COMMON = ("id", "name", "description", "version", "lifecycleStatus", "validFor", "lastUpdate")
LIFECYCLE = ("In study", "In design", "In test", "Active", "Launched", "Retired", "Obsolete", "Rejected")

_PRICE_TYPES = {"usage": PriceType.USAGE, "recurring": PriceType.RECURRING, "oneTime": PriceType.ONE_TIME,
                "one_time": PriceType.ONE_TIME}
UNITS = {"octets": Unit.OCTETS, "bytes": Unit.OCTETS, "seconds": Unit.SECONDS, "messages": Unit.MESSAGES,
         "events": Unit.MESSAGES}
POP_FIELDS = COMMON + ("priceType", "price", "unitOfMeasure", "recurringChargePeriodType",
                       "recurringChargePeriodLength", "isBundle", "serviceType", "ratingGroup", "tariffTable",
                       "roamingTable", "overdraft", "allowance", "rollover", "validity")
# recurringChargePeriodType: the core's names, and TMF's nouns for them
PERIODS = {"hourly": "hourly", "daily": "daily", "weekly": "weekly", "monthly": "monthly", "yearly": "yearly",
           "hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}
DURATION_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400, "weeks": 7 * 86_400}


def _lifecycle(doc: dict[str, Any], where: str) -> str | None:
    status = get_str(doc, "lifecycleStatus", where)
    if status is not None and status not in LIFECYCLE:
        raise ApiError(400, f"{where}.lifecycleStatus must be one of {', '.join(LIFECYCLE)}")
    return status


# --- productOfferingPrice ---------------------------------------------------------------------

def pop_normalize(body: dict[str, Any], ident: str, ctx: Ctx) -> tuple[dict[str, Any], Price]:
    """Validate a TMF productOfferingPrice; return its stored form and the core Price."""
    where = "productOfferingPrice"
    check_fields(body, POP_FIELDS, where)
    name = get_str(body, "name", where) or ident
    ptype_text = need_str(body, "priceType", where)
    if ptype_text not in _PRICE_TYPES:
        raise ApiError(400, f"{where}.priceType must be usage, recurring or oneTime")
    ptype = _PRICE_TYPES[ptype_text]
    price = get_obj(body, "price", where) or {}
    check_fields(price, ("taxIncludedAmount", "dutyFreeAmount", "taxRate"), f"{where}.price")
    amount_doc = get_obj(price, "taxIncludedAmount", f"{where}.price") or get_obj(
        price, "dutyFreeAmount", f"{where}.price") or {"unit": ctx.currency, "value": 0}
    check_fields(amount_doc, ("unit", "value"), f"{where}.price.taxIncludedAmount", required=("value",))
    currency = get_str(amount_doc, "unit", f"{where}.price.taxIncludedAmount") or ctx.currency
    if currency != ctx.currency:
        raise ApiError(400, f"{where}: currency {currency!r} is not the appliance currency {ctx.currency}")
    amount = parse_money(amount_doc["value"], ctx.scale, f"{where}.price.taxIncludedAmount.value")
    if amount < 0:
        raise ApiError(400, f"{where}: a price must not be negative")
    unit: Unit | None = None
    size = 1
    uom = get_obj(body, "unitOfMeasure", where)
    if uom is not None:
        check_fields(uom, ("amount", "units"), f"{where}.unitOfMeasure", required=("units",))
        units = need_str(uom, "units", f"{where}.unitOfMeasure")
        if units not in UNITS:
            raise ApiError(400, f"{where}.unitOfMeasure.units must be one of {', '.join(UNITS)}")
        unit = UNITS[units]
        size_value = uom.get("amount", 1)
        if isinstance(size_value, bool) or not isinstance(size_value, int) or not 0 < size_value <= MAX_AMOUNT:
            raise ApiError(400, f"{where}.unitOfMeasure.amount must be a positive integer")
        size = size_value
    if ptype is PriceType.USAGE and unit is None:
        raise ApiError(400, f"{where}: a usage price needs unitOfMeasure (octets, seconds, messages)")
    groups = get_list(body, "ratingGroup", where, 64)
    if any(isinstance(g, bool) or not isinstance(g, int) or g < 0 for g in groups):
        raise ApiError(400, f"{where}.ratingGroup must be a list of non-negative integers")
    period = get_str(body, "recurringChargePeriodType", where)
    if period is not None:
        if period not in PERIODS:
            raise ApiError(400, f"{where}.recurringChargePeriodType must be one of {', '.join(PERIODS)}")
        period = PERIODS[period]
    length = body.get("recurringChargePeriodLength")
    if length is not None and (isinstance(length, bool) or length != 1):
        raise ApiError(400, f"{where}.recurringChargePeriodLength: only 1 is supported (one period per fee)")
    allowance: dict[Unit, int] = {}
    for i, entry in enumerate(get_list(body, "allowance", where, 4)):
        at = f"{where}.allowance[{i}]"
        entry = need_object(entry, at)
        check_fields(entry, ("amount", "units"), at, required=("amount", "units"))
        units = need_str(entry, "units", at)
        if units not in UNITS or UNITS[units] in allowance:
            raise ApiError(400, f"{at}.units must be one of {', '.join(UNITS)}, each once")
        allowance[UNITS[units]] = as_int(entry["amount"], f"{at}.amount", 1)
    rollover = body.get("rollover", 0)
    if isinstance(rollover, bool) or not isinstance(rollover, int) or not 0 <= rollover <= MAX_ROLLOVER:
        raise ApiError(400, f"{where}.rollover must be an integer 0..{MAX_ROLLOVER} (periods)")
    validity: int | None = None
    vdoc = get_obj(body, "validity", where)
    if vdoc is not None:
        check_fields(vdoc, ("amount", "units"), f"{where}.validity", required=("amount", "units"))
        vunits = need_str(vdoc, "units", f"{where}.validity")
        if vunits not in DURATION_UNITS:
            raise ApiError(400, f"{where}.validity.units must be one of {', '.join(DURATION_UNITS)}")
        validity = as_int(vdoc["amount"], f"{where}.validity.amount", 1, 100 * 366) * DURATION_UNITS[vunits]
    get_str(body, "description", where, max_len=2048)
    _lifecycle(body, where)
    parse_valid_for(body, where)
    core = Price(ident, ptype, amount, unit, size, get_str(body, "serviceType", where), tuple(groups),
                 get_str(body, "tariffTable", where), get_str(body, "roamingTable", where), period,
                 bool(get_bool(body, "overdraft", where)), allowance=tuple(allowance.items()),
                 rollover=rollover, validity=validity)
    try:
        core.check_fees()
    except ValueError as exc:
        raise ApiError(400, f"{where}: {exc}") from None
    stored = plain({k: v for k, v in body.items() if k not in ("price", "href")})
    stored.update({"id": ident, "name": name,
                   "price": {"taxIncludedAmount": {"unit": ctx.currency, "value": money_text(amount, ctx.scale)}}})
    return stored, core


def pop_out(doc: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    out["href"] = POP.href(doc["id"])
    out["@type"] = "ProductOfferingPrice"
    return out


def pop_list(ledger: Ledger, ctx: Ctx) -> list[dict[str, Any]]:
    return [pop_out(d) for _k, d in ledger.list_docs(POP_DOC)]


def pop_get(ledger: Ledger, ident: str, ctx: Ctx) -> dict[str, Any] | None:
    doc = ledger.get_doc(POP_DOC, ident)
    return pop_out(doc) if doc else None


def pop_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    stored, price = pop_normalize(body, ident, ctx)
    ledger.put_doc(POP_DOC, ident, stored)
    if not create:  # re-resolve the offerings that use this price
        for offer in ledger.list_offers():
            if any(p.name == ident for p in offer.prices):
                prices = tuple(price if p.name == ident else p for p in offer.prices)
                ledger.put_offer(Offer(offer.name, prices, offer.bundle, offer.description, offer.policy_table,
                                       offer.extra))
    return pop_out(stored)


def pop_delete(ledger: Ledger, ident: str, ctx: Ctx) -> bool:
    users = [o.name for o in ledger.list_offers() if any(p.name == ident for p in o.prices)]
    if users:
        raise ApiError(409, f"productOfferingPrice {ident!r} is used by productOffering {users[0]!r}")
    return ledger.delete_doc(POP_DOC, ident)


# --- productOffering --------------------------------------------------------------------------

OFFER_FIELDS = COMMON + ("isBundle", "isSellable", "productSpecification", "productOfferingPrice",
                         "bundledProductOffering", "category", "policyTable")


def offer_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    where = "productOffering"
    check_fields(body, OFFER_FIELDS, where)
    name = get_str(body, "name", where) or ident
    if name != ident:
        raise ApiError(400, f"{where}: name {name!r} must equal id {ident!r} (offerings are keyed by name)")
    prices: list[Price] = []
    refs: list[dict[str, Any]] = []
    for i, entry in enumerate(get_list(body, "productOfferingPrice", where, 64)):
        entry = need_object(entry, f"{where}.productOfferingPrice[{i}]")
        if "priceType" in entry:  # an inline price: stored as its own resource too
            pid = entry.get("id") or f"{ident}-{i}"
            if not isinstance(pid, str) or "/" in pid or len(pid) > 128:
                raise ApiError(400, f"{where}.productOfferingPrice[{i}].id must be a string")
            stored, price = pop_normalize({k: v for k, v in entry.items() if k not in ("href", "@type")},
                                          pid, ctx)
            ledger.put_doc(POP_DOC, pid, stored)
        else:
            pid = ref_id({"ref": entry}, "ref", f"{where}.productOfferingPrice[{i}]") or ""
            doc = ledger.get_doc(POP_DOC, pid)
            if doc is None:
                raise ApiError(422, f"{where}: productOfferingPrice {pid!r} does not exist")
            _stored, price = pop_normalize({k: v for k, v in doc.items() if k != "href"}, pid, ctx)
        prices.append(price)
        refs.append({"id": pid, "href": POP.href(pid), "name": price.name})
    bundle: list[str] = []
    for i, entry in enumerate(get_list(body, "bundledProductOffering", where, 64)):
        bid = ref_id({"ref": entry}, "ref", f"{where}.bundledProductOffering[{i}]") or ""
        if ledger.get_offer(bid) is None:
            raise ApiError(422, f"{where}: bundled productOffering {bid!r} does not exist")
        bundle.append(bid)
    description = get_str(body, "description", where, max_len=2048) or ""
    policy = get_str(body, "policyTable", where)
    _lifecycle(body, where)
    parse_valid_for(body, where)
    get_bool(body, "isSellable", where)
    spec = ref_id(body, "productSpecification", where)
    extra = plain({k: body[k] for k in ("version", "lifecycleStatus", "validFor", "isSellable", "category",
                                        "productSpecification", "lastUpdate") if k in body})
    if spec is not None and ledger.get_doc(SPEC_DOC, spec) is None:
        raise ApiError(422, f"{where}: productSpecification {spec!r} does not exist")
    extra["productOfferingPrice"] = refs
    offer = Offer(ident, tuple(prices), tuple(bundle), description, policy, extra)
    try:
        effective_offer(offer, lambda n: offer if n == ident else ledger.get_offer(n))
    except CatalogError as exc:
        raise ApiError(422, f"{where}: {exc}") from None
    ledger.put_offer(offer)  # (the store's offer cache may still answer the old one in this transaction)
    return offer_out(offer)


def offer_out(offer: Offer) -> dict[str, Any]:
    extra = dict(offer.extra)
    refs = extra.pop("productOfferingPrice", None) or [
        {"id": p.name, "href": POP.href(p.name), "name": p.name} for p in offer.prices]
    doc: dict[str, Any] = {"id": offer.name, "href": OFFERING.href(offer.name), "name": offer.name,
                           "description": offer.description, "isBundle": bool(offer.bundle),
                           "lifecycleStatus": "Active", "productOfferingPrice": refs,
                           "bundledProductOffering": [{"id": b, "href": OFFERING.href(b)} for b in offer.bundle],
                           "@type": "ProductOffering"}
    doc.update(extra)
    if offer.policy_table:
        doc["policyTable"] = offer.policy_table
    return doc


def offer_get(ledger: Ledger, ident: str, ctx: Ctx) -> dict[str, Any] | None:
    offer = ledger.get_offer(ident)
    return offer_out(offer) if offer else None


def offer_delete(ledger: Ledger, ident: str, ctx: Ctx) -> bool:
    users = [p.id for p in ledger.list_products() if p.offer == ident]
    if users:
        raise ApiError(409, f"productOffering {ident!r} is used by product {users[0]!r}")
    bundles = [o.name for o in ledger.list_offers() if ident in o.bundle]
    if bundles:
        raise ApiError(409, f"productOffering {ident!r} is bundled by productOffering {bundles[0]!r}")
    return ledger.delete_offer(ident)


# --- productSpecification and catalog: documents ------------------------------------------------

def doc_kind(doc_kind_name: str, name: str, type_: str, fields: tuple[str, ...], schema: dict[str, Any]) -> Kind:
    def out(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "href": kind.href(doc["id"]), "@type": type_}

    def write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
        check_fields(body, fields, name)
        need_str(body, "name", name)
        get_str(body, "description", name, max_len=2048)
        _lifecycle(body, name)
        parse_valid_for(body, name)
        stored = plain(dict(body))
        ledger.put_doc(doc_kind_name, ident, stored)
        return out(stored)

    kind = Kind(API, name, type_, lambda l, c: [out(d) for _k, d in l.list_docs(doc_kind_name)],
                lambda l, i, c: (lambda d: out(d) if d else None)(l.get_doc(doc_kind_name, i)),
                write, lambda l, i, c: l.delete_doc(doc_kind_name, i), schema)
    return kind


_VALID_FOR = obj({"startDateTime": STR, "endDateTime": STR})
_COMMON_SCHEMA = {"id": STR, "name": STR, "description": STR, "version": STR, "lifecycleStatus": STR,
                  "validFor": _VALID_FOR, "lastUpdate": STR}
POP = Kind(API, "productOfferingPrice", "ProductOfferingPrice", pop_list, pop_get, pop_write, pop_delete,
           obj({**_COMMON_SCHEMA, "priceType": {"enum": ["usage", "recurring", "oneTime"]},
                "price": obj({"taxIncludedAmount": obj({"unit": STR, "value": MONEY})}),
                "unitOfMeasure": obj({"amount": INT, "units": STR}), "recurringChargePeriodType": STR,
                "recurringChargePeriodLength": INT, "isBundle": BOOL, "serviceType": STR,
                "ratingGroup": arr(INT), "tariffTable": STR, "roamingTable": STR, "overdraft": BOOL,
                "allowance": arr(obj({"amount": INT, "units": STR})), "rollover": INT,
                "validity": obj({"amount": INT, "units": STR})},
               ("priceType",)))
OFFERING = Kind(API, "productOffering", "ProductOffering",
                lambda l, c: [offer_out(o) for o in sorted(l.list_offers(), key=lambda o: o.name)],
                offer_get, offer_write, offer_delete,
                obj({**_COMMON_SCHEMA, "isBundle": BOOL, "isSellable": BOOL, "productSpecification": REF,
                     "productOfferingPrice": arr(OBJ), "bundledProductOffering": arr(REF), "category": arr(OBJ),
                     "policyTable": STR}, ("name",)), name_is_id=True)
SPEC = doc_kind(SPEC_DOC, "productSpecification", "ProductSpecification",
                COMMON + ("brand", "isBundle", "productSpecCharacteristic", "productNumber"),
                obj({**_COMMON_SCHEMA, "brand": STR, "isBundle": BOOL, "productNumber": STR,
                     "productSpecCharacteristic": arr(OBJ)}, ("name",)))
CATALOG = doc_kind(CATALOG_DOC, "catalog", "Catalog", COMMON + ("catalogType", "category", "relatedParty"),
                   obj({**_COMMON_SCHEMA, "catalogType": STR, "category": arr(OBJ), "relatedParty": arr(OBJ)},
                       ("name",)))


def routes() -> list[Route]:
    return [r for kind in (CATALOG, SPEC, POP, OFFERING) for r in collection_routes(kind)]
