"""JSON schemas of request bodies, as data (OpenAPI 3.1 / JSON Schema 2020-12 keywords).

The route table (:mod:`appliance.rest.routes`) and the resource kinds (:mod:`appliance.rest.kinds`)
declare their bodies with these; no HTTP server is imported here.
"""
from __future__ import annotations

from typing import Any

OBJ: dict[str, Any] = {"type": "object"}
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
MONEY: dict[str, Any] = {"oneOf": [{"type": "string"}, {"type": "number"}]}
REF: dict[str, Any] = {"type": "object", "properties": {"id": STR, "href": STR, "name": STR},
                       "required": ["id"]}


def obj(props: dict[str, Any], required: tuple[str, ...] = (), extra: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


def arr(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}
