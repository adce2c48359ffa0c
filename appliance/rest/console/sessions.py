"""The console's Sessions screen: RADIUS accounting, Ro credit-control, Gx and AAA (SWm/STa/S6b)
sessions of the node, read a page at a time, and the operator's actions on one session.

Listing is keyset-paged (:func:`appliance.store.pages.doc_page`): a request reads at most
``SCAN_MAX`` documents after its cursor and returns at most ``limit`` of those the filters keep,
with the cursor to continue from.  Actions: Disconnect-Request and CoA-Request to the NAS of a
RADIUS session (RFC 5176, :mod:`appliance.radius.coa`), and a Gx re-authorization (an RAR, TS
29.212 §4.5.2) queued on the PCRF's push queue, which the Diameter worker connected to the PCEF
sends; an Abort-Session-Request for an AAA session (RFC 6733 §8.5), queued on the session's
document for the Diameter worker that owns it.  Ro sessions have no action: the credit-control
application sends no server-initiated Re-Auth-Request (RFC 4006 §5.5 is optional, and a Ro
session document holds no client host to send it to).  Actions need the ``admin`` role.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from ...ocs.ports import Ledger
from ...store.pages import doc_count, doc_page
from ..http import ApiError, reply
from ..routes import CFG, INT, PRINCIPAL, STORE, STR, Route, obj

log = logging.getLogger("appliance.rest.console")

PAGE_DEFAULT = 50
PAGE_MAX = 200
SCAN_MAX = 2000                 # documents read per request when filters drop most of them
KINDS = {"radius": "radius_session", "ro": "ro_session", "gx": "gx_session", "aaa": "aaa_session"}
AAA_APPS = {16777264: "swm", 16777250: "sta", 16777272: "s6b", 16777265: "swx"}
# CoA attributes an operator may change (RFC 5176 §3.1; RFC 2865, 2869): name -> attribute type
COA_ATTRIBUTES = {"session-timeout": 27, "idle-timeout": 28, "acct-interim-interval": 85, "filter-id": 11}


def require_admin(request: web.Request) -> None:
    """Console actions are the ``admin`` role's (the route's permission is checked before)."""
    principal = request[PRINCIPAL]
    if "admin" not in principal.roles:
        raise ApiError(403, f"user {principal.user!r} is not an admin: console actions need the admin role")


def _radius_out(key: str, d: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "radius", "key": key, "sessionId": d.get("sid"), "subscriber": d.get("subscriber"),
            "user": d.get("user"), "nas": d.get("nas"), "nasIp": d.get("nas_ip"), "nasId": d.get("nas_id"),
            "framedIp": d.get("framed_ip"), "calling": d.get("calling"), "started": d.get("start"),
            "updated": d.get("updated"), "octets": d.get("octets"), "seconds": d.get("seconds"),
            "disconnectRequested": d.get("disconnect")}


def _ro_out(key: str, d: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ro", "key": key, "sessionId": key, "subscriber": d.get("s"), "started": d.get("t"),
            "peer": key.split(";", 1)[0]}


def _gx_out(key: str, d: dict[str, Any]) -> dict[str, Any]:
    raa = d.get("last_raa") or {}
    return {"kind": "gx", "key": key, "sessionId": key, "subscriber": d.get("service"), "product": d.get("product"),
            "peer": d.get("peer"), "apn": d.get("apn"), "ip": d.get("ip"), "rules": sorted(d.get("installed") or {}),
            "started": d.get("created"), "updated": d.get("updated"), "pushPending": bool(d.get("pending")),
            "lastRaa": raa.get("result")}


def _aaa_out(key: str, d: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "aaa", "key": key, "sessionId": key, "app": AAA_APPS.get(d.get("app") or 0, str(d.get("app"))),
            "subscriber": d.get("service_id") or d.get("imsi"), "imsi": d.get("imsi"), "user": d.get("user_name"),
            "peer": d.get("peer_host"), "apn": d.get("apn"), "state": d.get("state"), "started": d.get("created"),
            "abortRequested": bool(d.get("abort_requested"))}


OUT = {"radius": _radius_out, "ro": _ro_out, "gx": _gx_out, "aaa": _aaa_out}


def _matches(row: dict[str, Any], identities: set[str] | None, peer: str) -> bool:
    if identities is not None:
        own = {str(row.get(k)) for k in ("subscriber", "user", "imsi") if row.get(k)}
        if not identities & own:
            return False
    if peer:
        where = " ".join(str(row.get(k) or "") for k in ("peer", "nas", "nasIp", "nasId"))
        if peer.lower() not in where.lower():
            return False
    return True


def session_page(ledger: Ledger, kind: str, after: str, limit: int, subscriber: str,
                 peer: str) -> dict[str, Any]:
    """One page of ``kind`` sessions after the cursor ``after`` that pass the filters."""
    identities: set[str] | None = None
    if subscriber:
        service = ledger.find_service(subscriber)
        identities = {subscriber} | (set(service.identities()) if service is not None else set())
    out: list[dict[str, Any]] = []
    scanned, cursor, exhausted = 0, after, False
    while len(out) < limit and scanned < SCAN_MAX:
        batch = doc_page(ledger, KINDS[kind], after=cursor, limit=min(SCAN_MAX - scanned, 250))
        if not batch:
            exhausted = True
            break
        for key, doc in batch:
            scanned += 1
            cursor = key
            row = OUT[kind](key, doc)
            if _matches(row, identities, peer):
                out.append(row)
                if len(out) >= limit:
                    break
    if not exhausted:
        exhausted = not doc_page(ledger, KINDS[kind], after=cursor, limit=1)
    # the count is an index range count (~36 ms for 200,000 sessions): on the first page only
    return {"kind": kind, "sessions": out, "next": None if exhausted else cursor, "scanned": scanned,
            "total": doc_count(ledger, KINDS[kind]) if not after else None}


async def _read(request: web.Request, fn: Any) -> Any:
    """A read that does not queue behind the writer when the store has a reader (SQLite WAL)."""
    store = request.app[STORE]
    if hasattr(store, "read"):
        return await asyncio.to_thread(store.read, fn)
    return await store.atransact(fn)


async def list_sessions(request: web.Request) -> web.Response:
    q = request.query
    kind = q.get("kind", "radius")
    if kind not in KINDS:
        raise ApiError(400, f"kind must be one of {', '.join(KINDS)}")
    try:
        limit = int(q.get("limit", PAGE_DEFAULT))
    except ValueError:
        raise ApiError(400, "limit must be an integer") from None
    if not 1 <= limit <= PAGE_MAX:
        raise ApiError(400, f"limit must be 1..{PAGE_MAX}")
    after, subscriber, peer = q.get("after", ""), q.get("subscriber", "").strip(), q.get("peer", "").strip()
    if max(len(after), len(subscriber), len(peer)) > 512:
        raise ApiError(400, "after, subscriber and peer are at most 512 characters")
    return reply(await _read(request, lambda l: session_page(l, kind, after, limit, subscriber, peer)))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "body must be a JSON object") from None
    if not isinstance(body, dict) or not isinstance(body.get("key"), str) or not body["key"]:
        raise ApiError(400, "body must be a JSON object with the session's \"key\"")
    return body


def _coa_changes(raw: Any) -> list[tuple[int, bytes]]:
    if not isinstance(raw, dict) or not raw:
        raise ApiError(400, f"\"set\" must name at least one of {', '.join(COA_ATTRIBUTES)}")
    changes = []
    for name, value in raw.items():
        code = COA_ATTRIBUTES.get(str(name).lower())
        if code is None:
            raise ApiError(400, f"CoA attribute {str(name)[:40]!r}: one of {', '.join(COA_ATTRIBUTES)}")
        if code == 11:
            if not isinstance(value, str) or not value or len(value.encode()) > 253:
                raise ApiError(400, "filter-id must be a text of 1..253 bytes")
            changes.append((code, value.encode()))
        else:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2 ** 32:
                raise ApiError(400, f"{name} must be an integer 0..4294967295 (seconds)")
            changes.append((code, value.to_bytes(4, "big")))
    return changes


async def radius_disconnect(request: web.Request) -> web.Response:
    return await radius_action(request, "disconnect")


async def radius_coa(request: web.Request) -> web.Response:
    return await radius_action(request, "coa")


async def radius_action(request: web.Request, action: str) -> web.Response:
    """Disconnect or CoA (body ``set``: the attributes to change) one RADIUS session (RFC 5176)."""
    from ...radius import coa
    from ...radius import packet as rp
    from ...radius.clients import ClientTable, load_in
    require_admin(request)
    body = await _body(request)
    changes = _coa_changes(body.get("set")) if action == "coa" else []
    cfg = request.app[CFG]
    key = body["key"]
    store = request.app[STORE]

    def find(l: Ledger) -> tuple[dict[str, Any] | None, list[Any]]:
        return l.get_doc(KINDS["radius"], key), load_in(l, cfg.radius.clients)
    doc, clients = await store.atransact(find)
    if doc is None:
        raise ApiError(404, f"no open RADIUS session {key[:120]!r}")
    table = ClientTable(clients)
    client = table.lookup(doc.get("addr") or "") or table.lookup(doc.get("nas_ip") or "")
    if client is None:
        raise ApiError(409, f"the session's NAS {doc.get('addr')!r} is no longer a configured RADIUS client")
    session = dict(doc, coa_port=doc.get("coa_port") or client.coa_port)
    who = request[PRINCIPAL].user
    reason = f"console ({who})"
    code = rp.COA_REQUEST if action == "coa" else rp.DISCONNECT_REQUEST
    result = await coa.dynauth_session(store, key, session, client.secret, cfg.radius.coa_timeout,
                                       cfg.radius.coa_retries, reason, code, changes)
    log.info("console %s of RADIUS session %s by %s: %s", action, doc.get("sid"), who, result.result)
    return reply({"key": key, "action": action, "result": result.result, "code": result.code,
                  "errorCause": result.error_cause, "attempts": result.attempts})


async def gx_reauth(request: web.Request) -> web.Response:
    """Queue a re-authorization (RAR) of one Gx session on the PCRF's push queue, sent even when
    the session's rules are already the policy's (TS 29.212 §4.5.2: the PCEF answers with its
    state; a rule it could not install is reported)."""
    from ...pcrf import tables
    require_admin(request)
    body = await _body(request)
    key = body["key"]
    who = request[PRINCIPAL].user

    def queue(l: Ledger) -> bool:
        if l.get_doc(tables.KIND_SESSION, key) is None:
            return False
        tables.queue_push(l, key, f"operator re-auth (console, {who})", force=True)
        return True
    if not await request.app[STORE].atransact(queue):
        raise ApiError(404, f"no Gx session {key[:120]!r}")
    log.info("console Gx re-auth of %s by %s queued", key, who)
    return reply({"key": key, "action": "reauth", "result": "queued"})


async def aaa_abort(request: web.Request) -> web.Response:
    """Queue an Abort-Session-Request (RFC 6733 §8.5, TS 29.273 §7.1.2.3) for one AAA session
    (SWm/STa/S6b): the Diameter worker that owns the session sends it at its next sweep, and the
    session ends when the access network or PGW answers (ASA) or sends its STR."""
    import time

    from ...diameter.apps.aaa import Aaa
    require_admin(request)
    body = await _body(request)
    key = body["key"]
    who = request[PRINCIPAL].user
    now = int(time.time())
    doc = await request.app[STORE].atransact(
        lambda l: Aaa.request_abort(l, key, f"operator abort (console, {who})", now))
    if doc is None:
        raise ApiError(404, f"no AAA session {key[:120]!r}")
    if doc.get("state") != "open":
        raise ApiError(409, f"the AAA session is {doc.get('state')!r}, not open: an ASR is already under way")
    log.info("console abort of AAA session %s by %s queued", key, who)
    return reply({"key": key, "action": "abort", "result": "queued"})


def routes() -> list[Route]:
    key = obj({"key": STR}, ("key",))
    return [
        Route("GET", "/console/api/sessions", list_sessions, "read",
              "open sessions of one kind (radius, ro, gx, aaa), a page at a time", "console",
              query=(("kind", "radius | ro | gx | aaa"), ("after", "cursor: the last key of the previous page"),
                     ("limit", f"sessions per page (1..{PAGE_MAX})"),
                     ("subscriber", "IMSI, MSISDN, NAI or service id"), ("peer", "NAS, PCEF or peer (substring)")),
              responses={200: "a page", 400: "bad filter"}),
        Route("POST", "/console/api/sessions/radius/disconnect", radius_disconnect, "write",
              "Disconnect-Request to the NAS of a RADIUS session (admin)", "console", body=key,
              responses={200: "the NAS's answer (ack, nak, timeout)", 403: "not admin", 404: "no such session",
                         409: "NAS no longer a client"}),
        Route("POST", "/console/api/sessions/radius/coa", radius_coa, "write",
              "CoA-Request (body \"set\": attributes to change) to the NAS of a RADIUS session (admin)",
              "console", body=obj({"key": STR, "set": obj({"session-timeout": INT, "idle-timeout": INT,
                                                            "acct-interim-interval": INT, "filter-id": STR})},
                                   ("key",)),
              responses={200: "the NAS's answer (ack, nak, timeout)", 403: "not admin", 404: "no such session",
                         409: "NAS no longer a client"}),
        Route("POST", "/console/api/sessions/gx/reauth", gx_reauth, "write",
              "queue a re-authorization (RAR) of a Gx session (admin)", "console", body=key,
              responses={200: "queued", 403: "not admin", 404: "no such session"}),
        Route("POST", "/console/api/sessions/aaa/abort", aaa_abort, "write",
              "queue an Abort-Session-Request for an AAA (SWm/STa/S6b) session (admin)", "console", body=key,
              responses={200: "queued", 403: "not admin", 404: "no such session", 409: "not open"}),
    ]
