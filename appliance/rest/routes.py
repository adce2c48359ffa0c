"""The route table: one list of :class:`Route` feeds both aiohttp and the OpenAPI document.

Every route names the permission it needs (``read``, ``write``, ``charge``, or ``None`` for
the unauthenticated ``/health``) and, for a body, its JSON schema, so ``/openapi.json``
cannot drift from what the server answers (a test compares the two).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .schema import BOOL, INT, MONEY, OBJ, REF, STR, arr, obj  # noqa: F401  (also named from here)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    perm: str | None
    summary: str
    tag: str
    body: dict[str, Any] | None = None          # JSON schema of the request body
    media: tuple[str, ...] = ("application/json",)
    body_optional: bool = False
    query: tuple[tuple[str, str], ...] = ()     # (name, description) of query parameters
    headers: tuple[tuple[str, str], ...] = ()   # (name, description) of request headers
    responses: dict[int, str] = field(default_factory=dict)
    collection: bool = False                    # a TMF collection GET (filters, Range)


# Typed application keys (aiohttp AppKey): what every handler finds on ``request.app``.
CFG: web.AppKey[Any] = web.AppKey("cfg")
STORE: web.AppKey[Any] = web.AppKey("store")
CHARGING: web.AppKey[Any] = web.AppKey("charging")
CLOCK: web.AppKey[Any] = web.AppKey("clock")
HUB: web.AppKey[Any] = web.AppKey("hub")
AUTH: web.AppKey[Any] = web.AppKey("auth")
OPENAPI: web.AppKey[Any] = web.AppKey("openapi")
ROUTES: web.AppKey[Any] = web.AppKey("routes")
PRINCIPAL: Any = web.RequestKey("principal", object) if hasattr(web, "RequestKey") else "principal"
