"""HTTP plumbing shared by every API family: JSON answers and the request body read strictly.

The rules that need no HTTP server (client errors, fields, money and time text) are in
:mod:`appliance.rest.fields`, also named from here; bad input raises :class:`ApiError`,
answered as ``{"code", "reason"}`` with a 4xx status, never a 500.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from .fields import (  # noqa: F401  (the fields' rules, also named from here)
    JSON,
    MAX_AMOUNT,
    MAX_DEPTH,
    MAX_MONEY_TEXT,
    MAX_SECONDS,
    ApiError,
    as_int,
    body_from_wire,
    body_to_wire,
    check_fields,
    dumps,
    error_body,
    get_bool,
    get_list,
    get_obj,
    get_str,
    iso,
    money_text,
    need_object,
    need_str,
    nesting,
    parse_iso,
    parse_json,
    parse_money,
    parse_valid_for,
    plain,
    ref_id,
    valid_for,
)
from .routes import CFG


def reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None,
          content_type: str = JSON) -> web.Response:
    return web.Response(text=dumps(body), status=status, headers=headers, content_type=content_type)


async def read_json(request: web.Request, media: Iterable[str] = (JSON,), optional: bool = False) -> Any:
    """The request body as JSON; 413 past ``client_max_size``, 415 for another media type."""
    if request.content_length == 0 or (not request.body_exists):
        if optional:
            return None
        raise ApiError(400, "empty body: a JSON document is required")
    allowed = tuple(media)
    if "Content-Type" not in request.headers:        # aiohttp reports a missing type as octet-stream
        raise ApiError(415, f"no Content-Type: send {', '.join(allowed)}")
    ctype = request.content_type
    if ctype not in allowed:
        raise ApiError(415, f"content type {ctype!r} not accepted here (use {', '.join(allowed)})")
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ApiError(415, f"charset {charset[:40]!r} not accepted: JSON is UTF-8 (RFC 8259 §8.1)")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, f"body larger than {request.app[CFG].rest.max_body} bytes") from None
    if not raw and optional:
        return None
    return parse_json(raw)
