"""TMF635 Usage Management v4: ``usage`` records read from the accounting transaction log.

The source is the live acct log of :mod:`appliance.logs` (every charging transaction of every
worker: RADIUS, Diameter Ro, Nrf, quota, wallet).  A usage's ``id`` is ``<ts µs>-<proc>``;
``usageCharacteristic`` carries the record's fields; ``ratedProductUsage`` the money charged.
Reading is bounded: only records since ``usageDate.gt``/``usageDate.gte`` (ISO 8601, default the
last 24 hours) up to ``usageDate.lt``, and at most ``MAX_SCAN`` of the newest are considered.
Read-only (usage is created by charging, not by this API).
"""
from __future__ import annotations

import asyncio
import collections
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiDict

from . import tmf630
from .http import ApiError, iso, money_text, parse_iso, reply
from .resources import TMF, page
from .routes import CFG, Route

if TYPE_CHECKING:
    from ..config import Config

API = "usageManagement/v4"
BASE = f"{TMF}/{API}/usage"
MAX_SCAN = 100_000
CHARACTERISTICS = ("protocol", "app", "type", "request_type", "session_id", "subscriber", "username", "imsi",
                   "msisdn", "service", "destination", "vplmn", "outcome", "result", "peer", "duplicate")


def usage_out(rec: dict[str, Any], scale: int, currency: str) -> dict[str, Any]:
    ident = f"{rec.get('ts', 0)}-{rec.get('proc', '')}"
    chars = [{"name": k, "value": rec[k]} for k in CHARACTERISTICS if rec.get(k) is not None]
    for i, unit in enumerate(rec.get("units") or []):
        for key in ("unit", "rating_group", "requested", "granted", "used", "debited"):
            if isinstance(unit, dict) and unit.get(key) is not None:
                chars.append({"name": f"units.{i}.{key}", "value": unit[key]})
    charged = rec.get("charged") or 0
    doc: dict[str, Any] = {
        "id": ident, "href": f"{BASE}/{ident}", "usageDate": iso(rec.get("ts", 0) / 1_000_000),
        "usageType": rec.get("service") or rec.get("app") or "unknown", "status": "rated",
        "description": f"{rec.get('protocol', '')} {rec.get('app', '')} {rec.get('request_type', '')}".strip(),
        "usageCharacteristic": chars, "@type": "Usage"}
    if rec.get("subscriber"):
        doc["relatedParty"] = [{"id": rec["subscriber"], "role": "subscriber"}]
    if isinstance(charged, int):
        doc["ratedProductUsage"] = [{"isBilled": False, "ratingDate": doc["usageDate"],
                                     "taxIncludedRatingAmount": {"unit": currency,
                                                                 "value": money_text(charged, scale)}}]
    return doc


def _read(cfg: Config, since_us: int, until_us: int | None) -> list[dict[str, Any]]:
    from ..logs.fifo import read_log
    newest: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_SCAN)
    newest.extend(read_log(cfg.path(cfg.logs.acct_log_dir), "acct", None, since_us, until_us))
    return list(newest)


def _window(query: Any) -> tuple[int, int | None]:
    since = None
    for key in ("usageDate.gt", "usageDate.gte"):
        if key in query:
            since = parse_iso(query[key], key)
    until = parse_iso(query["usageDate.lt"], "usageDate.lt") if "usageDate.lt" in query else None
    if since is None:
        since = int(time.time()) - 86_400
    return since * 1_000_000, (until * 1_000_000 if until is not None else None)


async def list_usage(request: web.Request) -> web.Response:
    cfg = request.app[CFG]
    since, until = _window(request.query)
    flt = tmf630.parse_query_filters(_without_dates(request.query))
    loop = asyncio.get_running_loop()
    records = await loop.run_in_executor(None, _read, cfg, since, until)
    docs = [usage_out(r, cfg.money.scale, cfg.money.currency) for r in records]
    return page(request, [d for d in docs if tmf630.matches(d, flt)])


def _without_dates(query: Any) -> Any:
    return MultiDict((k, v) for k, v in query.items() if not k.startswith("usageDate"))


async def get_usage(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    ts_text, _, proc = ident.partition("-")
    if not ts_text.isdigit() or len(ts_text) > 20:
        raise ApiError(404, f"usage {ident!r} not found")
    ts = int(ts_text)
    cfg = request.app[CFG]
    loop = asyncio.get_running_loop()
    records = await loop.run_in_executor(None, _read, cfg, ts, ts + 1)
    for rec in records:
        if str(rec.get("proc", "")) == proc:
            return reply(usage_out(rec, cfg.money.scale, cfg.money.currency))
    raise ApiError(404, f"usage {ident!r} not found")


def routes() -> list[Route]:
    query = (("usageDate.gt", "ISO 8601 start (default: 24 hours ago)"), ("usageDate.lt", "ISO 8601 end"),
             ("fields", "attributes"), ("filter", "JSONPath filter"), ("offset", "index"), ("limit", "count"))
    return [Route("GET", BASE, list_usage, "read", "usage records from the transaction log", "usageManagement",
                  query=query, headers=(("Range", "items=FIRST-LAST"), ("If-Match", "Etag of the previous page")),
                  responses={200: "records", 206: "one page", 416: "bad Range"}, collection=True),
            Route("GET", f"{BASE}/{{id}}", get_usage, "read", "one usage record", "usageManagement",
                  responses={200: "record", 404: "unknown"})]
