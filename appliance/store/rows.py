"""Row <-> domain object mapping shared by the SQL backends (SQLite, PostgreSQL)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..ocs.balance import Hold, Reservation
from ..ocs.catalog import Offer, PrefixTable
from ..ocs.inventory import Bucket, Credentials, Product, Service
from ..ocs.units import Unit
from . import secrets
from .secrets import SecretBox

_UNITS = {u.value: u for u in Unit}


def dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def offer_row(offer: Offer) -> tuple[str, str]:
    return offer.name, dumps(offer.to_doc())


def offer_from(doc: str) -> Offer:
    return Offer.from_doc(json.loads(doc))


def table_from(name: str, rates: str) -> PrefixTable:
    return PrefixTable(name, {k: int(v) for k, v in json.loads(rates).items()})


def product_row(p: Product) -> tuple[Any, ...]:
    return (p.id, p.offer, p.start, p.end, p.policy_table, p.status,
            dumps(dict(p.characteristics)) if p.characteristics else "{}")


def product_from(row: Sequence[Any]) -> Product:
    return Product(row[0], row[1], row[2], row[3], row[4], row[5], _doc(row[6]))


SERVICE_COLUMNS = "id, product_id, imsi, msisdn, nai, enabled, password, k, opc, amf, sqn, doc"
SERVICE_COLUMNS_S = ", ".join(f"s.{c.strip()}" for c in SERVICE_COLUMNS.split(","))


def service_row(s: Service, box: SecretBox | None = None) -> tuple[Any, ...]:
    c = s.credentials
    return (s.id, s.product_id, s.imsi, s.msisdn, s.nai, 1 if s.enabled else 0,
            secrets.seal_text(c.password, "service.password", box), secrets.seal_bytes(c.k, "service.k", box),
            secrets.seal_bytes(c.opc, "service.opc", box), c.amf, c.sqn,
            dumps(dict(s.attributes)) if s.attributes else "{}")


def service_from(row: Sequence[Any], box: SecretBox | None = None) -> Service:
    creds = Credentials(secrets.open_text(row[6], "service.password", box),
                        secrets.open_bytes(_bytes(row[7]), "service.k", box),
                        secrets.open_bytes(_bytes(row[8]), "service.opc", box), _bytes(row[9]) or b"\x80\x00",
                        int(row[10]))
    return Service(row[0], row[1], row[2], row[3], row[4], bool(row[5]), creds, _doc(row[11]))


def client_doc(client: dict[str, Any], box: SecretBox | None = None) -> str:
    """A RADIUS client's or Diameter peer's stored document, its shared secret sealed."""
    secret = client.get("secret")
    if isinstance(secret, str):
        client = {**client, "secret": secrets.seal_text(secret, "client.secret", box)}
    return dumps(client)


def client_from(text: str, box: SecretBox | None = None) -> dict[str, Any]:
    client: dict[str, Any] = json.loads(text)
    secret = client.get("secret")
    if isinstance(secret, str):
        client["secret"] = secrets.open_text(secret, "client.secret", box)
    return client


def _doc(text: str) -> dict[str, Any]:
    return {} if text == "{}" else json.loads(text)


def _bytes(value: Any) -> bytes | None:
    return bytes(value) if value is not None else None


BUCKET_COLUMNS = 'id, product_id, unit, remaining, start, "end", name'


def bucket_from(row: Sequence[Any]) -> Bucket:
    return Bucket(row[0], row[1], _UNITS[row[2]], row[3], row[4], row[5], row[6])


RESERVATION_COLUMNS = ("session_id, rating_group, product_id, service_id, unit, granted, holds, rate, size,"
                       " created, expires, used, paid")


def reservation_row(r: Reservation) -> tuple[Any, ...]:
    holds = ";".join([f"{h.bucket_id},{h.unit._value_},{h.amount}" for h in r.holds])
    return (r.session_id, r.rating_group, r.product_id, r.service_id, r.unit._value_, r.granted, holds,
            r.rate, r.size, r.created, r.expires, r.used, r.paid)


def reservation_from(row: Sequence[Any]) -> Reservation:
    holds = tuple(Hold(int(b), _UNITS[u], int(a)) for b, u, a in
                  (part.split(",") for part in row[6].split(";") if part))
    return Reservation(row[0], row[1], row[2], row[3], _UNITS[row[4]], row[5], holds, row[7], row[8],
                       row[9], row[10], row[11], row[12])
