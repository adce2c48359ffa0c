"""The OpenAPI 3.0 document, generated from the same route table the server registers."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .. import __version__
from .routes import Route

ERROR = {"type": "object", "properties": {"code": {"type": "string"}, "reason": {"type": "string"},
                                           "status": {"type": "integer"}}, "required": ["code", "reason"]}


def document(routes: Iterable[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag],
                              "operationId": _operation_id(route)}
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
            for name in re.findall(r"{(\w+)}", route.path)]
        params += [{"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}}
                   for n, d in route.query]
        params += [{"name": n, "in": "header", "required": False, "description": d, "schema": {"type": "string"}}
                   for n, d in route.headers]
        if params:
            op["parameters"] = params
        if route.body is not None:
            op["requestBody"] = {"required": not route.body_optional,
                                 "content": {m: {"schema": route.body} for m in route.media}}
        responses: dict[str, Any] = {}
        for status, text in sorted((route.responses or {200: "success"}).items()):
            resp: dict[str, Any] = {"description": text}
            if status != 204:
                resp["content"] = {"application/json": {"schema": ERROR if status >= 400 else {}}}
            responses[str(status)] = resp
        responses.setdefault("400", {"description": "bad input",
                                     "content": {"application/json": {"schema": ERROR}}})
        if route.perm is not None:
            responses["401"] = {"description": "authentication required",
                                "content": {"application/json": {"schema": ERROR}}}
            responses["403"] = {"description": "role does not allow this",
                                "content": {"application/json": {"schema": ERROR}}}
        else:
            op["security"] = []
        op["responses"] = responses
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "OCS appliance REST API", "version": __version__,
                 "description": "TMF620/637/638/654/635/639, Nrf rating, quota and wallet APIs."},
        "paths": paths,
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                           "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}],
    }


def _operation_id(route: Route) -> str:
    words = re.sub(r"[{}]", "", route.path).replace("/tmf-api/", "/").split("/")
    return route.method.lower() + "".join(w[:1].upper() + w[1:] for w in words if w and not re.match(r"v\d", w))
