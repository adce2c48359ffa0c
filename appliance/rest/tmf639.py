"""TMF639 Resource Inventory v4: tariff tables and PCRF policy tables as ``resource``.

``resourceSpecification.id`` says which: ``TariffTable`` (the core's prefix tables; the
characteristic ``rates`` maps a destination prefix or VPLMN to a money amount, an exact decimal
in the appliance currency) or ``PolicyTable`` (appliance.pcrf tables; the characteristic
``policy`` holds the table document of docs/pcrf, validated by the PCRF model, and changes queue
the Gx re-provisioning the PCRF does for its own CLI).  ``id`` is the table name.
"""
from __future__ import annotations

from typing import Any

from ..ocs.catalog import PrefixTable
from ..ocs.ports import Ledger
from .http import (
    ApiError,
    check_fields,
    get_list,
    get_obj,
    get_str,
    money_text,
    need_object,
    need_str,
    parse_money,
    plain,
)
from .resources import Ctx, Kind, collection_routes
from .routes import OBJ, STR, Route, arr, obj

API = "resourceInventoryManagement/v4"
TARIFF, POLICY = "TariffTable", "PolicyTable"


def _pcrf() -> Any:
    try:
        from ..pcrf import tables
        return tables
    except ImportError:  # the PCRF package is optional
        return None


def tariff_out(t: PrefixTable, ctx: Ctx) -> dict[str, Any]:
    return {"id": t.name, "href": RESOURCE.href(t.name), "name": t.name, "@type": "LogicalResource",
            "resourceSpecification": {"id": TARIFF, "name": TARIFF},
            "resourceCharacteristic": [{"name": "rates", "value": {p: money_text(v, ctx.scale)
                                                                   for p, v in sorted(t.rates.items())}}]}


def policy_out(table: Any) -> dict[str, Any]:
    doc = table.to_doc()
    return {"id": table.name, "href": RESOURCE.href(table.name), "name": table.name, "@type": "LogicalResource",
            "resourceSpecification": {"id": POLICY, "name": POLICY},
            "resourceCharacteristic": [{"name": "policy", "value": doc}]}


def res_list(ledger: Ledger, ctx: Ctx) -> list[dict[str, Any]]:
    out = [tariff_out(t, ctx) for t in ledger.list_tables()]
    pcrf = _pcrf()
    if pcrf is not None:
        out += [policy_out(t) for t in pcrf.list_tables(ledger)]
    return sorted(out, key=lambda d: (d["id"], d["resourceSpecification"]["id"]))


def res_get(ledger: Ledger, ident: str, ctx: Ctx) -> dict[str, Any] | None:
    table = ledger.get_table(ident)
    if table is not None:
        return tariff_out(table, ctx)
    pcrf = _pcrf()
    policy = pcrf.get_table(ledger, ident) if pcrf is not None else None
    return policy_out(policy) if policy is not None else None


def _spec(body: dict[str, Any]) -> str:
    spec = get_obj(body, "resourceSpecification", "resource")
    if spec is None:
        raise ApiError(400, f"resource.resourceSpecification.id is required ({TARIFF} or {POLICY})")
    check_fields(spec, ("id", "name", "href", "@referredType"), "resource.resourceSpecification")
    kind = need_str(spec, "id", "resource.resourceSpecification")
    if kind not in (TARIFF, POLICY):
        raise ApiError(400, f"resource.resourceSpecification.id must be {TARIFF} or {POLICY}")
    return kind


def _characteristic(body: dict[str, Any], name: str) -> Any:
    for i, entry in enumerate(get_list(body, "resourceCharacteristic", "resource", 16)):
        entry = need_object(entry, f"resource.resourceCharacteristic[{i}]")
        check_fields(entry, ("name", "value", "valueType", "@type"), f"resource.resourceCharacteristic[{i}]")
        if entry.get("name") == name:
            return entry.get("value")
    raise ApiError(400, f"resource.resourceCharacteristic needs an entry named {name!r}")


def res_write(ledger: Ledger, ident: str, body: dict[str, Any], ctx: Ctx, create: bool) -> dict[str, Any]:
    check_fields(body, ("id", "name", "description", "resourceSpecification", "resourceCharacteristic",
                        "resourceStatus"), "resource")
    name = get_str(body, "name", "resource") or ident
    if name != ident:
        raise ApiError(400, f"resource: name {name!r} must equal id {ident!r} (tables are keyed by name)")
    kind = _spec(body)
    existing = res_get(ledger, ident, ctx)
    if existing is not None and existing["resourceSpecification"]["id"] != kind:
        raise ApiError(409, f"a {existing['resourceSpecification']['id']} named {ident!r} exists")
    if kind == TARIFF:
        rates = _characteristic(body, "rates")
        if not isinstance(rates, dict) or len(rates) > 100_000:
            raise ApiError(400, "resource: rates must be an object {prefix: amount}")
        parsed: dict[str, int] = {}
        for prefix, amount in rates.items():
            if not (prefix == "" or prefix.isdigit()) or len(prefix) > 32:
                raise ApiError(400, f"resource: rate prefix {prefix[:40]!r} must be digits")
            parsed[prefix] = parse_money(amount, ctx.scale, f"resource.rates[{prefix!r}]")
            if parsed[prefix] < 0:
                raise ApiError(400, "resource: a rate must not be negative")
        table = PrefixTable(ident, parsed)
        ledger.put_table(table)
        return tariff_out(table, ctx)
    pcrf = _pcrf()
    if pcrf is None:
        raise ApiError(422, "the PCRF package is not installed: no policy tables")
    from ..ocs.policy import PolicyTable
    value = _characteristic(body, "policy")
    if not isinstance(value, dict):
        raise ApiError(400, "resource: the policy characteristic must be an object")
    try:
        policy = PolicyTable.from_doc({**plain(value), "name": ident})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ApiError(400, f"resource: bad policy table: {exc}") from None
    pcrf.put_table(ledger, policy)
    return policy_out(policy)


def res_delete(ledger: Ledger, ident: str, ctx: Ctx) -> bool:
    if ledger.get_table(ident) is not None:
        users = [o.name for o in ledger.list_offers() if any(ident in (p.tariff, p.roaming) for p in o.prices)]
        if users:
            raise ApiError(409, f"tariff table {ident!r} is used by productOffering {users[0]!r}")
        return ledger.delete_table(ident)
    pcrf = _pcrf()
    if pcrf is not None and pcrf.get_table(ledger, ident) is not None:
        try:
            pcrf.delete_table(ledger, ident)
        except pcrf.PolicyError as exc:
            raise ApiError(409, str(exc)) from None
        return True
    return False


RESOURCE = Kind(API, "resource", "LogicalResource", res_list, res_get, res_write, res_delete,
                obj({"id": STR, "name": STR, "description": STR, "resourceStatus": STR,
                     "resourceSpecification": obj({"id": {"enum": [TARIFF, POLICY]}, "name": STR}, ("id",)),
                     "resourceCharacteristic": arr(obj({"name": STR, "value": OBJ, "valueType": STR}, ("name",)))},
                    ("resourceSpecification", "resourceCharacteristic")), name_is_id=True)


def routes() -> list[Route]:
    return collection_routes(RESOURCE)
