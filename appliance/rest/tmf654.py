"""TMF654 Prepay Balance Management v4: bucket, balanceTopup, balanceAdjustment, accumulatedBalance.

Buckets are the core's balance buckets.  ``remainedAmount`` is ``{"amount", "units"}``: money
in the appliance currency as an exact decimal (``{"amount": "5.000000", "units": "USD"}``),
otherwise an integer of ``octets``, ``seconds`` or ``messages``; never below zero (422, whether
created, replaced or merge-patched).  ``reservedAmount`` shows what open sessions hold.  A top-up
adds a bucket; an adjustment credits (positive) or debits (negative, first-to-expire, all or
nothing: 422 when the balance is short) a product or one bucket.
Top-ups and adjustments are kept as documents so they can be read back.  Whatever adds
balance clears the product's out-of-credit flag in the same transaction (the PCRF then pushes
the normal rules to its Gx sessions: :mod:`appliance.pcrf.credit`).
The resource kinds' writes are run by the ledger (:mod:`appliance.rest.ledger_ops`), whose process
imports no HTTP server: only :func:`routes` reaches the HTTP side.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ledger import book
from ..ocs.inventory import Bucket
from ..ocs.ports import Ledger
from ..ocs.units import Unit
from .charges import stamp_balance_change
from .fields import (
    MAX_AMOUNT,
    ApiError,
    as_int,
    check_fields,
    get_obj,
    get_str,
    iso,
    money_text,
    parse_money,
    parse_valid_for,
    ref_id,
    valid_for,
)
from .kinds import Ctx, Kind
from .schema import MONEY, OBJ, REF, STR, obj

if TYPE_CHECKING:
    from .routes import Route

API = "prepayBalanceManagement/v4"
TOPUP_DOC = "tmf_topup"
ADJUST_DOC = "tmf_adjustment"
UNITS = {"octets": Unit.OCTETS, "bytes": Unit.OCTETS, "seconds": Unit.SECONDS, "messages": Unit.MESSAGES}
PRODUCT_HREF = "/tmf-api/productInventory/v4/product/"


def quantity(unit: Unit, amount: int, ctx: Ctx) -> dict[str, Any]:
    if unit is Unit.MONEY:
        return {"amount": money_text(amount, ctx.scale), "units": ctx.currency}
    return {"amount": amount, "units": unit.value}


def parse_quantity(doc: dict[str, Any] | None, ctx: Ctx, where: str) -> tuple[Unit, int]:
    if doc is None:
        raise ApiError(400, f"{where} is required ({{\"amount\", \"units\"}})")
    check_fields(doc, ("amount", "units"), where, required=("amount", "units"))
    units = get_str(doc, "units", where) or ""
    if units == ctx.currency:
        return Unit.MONEY, parse_money(doc["amount"], ctx.scale, f"{where}.amount")
    if units not in UNITS:
        raise ApiError(400, f"{where}.units must be {ctx.currency} or one of {', '.join(UNITS)}")
    return UNITS[units], as_int(doc["amount"], f"{where}.amount", None)


def bucket_out(b: Bucket, ctx: Ctx, reserved: int = 0) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": str(b.id), "href": BUCKET.href(str(b.id)), "name": b.name or str(b.id),
                           "remainedAmount": quantity(b.unit, b.remaining, ctx),
                           "product": {"id": b.product_id, "href": PRODUCT_HREF + b.product_id},
                           "status": "expired" if b.expired(ctx.now) else "active", "@type": "Bucket"}
    if reserved:
        doc["reservedAmount"] = quantity(b.unit, reserved, ctx)
    vf = valid_for(b.start, b.end)
    if vf:
        doc["validFor"] = vf
    return doc


def _held(ledger: Ledger, product_id: str | None) -> dict[int, int]:
    held: dict[int, int] = {}
    reservations = ledger.product_reservations(product_id) if product_id else []
    for res in reservations:
        for hold in res.holds:
            held[hold.bucket_id] = held.get(hold.bucket_id, 0) + hold.amount
    return held


def _bucket_id(ident: str) -> int | None:
    return int(ident) if ident.isdigit() and len(ident) < 18 else None


def bucket_get(ledger: Ledger, ident: str, ctx: Ctx) -> dict[str, Any] | None:
    bid = _bucket_id(ident)
    b = ledger.get_bucket(bid) if bid is not None else None
    return bucket_out(b, ctx, _held(ledger, b.product_id).get(b.id, 0)) if b else None


def bucket_list(ledger: Ledger, ctx: Ctx) -> list[dict[str, Any]]:
    buckets = ledger.list_buckets()
    held: dict[str, dict[int, int]] = {}
    out = []
    for b in sorted(buckets, key=lambda b: b.id):
        if b.product_id not in held:
            held[b.product_id] = _held(ledger, b.product_id)
        out.append(bucket_out(b, ctx, held[b.product_id].get(b.id, 0)))
    return out


def bucket_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    where = "bucket"
    body = {k: v for k, v in body.items() if k not in ("status", "reservedAmount")}
    check_fields(body, ("id", "name", "remainedAmount", "product", "validFor"), where)
    unit, amount = parse_quantity(get_obj(body, "remainedAmount", where), ctx, f"{where}.remainedAmount")
    if amount < 0:
        raise ApiError(422, f"{where}.remainedAmount must not be negative: a balance below zero is refused")
    product = ref_id(body, "product", where)
    start, end = parse_valid_for(body, where)
    name = get_str(body, "name", where) or ""
    if create:
        if product is None or ledger.get_product(product) is None:
            raise ApiError(422, f"{where}: product {product!r} does not exist")
        bid = book.top_up(ledger, product, unit, amount, ctx.now, end, start, name)
        got = ledger.get_bucket(bid)
        assert got is not None
        return bucket_out(got, ctx)
    existing = _bucket_id(ident)
    old = ledger.get_bucket(existing) if existing is not None else None
    if old is None:
        raise ApiError(404, f"bucket {ident!r} not found")
    if unit is not old.unit or product != old.product_id or (start, end) != (old.start, old.end) or \
            name != (old.name or str(old.id)):
        raise ApiError(422, "only remainedAmount.amount of a bucket can change (use a new bucket)")
    book.set_remaining(ledger, old, amount, ctx.now)
    return bucket_out(Bucket(old.id, old.product_id, old.unit, amount, old.start, old.end, old.name), ctx,
                      _held(ledger, old.product_id).get(old.id, 0))


BUCKET = Kind(API, "bucket", "Bucket", bucket_list, bucket_get, bucket_write,
              lambda l, i, c: (bid := _bucket_id(i)) is not None and book.remove_bucket(l, bid, c.now),
              obj({"id": STR, "name": STR, "remainedAmount": obj({"amount": MONEY, "units": STR}, ("amount", "units")),
                   "product": REF, "validFor": obj({"startDateTime": STR, "endDateTime": STR}),
                   "status": STR, "reservedAmount": OBJ}, ("remainedAmount", "product")),
              id_from_body=False, ledger=True)


# --- balanceTopup and balanceAdjustment ----------------------------------------------------------

def topup_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    where = "balanceTopup"
    check_fields(body, ("id", "description", "amount", "product", "validFor", "channel", "reason"), where)
    unit, amount = parse_quantity(get_obj(body, "amount", where), ctx, f"{where}.amount")
    if amount <= 0:
        raise ApiError(400, f"{where}.amount must be positive")
    product = ref_id(body, "product", where)
    if product is None or ledger.get_product(product) is None:
        raise ApiError(422, f"{where}: product {product!r} does not exist")
    start, end = parse_valid_for(body, where)
    bid = book.top_up(ledger, product, unit, amount, ctx.now, end, start, f"topup {ident}"[:64])
    _stamp(ledger, product, ctx)
    doc = {"id": ident, "description": get_str(body, "description", where, max_len=1024) or "",
           "amount": quantity(unit, amount, ctx), "product": {"id": product, "href": PRODUCT_HREF + product},
           "bucket": [{"id": str(bid), "href": BUCKET.href(str(bid))}], "status": "confirmed",
           "confirmationDate": iso(ctx.now), "channel": get_str(body, "channel", where) or "rest",
           "reason": get_str(body, "reason", where) or ""}
    if start is not None or end is not None:
        doc["validFor"] = valid_for(start, end)
    ledger.put_doc(TOPUP_DOC, ident, doc)
    return {**doc, "href": TOPUP.href(ident), "@type": "BalanceTopup"}


def adjust_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    where = "balanceAdjustment"
    check_fields(body, ("id", "description", "amount", "product", "bucket", "reason", "adjustType"), where)
    unit, amount = parse_quantity(get_obj(body, "amount", where), ctx, f"{where}.amount")
    if amount == 0:
        raise ApiError(400, f"{where}.amount must not be zero")
    product = ref_id(body, "product", where)
    bucket_ref = ref_id(body, "bucket", where)
    touched: list[int] = []
    if bucket_ref is not None:
        bid = _bucket_id(bucket_ref)
        bucket = ledger.get_bucket(bid) if bid is not None else None
        if bucket is None:
            raise ApiError(422, f"{where}: bucket {bucket_ref!r} does not exist")
        if bucket.unit is not unit:
            raise ApiError(422, f"{where}: bucket {bucket_ref!r} counts {bucket.unit.value}, not {unit.value}")
        if product is not None and product != bucket.product_id:
            raise ApiError(422, f"{where}: bucket {bucket_ref!r} belongs to another product")
        if amount < 0 and bucket.remaining + amount < 0:     # a credit may leave a debt smaller, not a debit
            raise ApiError(422, f"{where}: bucket {bucket_ref!r} holds only {bucket.remaining}")
        if bucket.remaining + amount > MAX_AMOUNT:
            raise ApiError(422, f"{where}: bucket {bucket_ref!r} would exceed {MAX_AMOUNT}")
        product = bucket.product_id
        book.set_remaining(ledger, bucket, bucket.remaining + amount, ctx.now)
        touched.append(bucket.id)
    else:
        if product is None or ledger.get_product(product) is None:
            raise ApiError(422, f"{where}: product {product!r} does not exist")
        if amount > 0:
            touched.append(book.top_up(ledger, product, unit, amount, ctx.now, None, None,
                                       f"adjustment {ident}"[:64]))
        else:
            try:
                touched += book.debit(ledger, product, unit, -amount, ctx.now)
            except book.InsufficientBalance as exc:
                raise ApiError(422, f"{where}: {exc}") from None
    _stamp(ledger, product, ctx)
    doc = {"id": ident, "description": get_str(body, "description", where, max_len=1024) or "",
           "amount": quantity(unit, amount, ctx), "product": {"id": product, "href": PRODUCT_HREF + product},
           "bucket": [{"id": str(b), "href": BUCKET.href(str(b))} for b in touched], "status": "confirmed",
           "confirmationDate": iso(ctx.now), "reason": get_str(body, "reason", where) or "",
           "adjustType": get_str(body, "adjustType", where) or ("credit" if amount > 0 else "debit")}
    ledger.put_doc(ADJUST_DOC, ident, doc)
    return {**doc, "href": ADJUST.href(ident), "@type": "BalanceAdjustment"}


def _stamp(ledger: Ledger, product: str, ctx: Ctx) -> None:
    stamp_balance_change(ledger, product, ctx.now)


def _doc_kind(doc_name: str, name: str, type_: str, write: Any, schema: dict[str, Any]) -> Kind:
    """A kind kept as documents whose writes change balances (run by the ledger)."""
    def out(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "href": f"/tmf-api/{API}/{name}/{d['id']}", "@type": type_}
    return Kind(API, name, type_, lambda l, c: [out(d) for _k, d in l.list_docs(doc_name)],
                lambda l, i, c: (lambda d: out(d) if d else None)(l.get_doc(doc_name, i)), write, None, schema,
                patchable=False, ledger=True)


_QTY = obj({"amount": MONEY, "units": STR}, ("amount", "units"))
TOPUP = _doc_kind(TOPUP_DOC, "balanceTopup", "BalanceTopup", topup_write,
                  obj({"id": STR, "description": STR, "amount": _QTY, "product": REF, "channel": STR, "reason": STR,
                       "validFor": obj({"startDateTime": STR, "endDateTime": STR})}, ("amount", "product")))
ADJUST = _doc_kind(ADJUST_DOC, "balanceAdjustment", "BalanceAdjustment", adjust_write,
                   obj({"id": STR, "description": STR, "amount": _QTY, "product": REF, "bucket": REF,
                        "reason": STR, "adjustType": STR}, ("amount",)))


# --- accumulatedBalance: computed per product ---------------------------------------------------

def accumulated(ledger: Ledger, product_id: str, ctx: Ctx) -> dict[str, Any] | None:
    if ledger.get_product(product_id) is None:
        return None
    totals: dict[Unit, int] = {}
    reserved: dict[Unit, int] = {}
    refs = []
    held = _held(ledger, product_id)
    for b in sorted(ledger.buckets(product_id), key=lambda b: b.id):
        refs.append({"id": str(b.id), "href": BUCKET.href(str(b.id))})
        if b.usable(ctx.now):
            totals[b.unit] = totals.get(b.unit, 0) + b.remaining
            if held.get(b.id):
                reserved[b.unit] = reserved.get(b.unit, 0) + held[b.id]
    return {"id": product_id, "href": ACCUMULATED.href(product_id),
            "product": {"id": product_id, "href": PRODUCT_HREF + product_id},
            "totalBalance": [quantity(u, v, ctx) for u, v in sorted(totals.items(), key=lambda x: x[0].value)],
            "reservedBalance": [quantity(u, v, ctx) for u, v in sorted(reserved.items(), key=lambda x: x[0].value)],
            "bucket": refs, "@type": "AccumulatedBalance"}


ACCUMULATED = Kind(API, "accumulatedBalance", "AccumulatedBalance",
                   lambda l, c: [d for p in sorted(l.list_products(), key=lambda p: p.id)
                                 if (d := accumulated(l, p.id, c)) is not None],
                   accumulated)


def routes() -> list[Route]:
    from .resources import collection_routes  # the HTTP side: imported by the REST process only
    return [r for kind in (BUCKET, TOPUP, ADJUST, ACCUMULATED) for r in collection_routes(kind)]
