"""The console's Trace screen: start a live trace of one subscriber (appliance.trace, the same
request files ``appliance trace`` writes) and read its events as they come (a long poll from a
byte offset of the events file, so any REST worker can answer).  Admin only: the events carry
the subscriber's decoded messages (key material masked by appliance.trace).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from ... import trace
from ..http import ApiError, reply
from ..routes import CFG, INT, PRINCIPAL, STORE, STR, Route, obj
from .sessions import require_admin

log = logging.getLogger("appliance.rest.console")

TAG = "console"
MINUTES_MAX = 60
EVENTS_DEFAULT = 1000
WAIT_MAX = 10.0
POLL = 0.25


def _int(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"{key} must be an integer {low}..{high}")
    return value


def _shared(request: web.Request) -> Any:
    """The store when other nodes share it (PostgreSQL): their workers follow the trace too."""
    return request.app[STORE] if request.app[CFG].database.backend == "postgres" else None


async def start_trace(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "body must be a JSON object") from None
    if not isinstance(body, dict) or not isinstance(body.get("identity"), str) or not body["identity"].strip():
        raise ApiError(400, "body must name the subscriber: {\"identity\": IMSI, MSISDN or NAI}")
    identity = body["identity"].strip()[:253]
    minutes = _int(body, "minutes", 5, 1, MINUTES_MAX)
    events = _int(body, "events", EVENTS_DEFAULT, 1, trace.MAX_EVENTS)
    service = await request.app[STORE].atransact(lambda l: l.find_subscriber(identity)[0])
    if service is None:
        raise ApiError(404, f"no subscriber with identity {identity!r}")
    identities = list(service.identities())
    cfg = request.app[CFG]
    run_dir = cfg.path(cfg.run_dir)

    def begin() -> str:
        trace.remove_ended(run_dir, time.time(), tag=TAG)
        return trace.start(run_dir, identities, minutes * 60, events, tag=TAG, store=_shared(request),
                           node=cfg.node.host)
    name = await asyncio.to_thread(begin)
    log.info("console trace %s of %s started by %s (%d min, %d events)", name, service.id,
             request[PRINCIPAL].user, minutes, events)
    return reply({"name": name, "identities": identities, "minutes": minutes, "events": events}, 201)


async def trace_events(request: web.Request) -> web.Response:
    """Events from ``offset``; waits up to ``wait`` seconds for the first one."""
    require_admin(request)
    name = request.match_info["name"]
    if not trace.valid_name(name):
        raise ApiError(404, "no such trace")
    try:
        offset = int(request.query.get("offset", "0"))
        wait = float(request.query.get("wait", "0"))
    except ValueError:
        raise ApiError(400, "offset is an integer, wait a number of seconds") from None
    if offset < 0 or not 0 <= wait <= WAIT_MAX:
        raise ApiError(400, f"offset must be >= 0 and wait 0..{WAIT_MAX:g}")
    cfg = request.app[CFG]
    run_dir = cfg.path(cfg.run_dir)
    deadline = time.monotonic() + wait
    while True:
        doc = await asyncio.to_thread(trace.request_of, run_dir, name)
        if doc is not None and _shared(request) is not None:
            await asyncio.to_thread(trace.pull, _shared(request), run_dir, name)
        events, offset = await asyncio.to_thread(trace.read_events, run_dir, name, offset)
        if events or doc is None or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL)
    if doc is None and not events and offset == 0:
        raise ApiError(404, "no such trace (stopped, or ended more than an hour ago)")
    active = doc is not None and float(doc.get("until", 0)) > time.time()
    return reply({"name": name, "events": events, "offset": offset, "active": active,
                  "until": doc.get("until") if doc else None})


async def stop_trace(request: web.Request) -> web.Response:
    require_admin(request)
    name = request.match_info["name"]
    cfg = request.app[CFG]
    if not trace.valid_name(name) or await asyncio.to_thread(trace.request_of, cfg.path(cfg.run_dir), name) is None:
        raise ApiError(404, "no such trace")
    await asyncio.to_thread(trace.stop, cfg.path(cfg.run_dir), name, _shared(request))
    return web.Response(status=204)


def routes() -> list[Route]:
    return [
        Route("POST", "/console/api/trace", start_trace, "write",
              "start a live trace of one subscriber across the node's workers (admin)", "console",
              body=obj({"identity": STR, "minutes": INT, "events": INT}, ("identity",)),
              responses={201: "started", 400: "bad input", 403: "not admin", 404: "unknown subscriber"}),
        Route("GET", "/console/api/trace/{name}", trace_events, "write",
              "a trace's events from a byte offset (long poll up to wait seconds) (admin)", "console",
              query=(("offset", "byte offset: the previous answer's offset"), ("wait", f"0..{WAIT_MAX:g} seconds")),
              responses={200: "events", 403: "not admin", 404: "unknown trace"}),
        Route("DELETE", "/console/api/trace/{name}", stop_trace, "write", "stop a trace (admin)", "console",
              responses={204: "stopped", 403: "not admin", 404: "unknown trace"}),
    ]
