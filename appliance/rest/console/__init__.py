"""The operator console: static pages served by the REST process, and the few read views the
TMF APIs do not give in one call (a subscriber by any identity, the effective configuration);
sessions.py (sessions and their actions), node.py (peers, clients, health), logs.py (transaction
logs, IPDR export), tracing.py (live trace) hold the other screens' routes.

The pages are public (they hold no data); every call they make carries the user's bearer token
from ``POST /auth/token`` and meets the same permission checks as any REST client.  Writes
(top-up, adjustment) go through the TMF654 routes and so through the ledger.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import mimetypes
import re
import time
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from multidict import CIMultiDict

from ...ocs.ports import Ledger
from ..auth import ROLES
from ..http import ApiError, reply
from ..resources import Ctx, ctx_of
from ..routes import AUTH, CFG, PRINCIPAL, STORE, STR, Route, obj

STATIC = Path(__file__).parent / "static"
MAX_TRANSACTIONS = 20
MAX_RESERVATIONS = 100
SECRET_KEY = re.compile(r"secret|password|passphrase|community|key|token|dsn|auth_key|priv_key", re.I)
MASK = "••••••"


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def static(request: web.Request) -> web.StreamResponse:
    return _file(STATIC, request.match_info["name"])


async def vendor(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "vendor", request.match_info["name"])


def _file(folder: Path, name: str) -> web.StreamResponse:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise ApiError(404, f"no such console file {name[:80]!r}")
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return web.FileResponse(path, headers={"Content-Type": ctype, "Cache-Control": "max-age=300"})


@dataclasses.dataclass(frozen=True)
class _Login:
    """What :meth:`Authenticator.authenticate` reads of a request: its headers and peer address."""

    headers: CIMultiDict[str]
    remote: str | None


async def login(request: web.Request) -> web.Response:
    """A bearer token for ``{"user", "password"}``: ``POST /auth/token``'s checks (failed-login
    throttle, counters), but a refusal carries no Basic challenge, which would make the browser
    open its own credentials dialog instead of the page showing the reason."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "body must be JSON {\"user\", \"password\"}") from None
    if not isinstance(body, dict) or not isinstance(body.get("user"), str) or not isinstance(body.get("password"), str):
        raise ApiError(400, "body must be JSON {\"user\", \"password\"} (strings)")
    basic = base64.b64encode(f"{body['user']}:{body['password']}".encode()).decode()
    headers = CIMultiDict(request.headers)
    headers["Authorization"] = "Basic " + basic
    auth = request.app[AUTH]
    try:
        principal = await auth.authenticate(cast(web.Request, _Login(headers, request.remote)))
    except ApiError as exc:
        if exc.status != 401:
            raise
        raise ApiError(401, exc.reason) from None
    return reply(await auth.issue_token(principal))


async def whoami(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    perms = sorted({p for r in principal.roles for p in ROLES.get(r, ())})
    return reply({"user": principal.user, "roles": sorted(principal.roles), "permissions": perms})


def _reservation_out(r: Any) -> dict[str, Any]:
    return {"sessionId": r.session_id, "ratingGroup": r.rating_group, "unit": r.unit.value,
            "granted": r.granted, "held": sum(h.amount for h in r.holds), "used": r.used,
            "created": r.created, "expires": r.expires}


def _subscriber(ledger: Ledger, identity: str, ctx: Ctx) -> dict[str, Any] | None:
    from ..tmf654 import _held, accumulated, bucket_out
    service, product = ledger.find_subscriber(identity)
    if service is None:
        return None
    out: dict[str, Any] = {"service": {"id": service.id, "imsi": service.imsi, "msisdn": service.msisdn,
                                       "nai": service.nai, "enabled": service.enabled},
                           "product": None, "balance": None, "buckets": [], "reservations": []}
    if product is not None:
        held = _held(ledger, product.id)
        out["product"] = {"id": product.id, "offer": product.offer}
        out["balance"] = accumulated(ledger, product.id, ctx)
        out["buckets"] = [bucket_out(b, ctx, held.get(b.id, 0))
                          for b in sorted(ledger.buckets(product.id), key=lambda b: b.id)]
        out["reservations"] = [_reservation_out(r)
                               for r in ledger.product_reservations(product.id)[:MAX_RESERVATIONS]]
        out["gxSessions"] = _gx_sessions(ledger, product.id)
    return out


def _gx_sessions(ledger: Ledger, product_id: str) -> list[dict[str, Any]]:
    """The product's Gx sessions (the PCRF's per-product index), at most MAX_RESERVATIONS."""
    from ...pcrf import tables
    keys = [k.split("|", 1)[1] for k, _ in ledger.list_docs(tables.KIND_BY_PRODUCT, f"{product_id}|")]
    docs = ledger.get_docs(tables.KIND_SESSION, keys[:MAX_RESERVATIONS])
    return [{"sessionId": sid, "peer": d.get("peer"), "apn": d.get("apn"), "ip": d.get("ip"),
             "rules": sorted(d.get("installed") or {}), "created": d.get("created"), "updated": d.get("updated")}
            for sid, d in sorted(docs.items())]


def _transactions(cfg: Any, identities: set[str]) -> list[dict[str, Any]]:
    """The newest acct log records of the last 24 hours naming one of ``identities``."""
    from ..tmf635 import _read, usage_out
    since = (int(time.time()) - 86_400) * 1_000_000
    found = [r for r in _read(cfg, since, None)
             if identities & {str(r.get(k)) for k in ("subscriber", "imsi", "msisdn", "username") if r.get(k)}]
    return [usage_out(r, cfg.money.scale, cfg.money.currency) for r in found[-MAX_TRANSACTIONS:]][::-1]


async def subscriber(request: web.Request) -> web.Response:
    identity = request.query.get("identity", "").strip()
    if not identity or len(identity) > 253:
        raise ApiError(400, "identity (IMSI, MSISDN or NAI, at most 253 characters) is required")
    ctx = ctx_of(request)
    found = await request.app[STORE].atransact(lambda l: _subscriber(l, identity, ctx))
    if found is None:
        raise ApiError(404, f"no subscriber with identity {identity!r}")
    ids = {x for x in found["service"].values() if isinstance(x, str)} | {identity}
    try:
        found["transactions"] = await asyncio.to_thread(_transactions, request.app[CFG], ids)
    except (ImportError, OSError):
        found["transactions"] = []
    return reply(found)


def masked(value: Any, key: str = "") -> Any:
    """A configuration value with every secret replaced by a mask (keys naming a secret)."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v, key) for v in value]
    if key and SECRET_KEY.search(key) and value not in (None, "", False, True) and not isinstance(value, (int, float)):
        return MASK
    return value


async def configuration(request: web.Request) -> web.Response:
    cfg = request.app[CFG]
    return reply(masked(dataclasses.asdict(cfg)))


def routes() -> list[Route]:
    from . import logs, node, sessions, tracing
    return [
        Route("GET", "/console", index, None, "the operator console (a static page; its calls authenticate)",
              "console", responses={200: "HTML"}),
        Route("GET", "/console/static/{name}", static, None, "the console's scripts and styles",
              "console", responses={200: "file", 404: "unknown"}),
        Route("GET", "/console/static/vendor/{name}", vendor, None,
              "the libraries the console uses (and their licences)", "console",
              responses={200: "file", 404: "unknown"}),
        Route("POST", "/console/api/login", login, None, "a bearer token for a user name and password (no Basic "
              "challenge on refusal)", "console", body=obj({"user": STR, "password": STR}, ("user", "password")),
              responses={200: "token", 401: "bad credentials", 429: "too many failed logins"}),
        Route("GET", "/console/api/whoami", whoami, "read", "the caller's user, roles and permissions", "console"),
        Route("GET", "/console/api/subscriber", subscriber, "read",
              "a subscriber by IMSI, MSISDN or NAI: balance, buckets, reservations, recent transactions",
              "console", query=(("identity", "IMSI, MSISDN or NAI"),), responses={200: "subscriber", 404: "unknown"}),
        Route("GET", "/console/api/config", configuration, "read", "the effective configuration, secrets masked",
              "console"),
        *sessions.routes(), *node.routes(), *logs.routes(), *tracing.routes(),
    ]
