"""The REST APIs' input and output rules, without HTTP: client errors, strict JSON, fields, money
and time text.

Bad input is the client's error (h11's first kind): it raises :class:`ApiError`, answered as
``{"code", "reason"}`` with a 4xx status and counted; it never becomes a 500.  Money stays an
integer of minor units inside the appliance; on the TMF wire it is an exact decimal string in
currency units (``"1.250000"``).  This module imports no HTTP server: the transaction functions the
ledger role runs for REST (:mod:`appliance.rest.ledger_ops`) validate with it.
"""
from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

JSON = "application/json"
MAX_AMOUNT = 10**15        # largest quantity or money (minor units) accepted on input; far below SQLite's 2^63
MAX_DEPTH = 64             # deepest JSON nesting accepted
MAX_SECONDS = 100 * 366 * 86_400   # longest relative validity (expiry) accepted


class ApiError(Exception):
    """A client error: HTTP ``status`` with a machine ``code`` and a human ``reason``."""

    def __init__(self, status: int, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail: Any = None          # plain data for the caller (never sent to the client)
        self.code = code or {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                             405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
                             413: "too_large", 414: "uri_too_long", 415: "unsupported_media_type",
                             416: "range_not_satisfiable", 422: "unprocessable", 429: "too_many_requests",
                             431: "header_too_large"}.get(status, "error")


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=_default)


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def error_body(status: int, reason: str, code: str = "") -> dict[str, Any]:
    err = ApiError(status, reason, code)
    return {"code": err.code, "reason": reason, "status": status}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a body strictly: floats as exact Decimals, no NaN/Infinity, UTF-8 only."""
    if not raw:
        raise ApiError(400, "empty body: a JSON document is required")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ApiError(400, "body is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"broken JSON: {str(exc)[:120]}") from None
    if nesting(value) > MAX_DEPTH:
        raise ApiError(400, f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def nesting(value: Any) -> int:
    """Depth of a parsed JSON value, computed without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def need_object(value: Any, where: str = "body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, f"{where} must be a JSON object")
    return value


def check_fields(doc: Mapping[str, Any], allowed: Iterable[str], where: str = "body",
                 required: Iterable[str] = ()) -> None:
    """Unknown fields are rejected (a typo must not be silently ignored); required ones present."""
    known = set(allowed)
    unknown = sorted(k for k in doc if k not in known)
    if unknown:
        raise ApiError(400, f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")
    for name in required:
        if name not in doc or doc[name] is None:
            raise ApiError(400, f"{where}: field {name!r} is required")


def get_str(doc: Mapping[str, Any], key: str, where: str = "body", default: str | None = None,
            max_len: int = 256) -> str | None:
    value = doc.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{where}.{key} must be a string")
    if len(value) > max_len:
        raise ApiError(400, f"{where}.{key} longer than {max_len} characters")
    return value


def need_str(doc: Mapping[str, Any], key: str, where: str = "body", max_len: int = 256) -> str:
    value = get_str(doc, key, where, max_len=max_len)
    if not value:
        raise ApiError(400, f"{where}.{key} is required (a non-empty string)")
    return value


def as_int(value: Any, where: str, minimum: int | None = 0, maximum: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{where} must be an integer")
    if minimum is not None and value < minimum:
        raise ApiError(400, f"{where} must be at least {minimum}")
    if value > maximum:
        raise ApiError(400, f"{where} must be at most {maximum}")
    return value


def get_bool(doc: Mapping[str, Any], key: str, where: str = "body", default: bool | None = None) -> bool | None:
    value = doc.get(key, default)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ApiError(400, f"{where}.{key} must be true or false")
    return value


def get_obj(doc: Mapping[str, Any], key: str, where: str = "body") -> dict[str, Any] | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(400, f"{where}.{key} must be an object")
    return value


def get_list(doc: Mapping[str, Any], key: str, where: str = "body", max_items: int = 1000) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(400, f"{where}.{key} must be an array")
    if len(value) > max_items:
        raise ApiError(400, f"{where}.{key} has more than {max_items} items")
    return value


# --- money: integer minor units <-> exact decimal text ------------------------------------------

def money_text(minor: int, scale: int) -> str:
    """``1250000`` minor units at scale 1,000,000 -> ``"1.250000"``."""
    digits = len(str(scale)) - 1
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), scale)
    return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"


_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")     # [0-9]: ASCII digits only, whatever the locale
MAX_MONEY_TEXT = 40


def parse_money(value: Any, scale: int, where: str) -> int:
    """Exact decimal (string or JSON number) in currency units -> minor units; finer than scale is refused.

    A string is a plain ASCII decimal (``"12"``, ``"-0.50"``): no blanks, ``+``, exponent, grouping
    or non-ASCII digits (``Decimal`` and ``int`` would read ``"١٢"`` or ``" 1 "`` as numbers).  A JSON
    number (read as an exact ``Decimal``) may use an exponent if it denotes an exact amount."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ApiError(400, f"{where} must be a decimal number or string")
    if isinstance(value, str):
        if len(value) > MAX_MONEY_TEXT or not _PLAIN_DECIMAL.fullmatch(value):
            raise ApiError(400, f"{where}: {value[:MAX_MONEY_TEXT]!r} is not a plain decimal amount (ASCII digits "
                                f"0-9, an optional leading '-' and '.' fraction, e.g. \"12.50\"; no spaces, '+', "
                                f"exponent or other digits)")
    try:
        dec = Decimal(value)
    except InvalidOperation:
        raise ApiError(400, f"{where}: {str(value)[:40]!r} is not a decimal number") from None
    if not dec.is_finite():
        raise ApiError(400, f"{where} must be finite")
    if dec.adjusted() > 18:  # before any arithmetic: "1e999999" must not become a huge integer
        raise ApiError(400, f"{where} is out of range")
    minor = dec * scale
    if minor != minor.to_integral_value():
        raise ApiError(400, f"{where}: more decimals than the money scale allows (1/{scale})")
    result = int(minor)
    if abs(result) > MAX_AMOUNT:
        raise ApiError(400, f"{where} is out of range (at most {MAX_AMOUNT} minor units)")
    return result


# --- time ---------------------------------------------------------------------------------------

def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{where} must be an ISO 8601 date-time string")
    try:
        dt = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{where}: {value[:40]!r} is not an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.UTC)
    try:
        return int(dt.timestamp())
    except (OverflowError, OSError, ValueError):
        raise ApiError(400, f"{where} is out of range") from None


def valid_for(start: int | None, end: int | None) -> dict[str, str] | None:
    if start is None and end is None:
        return None
    out: dict[str, str] = {}
    if start is not None:
        out["startDateTime"] = iso(start) or ""
    if end is not None:
        out["endDateTime"] = iso(end) or ""
    return out


def parse_valid_for(doc: Mapping[str, Any], where: str) -> tuple[int | None, int | None]:
    vf = get_obj(doc, "validFor", where)
    if vf is None:
        return None, None
    check_fields(vf, ("startDateTime", "endDateTime"), f"{where}.validFor")
    return (parse_iso(vf.get("startDateTime"), f"{where}.validFor.startDateTime"),
            parse_iso(vf.get("endDateTime"), f"{where}.validFor.endDateTime"))


def ref_id(doc: Mapping[str, Any], key: str, where: str) -> str | None:
    """The ``id`` of a TMF entity reference ``{"id": ..., "href": ...}``."""
    ref = get_obj(doc, key, where)
    if ref is None:
        return None
    allowed = ("id", "href", "name", "@referredType", "@type", "@baseType", "@schemaLocation", "role")
    check_fields(ref, allowed, f"{where}.{key}")
    return need_str(ref, "id", f"{where}.{key}")


def plain(value: Any, depth: int = 0) -> Any:
    """A parsed body made storable: Decimals become floats (free-form, non-money attributes only)."""
    if depth > 32:
        raise ApiError(400, "document nested too deeply")
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, depth + 1) for v in value]
    return value


# --- a parsed body on the ledger's socket -------------------------------------------------------

def body_to_wire(value: Any) -> Any:
    """A parsed JSON body as plain data for the ledger's local socket (``marshal`` frames): an exact
    decimal number (``parse_json`` reads every JSON fraction as a ``Decimal``) becomes its text as
    bytes, which JSON never yields; :func:`body_from_wire` gives back the same ``Decimal``."""
    if isinstance(value, Decimal):
        return str(value).encode("ascii")
    if isinstance(value, dict):
        return {k: body_to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [body_to_wire(v) for v in value]
    return value


def body_from_wire(value: Any) -> Any:
    """The body :func:`body_to_wire` sent, its decimal numbers exact again."""
    if isinstance(value, bytes):
        return Decimal(value.decode("ascii"))
    if isinstance(value, dict):
        return {k: body_from_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [body_from_wire(v) for v in value]
    return value
