"""TMF630 REST design guidelines: filtering, attribute selection, pagination, PATCH.

- Field filters (TMF630 Part 1 §4): ``?status=active&productOffering.id=a,b`` (a comma is OR),
  with ``.gt .gte .lt .lte`` suffixes; ``?fields=id,name`` keeps those attributes.
- ``?filter=`` (TMF630 Part 6, JSONPath subset): ``[?(@.status=='active' && @.remainedAmount.amount>10)]``;
  operators ``== != < <= > >=``, values quoted strings, numbers, true/false; ``&&`` and ``||``
  (``&&`` binds tighter).  Parsed into data, never evaluated as code.
- Pagination (TMF630 Part 1 §5): ``Range: items=1-100`` (1-based, inclusive) or ``offset``/``limit``;
  the answer carries ``Content-Range: items 1-100/2500``, ``X-Total-Count`` and an ``Etag`` of
  the whole result; a later page sent with ``If-Match`` is refused with 412 when the result changed.
- PATCH: ``application/merge-patch+json`` (RFC 7386) and ``application/json-patch+json``
  (RFC 6902, with RFC 6901 pointers).
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .fields import ApiError

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
RESERVED_PARAMS = frozenset({"fields", "filter", "offset", "limit", "sort", "depth", "expand"})

# --- field access ---------------------------------------------------------------------------------


def values_at(doc: Any, path: Sequence[str]) -> list[Any]:
    """All values at a dotted path; arrays on the way fan out (``productCharacteristic.name``)."""
    current = [doc]
    for part in path:
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, list):
                for el in item:
                    if isinstance(el, dict) and part in el:
                        nxt.append(el[part])
            elif isinstance(item, dict) and part in item:
                nxt.append(item[part])
        current = nxt
        if not current:
            break
    flat: list[Any] = []
    for v in current:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        if op == "==":
            return str(actual).lower() == str(expected).lower()
        if op == "!=":
            return str(actual).lower() != str(expected).lower()
        return False
    num_a, num_e = _number(actual), _number(expected)
    if num_a is not None and num_e is not None:
        a: Any = num_a
        e: Any = num_e
    else:
        a, e = str(actual), str(expected)
    if op == "==":
        return bool(a == e)
    if op == "!=":
        return bool(a != e)
    try:
        return {"<": a < e, "<=": a <= e, ">": a > e, ">=": a >= e}[op]
    except TypeError:
        return False


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return Decimal(value)
    return None


# --- filters --------------------------------------------------------------------------------------

Clause = tuple[tuple[str, ...], str, Any]  # path, operator, value
Filter = list[list[Clause]]                  # OR of ANDs

_SUFFIX = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "ne": "!=", "eq": "=="}
_TOKEN = re.compile(r"""\s*(?:(?P<path>@(?:\.[A-Za-z_@][\w@-]*)+)|(?P<op>==|!=|<=|>=|<|>)|(?P<and>&&)|(?P<or>\|\|)
                        |'(?P<sq>(?:[^'\\]|\\.)*)'|"(?P<dq>(?:[^"\\]|\\.)*)"|(?P<num>-?\d+(?:\.\d+)?)
                        |(?P<bool>true|false))""", re.VERBOSE)
MAX_CLAUSES = 32


def parse_query_filters(query: Mapping[str, str] | Any) -> Filter:
    """Field filters from the query string (all must hold), plus the ``filter`` expression."""
    ands: list[Clause] = []
    for key in query.keys():
        if key in RESERVED_PARAMS:
            continue
        for raw in query.getall(key) if hasattr(query, "getall") else [query[key]]:
            name, op = key, "=="
            base, _, suffix = key.rpartition(".")
            if base and suffix in _SUFFIX:
                name, op = base, _SUFFIX[suffix]
            path = tuple(p for p in name.split(".") if p)
            if not path:
                raise ApiError(400, f"bad filter parameter {key!r}")
            options = raw.split(",") if op == "==" else [raw]
            ands.append((path, op, options if len(options) > 1 else options[0]))
            if len(ands) > MAX_CLAUSES:
                raise ApiError(400, f"more than {MAX_CLAUSES} filter clauses")
    expression = query.get("filter")
    ors = parse_filter(expression) if expression else [[]]
    return [ands + group for group in ors]


def parse_filter(text: str) -> Filter:
    """``[?(@.a=='x' && @.b>1 || @.c!=true)]`` -> OR of AND clause lists."""
    body = text.strip()
    m = re.fullmatch(r"\[\s*\?\s*\((.*)\)\s*\]", body, re.DOTALL)
    if m:
        body = m.group(1)
    groups: list[list[Clause]] = [[]]
    pos, expect = 0, "path"
    path: tuple[str, ...] = ()
    op = ""
    count = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        tok = _TOKEN.match(body, pos)
        if tok is None:
            raise ApiError(400, f"filter: cannot parse at {body[pos:pos + 20]!r}")
        pos = tok.end()
        kind = tok.lastgroup
        if expect == "path":
            if kind != "path":
                raise ApiError(400, "filter: expected @.attribute")
            path = tuple(tok.group("path").split(".")[1:])
            expect = "op"
        elif expect == "op":
            if kind != "op":
                raise ApiError(400, "filter: expected a comparison operator")
            op = tok.group("op")
            expect = "value"
        elif expect == "value":
            if kind in ("sq", "dq"):
                value: Any = re.sub(r"\\(.)", r"\1", tok.group(kind))
            elif kind == "num":
                value = Decimal(tok.group("num"))
            elif kind == "bool":
                value = tok.group("bool") == "true"
            else:
                raise ApiError(400, "filter: expected a value ('text', number, true or false)")
            groups[-1].append((path, op, value))
            count += 1
            if count > MAX_CLAUSES:
                raise ApiError(400, f"filter: more than {MAX_CLAUSES} clauses")
            expect = "join"
        else:
            if kind == "and":
                expect = "path"
            elif kind == "or":
                groups.append([])
                expect = "path"
            else:
                raise ApiError(400, "filter: expected && or ||")
    if expect != "join":
        raise ApiError(400, "filter: incomplete expression")
    return groups


def matches(doc: Mapping[str, Any], flt: Filter) -> bool:
    return any(all(_clause(doc, c) for c in group) for group in flt)


def _clause(doc: Mapping[str, Any], clause: Clause) -> bool:
    path, op, expected = clause
    found = values_at(doc, path)
    if isinstance(expected, list):
        return any(_compare(v, "==", e) for v in found for e in expected)
    if op == "!=":
        return all(_compare(v, "!=", expected) for v in found)
    return any(_compare(v, op, expected) for v in found)


def select_fields(doc: Mapping[str, Any], fields: str | None) -> Mapping[str, Any]:
    """TMF630 attribute selection; ``id``, ``href`` and ``@type`` are always kept."""
    if not fields or fields == "none":
        return doc if not fields else {k: doc[k] for k in ("id", "href", "@type") if k in doc}
    keep = {f.strip().split(".")[0] for f in fields.split(",") if f.strip()} | {"id", "href", "@type"}
    return {k: v for k, v in doc.items() if k in keep}


# --- pagination -----------------------------------------------------------------------------------

def page_bounds(range_header: str | None, offset: str | None, limit: str | None, total: int,
                page_max: int) -> tuple[int, int]:
    """0-based [start, end) of the page to send; 416 for an unsatisfiable or malformed range."""
    if range_header is not None:
        m = re.fullmatch(r"\s*items\s*=\s*(\d{1,12})\s*-\s*(\d{1,12})\s*", range_header)
        if not m:
            raise ApiError(416, f"bad Range {range_header[:60]!r}: use items=FIRST-LAST (1-based)")
        first, last = int(m.group(1)), int(m.group(2))
        if first < 1 or last < first:
            raise ApiError(416, f"bad Range items={first}-{last}: need 1 <= first <= last")
        if first > max(total, 1) or (total == 0 and first > 1):
            raise ApiError(416, f"Range starts at item {first} but there are {total} items")
        start, end = first - 1, min(last, total, first - 1 + page_max)
        return start, end
    start = _param_int(offset, "offset", 0)
    count = _param_int(limit, "limit", page_max)
    if count < 1:
        raise ApiError(400, "limit must be at least 1")
    return min(start, total), min(total, start + min(count, page_max))


def _param_int(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,12}", value):
        raise ApiError(400, f"{name} must be a non-negative integer")
    return int(value)


def result_etag(items: Sequence[Mapping[str, Any]]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
    return '"' + digest.hexdigest()[:32] + '"'


# --- PATCH ----------------------------------------------------------------------------------------

def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 §2: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


MAX_OPS = 256


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 §4: add, remove, replace, move, copy, test; all or nothing (409/422 on failure)."""
    if not isinstance(operations, list):
        raise ApiError(400, "a JSON Patch document is an array of operations (RFC 6902 §3)")
    if len(operations) > MAX_OPS:
        raise ApiError(400, f"more than {MAX_OPS} patch operations")
    doc = copy.deepcopy(target)
    for i, op in enumerate(operations):
        where = f"patch[{i}]"
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
            raise ApiError(400, f"{where}: needs string members 'op' and 'path'")
        name, path = op["op"], _pointer(op["path"], where)
        if name in ("add", "replace", "test") and "value" not in op:
            raise ApiError(400, f"{where}: '{name}' needs a 'value'")
        if name == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]), where)
        elif name == "remove":
            doc = _remove(doc, path, where)[0]
        elif name == "replace":
            doc = _remove(doc, path, where)[0]
            doc = _add(doc, path, copy.deepcopy(op["value"]), where)
        elif name in ("move", "copy"):
            if not isinstance(op.get("from"), str):
                raise ApiError(400, f"{where}: '{name}' needs a string 'from'")
            src = _pointer(op["from"], where)
            if name == "move" and path[:len(src)] == src and len(path) > len(src):
                raise ApiError(422, f"{where}: cannot move a value into itself")
            if name == "move":
                doc, value = _remove(doc, src, where)
            else:
                value = copy.deepcopy(_get(doc, src, where))
            doc = _add(doc, path, value, where)
        elif name == "test":
            if _get(doc, path, where) != op["value"]:
                raise ApiError(409, f"{where}: test failed at {op['path']!r}")
        else:
            raise ApiError(400, f"{where}: unknown op {name!r}")
    return doc


def _pointer(text: str, where: str) -> list[str]:
    """RFC 6901 §3-4: '/a/b~1c' -> ['a', 'b/c']."""
    if text == "":
        return []
    if not text.startswith("/"):
        raise ApiError(400, f"{where}: JSON pointer {text[:40]!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in text[1:].split("/")]


def _parent(doc: Any, path: list[str], where: str) -> Any:
    return _get(doc, path[:-1], where)


def _get(doc: Any, path: list[str], where: str) -> Any:
    cur = doc
    for part in path:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and re.fullmatch(r"0|[1-9]\d*", part) and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise ApiError(422, f"{where}: path /{'/'.join(path)} does not exist")
    return cur


def _add(doc: Any, path: list[str], value: Any, where: str) -> Any:
    if not path:
        return value
    parent, key = _parent(doc, path, where), path[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        if key == "-":
            parent.append(value)
        elif re.fullmatch(r"0|[1-9]\d*", key) and int(key) <= len(parent):
            parent.insert(int(key), value)
        else:
            raise ApiError(422, f"{where}: bad array index {key!r}")
    else:
        raise ApiError(422, f"{where}: cannot add below a scalar")
    return doc


def _remove(doc: Any, path: list[str], where: str) -> tuple[Any, Any]:
    if not path:
        raise ApiError(422, f"{where}: cannot remove the whole document")
    parent, key = _parent(doc, path, where), path[-1]
    if isinstance(parent, dict) and key in parent:
        return doc, parent.pop(key)
    if isinstance(parent, list) and re.fullmatch(r"0|[1-9]\d*", key) and int(key) < len(parent):
        return doc, parent.pop(int(key))
    raise ApiError(422, f"{where}: path /{'/'.join(path)} does not exist")


def apply_patch(content_type: str, current: Mapping[str, Any], body: Any,
                readonly: Sequence[str] = ("id", "href")) -> dict[str, Any]:
    """Apply either PATCH kind; read-only attributes may not change."""
    if content_type == JSON_PATCH:
        patched = json_patch(dict(current), body)
    else:
        if not isinstance(body, dict):
            raise ApiError(400, "a merge patch (RFC 7386) must be a JSON object here")
        patched = merge_patch(dict(current), body)
    if not isinstance(patched, dict):
        raise ApiError(422, "the patched resource is not a JSON object")
    for key in readonly:
        if patched.get(key) != current.get(key):
            raise ApiError(422, f"attribute {key!r} is read-only")
    return patched


Fetch = Callable[[], list[dict[str, Any]]]
