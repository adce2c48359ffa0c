"""TMF638 Service Inventory v4: ``service`` = the core's :class:`Service` (a subscriber identity).

Identities and credentials travel as ``serviceCharacteristic`` entries: ``product`` (the product
it charges), ``imsi``, ``msisdn``, ``nai``, ``password``, ``k``, ``opc`` (hex), ``amf`` (hex),
``sqn``; any other characteristic is kept as an attribute.  Secrets (password, K, OPc) are
write-only: never returned, and a PATCH that does not name them keeps them (``"value": null``
clears one).  ``state`` ``active`` enables the service, any other state disables it.
"""
from __future__ import annotations

import re
from typing import Any

from ..ocs.inventory import Credentials, Service
from ..ocs.ports import Ledger
from .http import ApiError, as_int, check_fields, get_list, get_str, need_object, need_str, plain
from .resources import Ctx, Kind, collection_routes
from .routes import BOOL, STR, Route, arr, obj

API = "serviceInventory/v4"
STATES = ("feasibilityChecked", "designed", "reserved", "inactive", "active", "terminated")
FIELDS = ("id", "name", "description", "state", "isServiceEnabled", "serviceCharacteristic")
SECRETS = ("password", "k", "opc")
IDENTITIES = ("product", "imsi", "msisdn", "nai")


def service_out(s: Service) -> dict[str, Any]:
    chars: list[dict[str, Any]] = []
    for name in IDENTITIES:
        value = s.product_id if name == "product" else getattr(s, name)
        if value is not None:
            chars.append({"name": name, "value": value})
    chars.append({"name": "amf", "value": s.credentials.amf.hex()})
    chars.append({"name": "sqn", "value": s.credentials.sqn})
    attrs = dict(s.attributes)
    name = attrs.pop("@name", s.id)
    chars.extend({"name": k, "value": v} for k, v in sorted(attrs.items()))
    present = [n for n in SECRETS if getattr(s.credentials, n)]
    doc: dict[str, Any] = {"id": s.id, "href": SERVICE.href(s.id), "name": name,
                           "state": "active" if s.enabled else "inactive", "isServiceEnabled": s.enabled,
                           "serviceCharacteristic": chars, "@type": "Service"}
    if present:
        doc["credentialsSet"] = present  # which secrets exist; their values are never returned
    return doc


def _hex(value: Any, where: str, size: int | None) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", value):
        raise ApiError(400, f"{where} must be a hex string")
    raw = bytes.fromhex(value)
    if size is not None and len(raw) != size:
        raise ApiError(400, f"{where} must be {size} bytes")
    return raw


def service_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    where = "service"
    body = {k: v for k, v in body.items() if k != "credentialsSet"}
    check_fields(body, FIELDS, where)
    old = None if create else ledger.get_service(ident)
    creds = old.credentials if old else Credentials()
    values: dict[str, Any] = {}
    attrs: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for i, entry in enumerate(get_list(body, "serviceCharacteristic", where, 256)):
        w = f"{where}.serviceCharacteristic[{i}]"
        entry = need_object(entry, w)
        check_fields(entry, ("name", "value", "valueType", "@type"), w)
        cname = need_str(entry, "name", w)
        value = entry.get("value")
        if cname in IDENTITIES:
            if value is not None and (not isinstance(value, str) or not value or len(value) > 253):
                raise ApiError(400, f"{w}: {cname} must be a non-empty string")
            values[cname] = value
        elif cname in SECRETS or cname in ("amf", "sqn"):
            given[cname] = value
        else:
            attrs[cname] = plain(value)
    password = given.get("password", creds.password)
    if password is not None and (not isinstance(password, str) or len(password) > 253):
        raise ApiError(400, f"{where}: password must be a string")
    k = _hex(given["k"], f"{where}: k", 16) if "k" in given else creds.k
    opc = _hex(given["opc"], f"{where}: opc", 16) if "opc" in given else creds.opc
    amf = _hex(given["amf"], f"{where}: amf", 2) if given.get("amf") is not None else creds.amf
    sqn = as_int(given["sqn"], f"{where}: sqn", 0, (1 << 48) - 1) if given.get("sqn") is not None else creds.sqn
    state = get_str(body, "state", where) or "active"
    if state not in STATES:
        raise ApiError(400, f"{where}.state must be one of {', '.join(STATES)}")
    enabled = body.get("isServiceEnabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ApiError(400, f"{where}.isServiceEnabled must be true or false")
    if "state" not in body and enabled is not None:
        state = "active" if enabled else "inactive"
    product = values.get("product")
    if product is not None and ledger.get_product(product) is None:
        raise ApiError(422, f"{where}: product {product!r} does not exist")
    for name in ("imsi", "msisdn", "nai"):
        other = ledger.find_service(values[name]) if values.get(name) else None
        if other is not None and other.id != ident:
            raise ApiError(409, f"{where}: {name} {values[name]!r} already belongs to service {other.id!r}")
    display = get_str(body, "name", where)
    if display and display != ident:
        attrs["@name"] = display
    get_str(body, "description", where, max_len=2048)
    service = Service(ident, product, values.get("imsi"), values.get("msisdn"), values.get("nai"),
                      state == "active", Credentials(password, k, opc, amf or b"\x80\x00", sqn), attrs)
    ledger.put_service(service)
    return service_out(service)


SERVICE = Kind(API, "service", "Service",
               lambda l, c: [service_out(s) for s in sorted(l.list_services(), key=lambda s: s.id)],
               lambda l, i, c: (lambda s: service_out(s) if s else None)(l.get_service(i)),
               service_write, lambda l, i, c: l.delete_service(i),
               obj({"id": STR, "name": STR, "description": STR, "state": {"enum": list(STATES)},
                    "isServiceEnabled": BOOL,
                    "serviceCharacteristic": arr(obj({"name": STR, "value": {}, "valueType": STR}, ("name",)))}))


def routes() -> list[Route]:
    return collection_routes(SERVICE)
