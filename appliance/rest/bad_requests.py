"""Requests the HTTP parser refuses (a URL or header line past its limit, broken framing):
answered with the same JSON error document as every other error, logged as one line.

aiohttp answers these before any middleware runs, in ``RequestHandler.handle_error``, with a
text/plain body and a traceback logged at ERROR — so anyone could fill the log.  The runner
below installs a request handler that answers them itself.
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from ..telemetry import metrics
from .http import JSON, dumps, error_body

log = logging.getLogger("appliance.rest")


def status_for(exc: BaseException | None, status: int) -> int:
    """414 for a request line (URL) past the limit, 431 for a header line, else the parser's status."""
    if isinstance(exc, LineTooLong):
        line = exc.args[0] if exc.args else b""
        text = bytes(line).decode("latin-1") if isinstance(line, (bytes, bytearray)) else str(line)
        return 414 if text.startswith(("/", "http:", "https:", "*")) else 431
    return status


class JsonErrorRequestHandler(RequestHandler):
    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError) or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        status = status_for(exc, status)
        reason = {414: "request URL longer than the server accepts (8190 bytes)",
                  431: "a request header line longer than the server accepts (8190 bytes)"}.get(
                      status, "malformed HTTP request")
        metrics.inc(f"rest.http.status_{status}")
        log.warning("%s: %d %s", request.remote, status, reason)
        resp = web.Response(text=dumps(error_body(status, reason)), status=status, content_type=JSON)
        resp.force_close()
        return resp


class JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorAppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer parser errors in JSON (see the module doc)."""

    async def _make_server(self) -> web.Server:
        server: Any = await super()._make_server()
        server.__class__ = JsonErrorServer
        return server  # type: ignore[no-any-return]
