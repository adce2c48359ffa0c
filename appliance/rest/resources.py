"""Generic TMF resource collections: GET (filters, Range, Etag), POST, GET one, PATCH, DELETE.

A :class:`Kind` (:mod:`appliance.rest.kinds`) supplies the mapping between the TMF JSON shape and
the store (functions run inside ONE store transaction, so a failed validation rolls back);
this module supplies the TMF630 mechanics and the TMF688 events for the hub.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..ocs.ports import Ledger
from ..telemetry import metrics
from . import tmf630
from .http import ApiError, body_to_wire, need_object, read_json, reply
from .kinds import TMF, Ctx, Kind, create_in, remove_in, update_in  # noqa: F401  (also named from here)
from .routes import CFG, CHARGING, CLOCK, HUB, STORE, Route


def ctx_of(request: web.Request) -> Ctx:
    cfg = request.app[CFG]
    return Ctx(cfg.money.scale, cfg.money.currency, int(request.app[CLOCK]()))


async def transact(request: web.Request, fn: Callable[[Ledger], Any]) -> Any:
    return await request.app[STORE].atransact(fn)


async def write(request: web.Request, kind: Kind, operation: str, fn: Callable[..., Any], ident: str,
                ctx: Ctx, *args: Any) -> Any:
    """A write of ``kind``: in this process's store transaction, or, for a kind that changes balances,
    as the ledger's operation ``operation`` (:mod:`appliance.rest.ledger_ops`: the same function, in
    the ledger role when one runs; keyed, so a resend after a lost connection applies it once)."""
    if not kind.ledger:
        return await transact(request, lambda l: fn(l, kind, ident, ctx, *args))
    return await ledger_call(request.app[CHARGING], operation, uuid.uuid4().hex, ctx.now, kind.api, kind.name,
                             ident, ctx.scale, ctx.currency, *(body_to_wire(a) for a in args))


async def ledger_call(ledger: Any, operation: str, *args: Any) -> Any:
    """A named ledger operation (:mod:`appliance.ledger.operations`) for a REST request: a refusal
    raised inside the ledger keeps its HTTP status; a ledger that does not answer is a 503."""
    from ..ledger.remote import LedgerFailed, LedgerUnavailable
    try:
        return await ledger.call(operation, *args)
    except LedgerFailed as exc:
        if exc.status is not None:
            error = ApiError(exc.status, exc.reason, exc.code or "")
            error.detail = exc.detail        # e.g. the charges a refused wallet operation rolled back
            raise error from None
        raise
    except LedgerUnavailable:
        raise ApiError(503, "the ledger is not answering; try again") from None


def collection_routes(kind: Kind) -> list[Route]:
    """The five TMF operations for one resource kind."""

    async def list_(request: web.Request) -> web.Response:
        ctx = ctx_of(request)
        flt = tmf630.parse_query_filters(request.query)
        docs = await transact(request, lambda l: kind.list_all(l, ctx))
        selected = [d for d in docs if tmf630.matches(d, flt)]
        return page(request, selected)

    async def get_(request: web.Request) -> web.Response:
        ident = request.match_info["id"]
        ctx = ctx_of(request)
        doc = await transact(request, lambda l: kind.get(l, ident, ctx))
        if doc is None:
            raise ApiError(404, f"{kind.name} {ident!r} not found")
        return reply(tmf630.select_fields(doc, request.query.get("fields")))

    async def post_(request: web.Request) -> web.Response:
        assert kind.write is not None
        body = need_object(await read_json(request), kind.name)
        ctx = ctx_of(request)
        ident = body.get("id") if kind.id_from_body else None
        if ident is None and kind.name_is_id:
            ident = body.get("name")
        if ident is None:
            ident = str(uuid.uuid4())
        if not isinstance(ident, str) or not ident or len(ident) > 128 or "/" in ident:
            raise ApiError(400, f"{kind.name}.id must be a non-empty string without '/' (at most 128)")
        body = {k: v for k, v in body.items() if k not in ("href", "@type", "@baseType", "@schemaLocation")}
        body["id"] = ident

        doc = await write(request, kind, "rest_create", create_in, ident, ctx, body)
        metrics.inc(f"rest.tmf.{kind.name.lower()[:24]}.created")
        await request.app[HUB].publish(kind.api, f"{kind.type}CreateEvent", kind.name, doc)
        return reply(doc, 201, {"Location": doc.get("href", kind.href(ident))})

    async def patch_(request: web.Request) -> web.Response:
        assert kind.write is not None
        ident = request.match_info["id"]
        ctype = request.content_type
        media = (tmf630.MERGE_PATCH, tmf630.JSON_PATCH, "application/json")
        body = await read_json(request, media)
        ctx = ctx_of(request)
        kind_ct = tmf630.JSON_PATCH if ctype == tmf630.JSON_PATCH else tmf630.MERGE_PATCH

        before, doc = await write(request, kind, "rest_update", update_in, ident, ctx, body, kind_ct)
        event = "StateChangeEvent" if _state(before) != _state(doc) else "AttributeValueChangeEvent"
        await request.app[HUB].publish(kind.api, f"{kind.type}{event}", kind.name, doc)
        return reply(doc)

    async def delete_(request: web.Request) -> web.Response:
        assert kind.delete is not None
        ident = request.match_info["id"]
        ctx = ctx_of(request)

        doc = await write(request, kind, "rest_remove", remove_in, ident, ctx)
        if doc is None:
            raise ApiError(404, f"{kind.name} {ident!r} not found")
        await request.app[HUB].publish(kind.api, f"{kind.type}DeleteEvent", kind.name, doc)
        return web.Response(status=204)

    tag = kind.api.split("/")[0]
    item = f"{kind.base}/{{id}}"
    listing_query = (("fields", "attributes to return (comma separated)"),
                     ("filter", "JSONPath filter, e.g. [?(@.status=='active')]"),
                     ("offset", "0-based index of the first item"), ("limit", "most items to return"))
    routes = [
        Route("GET", kind.base, list_, "read", f"list {kind.name} (filters, Range pagination)", tag,
              query=listing_query, headers=(("Range", "items=FIRST-LAST (1-based)"),
                                            ("If-Match", "Etag of the previous page")),
              responses={200: "all items", 206: "one page", 412: "result changed", 416: "bad Range"},
              collection=True),
        Route("GET", item, get_, "read", f"one {kind.name}", tag, query=(("fields", "attributes"),),
              responses={200: "the resource", 404: "unknown id"}),
    ]
    if kind.write is not None:
        routes.append(Route("POST", kind.base, post_, "write", f"create a {kind.name}", tag,
                            body=kind.schema or {"type": "object"},
                            responses={201: "created", 400: "bad input", 409: "exists"}))
        if kind.patchable:
            routes.append(Route("PATCH", item, patch_, "write", f"update a {kind.name} (merge or JSON patch)",
                                tag, body={"oneOf": [{"type": "object"}, {"type": "array"}]},
                                media=(tmf630.MERGE_PATCH, tmf630.JSON_PATCH, "application/json"),
                                responses={200: "updated", 404: "unknown id", 409: "test failed",
                                           422: "patch not applicable"}))
    if kind.delete is not None:
        routes.append(Route("DELETE", item, delete_, "write", f"delete a {kind.name}", tag,
                            responses={204: "deleted", 404: "unknown id"}))
    return routes


def _state(doc: dict[str, Any]) -> Any:
    return doc.get("status", doc.get("state", doc.get("lifecycleStatus")))


def page(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    """One page of a collection with Content-Range/X-Total-Count/Etag (TMF630 Part 1 §5)."""
    page_max = request.app[CFG].rest.page_max
    total = len(items)
    etag = tmf630.result_etag(items)
    if_match = request.headers.get("If-Match")
    if if_match is not None and if_match.strip() not in ("*", etag):
        raise ApiError(412, "the collection changed since that Etag: start again from the first page")
    start, end = tmf630.page_bounds(request.headers.get("Range"), request.query.get("offset"),
                                    request.query.get("limit"), total, page_max)
    fields = request.query.get("fields")
    body = [tmf630.select_fields(d, fields) for d in items[start:end]]
    partial = end - start < total
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(end - start), "Etag": etag,
               "Accept-Ranges": "items",
               "Content-Range": f"items {start + 1}-{end}/{total}" if end > start else f"items */{total}"}
    return reply(body, 206 if partial else 200, headers)
