"""The ``rest`` role: one aiohttp server for every REST API family (HTTPS when ``rest.tls``).

aiohttp was chosen over Starlette+uvicorn: measured ~12k req/s against 8k (2k without
uvloop/httptools) on this machine (../shared/LIBRARIES.md), a single well-kept dependency that is
also the HTTP client the hub needs.  Every route except ``/health`` is authenticated; every
error is JSON ``{"code", "reason", "status"}``; a bug is answered 500, logged and counted.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..config import Config
from ..ledger.api import LedgerClient, client_for
from ..ocs.charging import Charging
from ..ocs.ports import Store
from ..telemetry import metrics
from . import openapi
from .auth import Authenticator, FailedLogins, Principal
from .http import ApiError, error_body, reply
from .hub import Hub, RetryPolicy, lease_for
from .routes import AUTH, CFG, CHARGING, CLOCK, HUB, OPENAPI, PRINCIPAL, ROUTES, STORE, Route

log = logging.getLogger("appliance.rest")
access = logging.getLogger("appliance.rest.access")


_REST_LATENCY = {m: f"rest.{m.lower()}" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}


def all_routes() -> list[Route]:
    from . import console, nrf, prometheus, quota, tmf620, tmf635, tmf637, tmf638, tmf639, tmf654, wallet
    from .hub import hub_routes
    routes: list[Route] = [
        Route("GET", "/openapi.json", openapi_handler, "read", "this OpenAPI 3 document", "meta"),
        Route("POST", "/auth/token", token_handler, "read", "issue a bearer token (authenticate with Basic)",
              "meta", responses={200: "token", 401: "bad credentials"}),
    ]
    routes += quota.routes()
    for module in (tmf620, tmf637, tmf638, tmf654, tmf635, tmf639):
        routes += module.routes()
        routes += hub_routes(module.API)
    routes += nrf.routes()
    routes += wallet.routes()
    routes += prometheus.routes()
    routes += console.routes()
    return routes


async def openapi_handler(request: web.Request) -> web.Response:
    return reply(request.app[OPENAPI])


async def token_handler(request: web.Request) -> web.Response:
    if not request.headers.get("Authorization", "").lower().startswith("basic "):
        raise ApiError(401, "a token is issued against HTTP Basic credentials")
    return reply(await request.app[AUTH].issue_token(request[PRINCIPAL]))


def _guard(route: Route) -> Callable[[web.Request], Any]:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if route.perm is not None:
            principal: Principal = await request.app[AUTH].authenticate(request)
            if not principal.allows(route.perm):
                raise ApiError(403, f"user {principal.user!r} lacks the {route.perm!r} permission")
            request[PRINCIPAL] = principal
        return await route.handler(request)
    return guarded


@web.middleware
async def errors_and_log(request: web.Request, handler: Any) -> web.StreamResponse:
    """JSON errors with a reason; one access-log line per request (never credentials or bodies)."""
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except ApiError as exc:
        status = exc.status
        metrics.inc(f"rest.http.status_{exc.status}")
        return reply(error_body(exc.status, exc.reason, exc.code), exc.status, getattr(exc, "headers", None))
    except web.HTTPException as exc:  # aiohttp's own: 404 no route, 405, 413, redirects
        status = exc.status
        if exc.status < 400:
            raise
        metrics.inc(f"rest.http.status_{exc.status}")
        reason = {404: f"no such resource {request.path[:80]!r}", 405: f"method {request.method} not allowed here",
                  413: f"body larger than {request.app[CFG].rest.max_body} bytes"}.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        return reply(error_body(exc.status, reason), exc.status, headers)
    except asyncio.CancelledError:
        status = 499
        raise
    except Exception:
        metrics.inc("rest.http.internal_errors")
        log.exception("internal error on %s %s", request.method, request.path)
        return reply(error_body(500, "internal error (logged)"), 500)
    finally:
        metrics.inc("rest.http.requests")
        metrics.latency(_REST_LATENCY.get(request.method, "rest.other")).observe(time.perf_counter() - start)
        if request.app[CFG].rest.access_log:
            principal = request.get(PRINCIPAL)
            access.info("%s %s %s %d %.1fms %s", request.remote, request.method, request.path, status,
                        (time.perf_counter() - start) * 1000, principal.user if principal else "-")


def build_app(cfg: Config, store: Store, charging: Charging | LedgerClient | None = None,
              clock: Callable[[], float] = time.time) -> web.Application:
    app = web.Application(client_max_size=cfg.rest.max_body,
                          middlewares=[errors_and_log,
                                       web.normalize_path_middleware(append_slash=False, merge_slashes=True,
                                                                     redirect_class=web.HTTPPermanentRedirect)])
    app[CFG] = cfg
    app[STORE] = store
    app[CHARGING] = charging or client_for(cfg, store, clock)
    app[CLOCK] = clock
    app[AUTH] = Authenticator(store, cfg.rest.token_ttl, cfg.rest.auth_cache_ttl,
                              FailedLogins(cfg.rest.login_failures, cfg.rest.login_window, cfg.rest.login_block))
    rc = cfg.rest
    app[HUB] = Hub(store, rc.hub_backlog, rc.hub_timeout,
                   RetryPolicy(rc.hub_retry_base, rc.hub_retry_cap, rc.hub_retry_max, lease_for(rc.hub_timeout)))
    routes = all_routes()
    app[ROUTES] = routes
    app[OPENAPI] = openapi.document(routes)
    for route in routes:
        app.router.add_route(route.method, route.path, _guard(route))

    async def on_startup(app: web.Application) -> None:
        await app[HUB].start()

    async def on_cleanup(app: web.Application) -> None:
        await app[HUB].stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def ssl_context(cfg: Config) -> ssl.SSLContext | None:
    if not cfg.rest.tls:
        return None
    from ..tls import ensure_certificate
    cert, key = ensure_certificate(cfg)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


async def start_site(app: web.Application, cfg: Config, port: int | None = None,
                     address: str | None = None) -> web.AppRunner:
    from .bad_requests import JsonErrorAppRunner
    runner = JsonErrorAppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, address or cfg.rest.address, cfg.rest.port if port is None else port,
                       ssl_context=ssl_context(cfg), reuse_port=True, backlog=1024)
    await site.start()
    return runner


def build_metrics_app(cfg: Config, store: Store) -> web.Application:
    """``rest.metrics_port``: ``GET /metrics`` alone (every other path 404), authenticated as on
    the REST port unless ``rest.metrics_auth: false``; same TLS setting."""
    from . import prometheus
    app = web.Application(client_max_size=1024, middlewares=[errors_and_log])
    app[CFG] = cfg
    app[STORE] = store
    app[AUTH] = Authenticator(store, cfg.rest.token_ttl, cfg.rest.auth_cache_ttl,
                              FailedLogins(cfg.rest.login_failures, cfg.rest.login_window, cfg.rest.login_block))
    for route in prometheus.routes():
        if not cfg.rest.metrics_auth:
            route = dataclasses.replace(route, perm=None)
        app.router.add_route(route.method, route.path, _guard(route))
    return app


def main(cfg: Config, index: int = 0) -> int:
    from ..runtime import run_async
    from ..store import open_store
    if not cfg.rest.enabled:
        log.info("rest disabled in the configuration")
        return 0
    store = open_store(cfg)
    try:  # transaction logs (appliance.logs): configure is idempotent if run_role already did it
        from ..logs import translog
        if not translog.enabled():
            translog.configure(cfg, "rest", index)
    except ImportError:
        pass

    async def serve(stop: asyncio.Event) -> None:
        app = build_app(cfg, store)
        runners = [await start_site(app, cfg)]
        log.info("REST listening on %s:%d (%s)", cfg.rest.address, cfg.rest.port, "https" if cfg.rest.tls else "http")
        if cfg.rest.metrics_port:
            address = cfg.rest.metrics_address or cfg.rest.address
            runners.append(await start_site(build_metrics_app(cfg, store), cfg, cfg.rest.metrics_port, address))
            log.info("metrics listening on %s:%d (%s, %s)", address, cfg.rest.metrics_port,
                     "https" if cfg.rest.tls else "http",
                     "authenticated" if cfg.rest.metrics_auth else "no authentication")
        await stop.wait()
        for runner in runners:
            await runner.shutdown()
            await runner.cleanup()

    try:
        return run_async(serve)
    finally:
        store.close()
