"""Subscriber rows of a bulk import, checked: one service (identities and credentials), its
product (created or replaced when the row names an offer) and the product's initial balances.

A row is a mapping of field name to text (a CSV record under its header, or a JSON-lines object
with its numbers and booleans as text).  A bad row raises :class:`RowError` naming the field; a
secret's value (password, K, OPc) never appears in a message.  Pure: no file, no store.
"""
from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..ocs.balance import NewBucket
from ..ocs.frozen import quick_init
from ..ocs.inventory import Credentials, Product, Service
from ..ocs.units import Unit

FIELDS = ("id", "product", "offer", "imsi", "msisdn", "nai", "password", "k", "opc", "amf", "sqn", "enabled",
          "start", "end", "policy_table", "money", "octets", "seconds", "messages", "bucket_end")
SECRETS = frozenset(("password", "k", "opc"))
NUMBERS = frozenset(("sqn", "start", "end", "bucket_end", "money", "octets", "seconds", "messages"))
BALANCES = (("money", Unit.MONEY), ("octets", Unit.OCTETS), ("seconds", Unit.SECONDS), ("messages", Unit.MESSAGES))
INITIAL = "initial"          # name of the buckets an import writes: importing again replaces them
MAX_AMOUNT = 10 ** 16        # integer units (money in minor units)

_token = re.compile(r"[!-~]{1,128}").fullmatch          # ids: printable ASCII, no space
_nai = re.compile(r"[!-~]{1,253}").fullmatch
_imsi = re.compile(r"[0-9]{5,15}").fullmatch            # TS 23.003 §2.2
_msisdn = re.compile(r"\+?[0-9]{1,15}").fullmatch       # E.164, stored without '+'
_hex16 = re.compile(r"[0-9a-fA-F]{32}").fullmatch
_hex2 = re.compile(r"[0-9a-fA-F]{4}").fullmatch
_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class RowError(ValueError):
    """A bad row: ``field`` ('' for the whole row) and what is wrong, never a secret's value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}" if field else message)
        self.field = field


@quick_init
@dataclass(frozen=True, slots=True)
class Subscriber:
    service: Service
    product: Product | None                  # None: the product exists (in the store or the file)
    buckets: tuple[NewBucket, ...]


def from_json(doc: Any) -> dict[str, str]:
    """A JSON-lines object as row text: strings as they are, whole numbers and booleans as text."""
    if not isinstance(doc, dict):
        raise RowError("", "expected a JSON object")
    row: dict[str, str] = {}
    for key, value in doc.items():
        if key not in FIELDS:
            raise RowError(str(key)[:40], f"unknown field (known: {', '.join(FIELDS)})")
        if value is None:
            continue
        if isinstance(value, bool):
            if key != "enabled":
                raise RowError(key, "expected a string")
            row[key] = "true" if value else "false"
        elif isinstance(value, int):
            if key not in NUMBERS:
                raise RowError(key, "expected a string (identities keep their leading zeros)")
            row[key] = str(value)
        elif isinstance(value, str):
            if value:
                row[key] = value
        else:
            raise RowError(key, "expected a whole number" if key in NUMBERS else "expected a string")
    return row


def parse(row: Mapping[str, str], offers: Container[str]) -> Subscriber:
    """The subscriber a row describes; ``offers``: the names of the offers in the catalog."""
    get = row.get
    sid = get("id", "")
    if not _token(sid):
        raise RowError("id", "required: 1 to 128 printable ASCII characters, no space")
    imsi = get("imsi") or None
    if imsi is not None and not _imsi(imsi):
        raise RowError("imsi", f"must be 5 to 15 digits, got {imsi[:20]!r}")
    msisdn = get("msisdn") or None
    if msisdn is not None:
        if not _msisdn(msisdn):
            raise RowError("msisdn", f"must be an E.164 number of up to 15 digits, got {msisdn[:20]!r}")
        if msisdn[0] == "+":
            msisdn = msisdn[1:]
    nai = get("nai") or None
    if nai is not None and not _nai(nai):
        raise RowError("nai", "must be 1 to 253 printable ASCII characters, no space")
    password = get("password") or None
    if password is not None and (len(password) > 256 or not password.isprintable()):
        raise RowError("password", "must be at most 256 printable characters")
    k = get("k")
    if k:
        if not _hex16(k):
            raise RowError("k", "must be 32 hex digits (128 bits)")
        kb: bytes | None = bytes.fromhex(k)
    else:
        kb = None
    opc = get("opc")
    if opc:
        if not _hex16(opc):
            raise RowError("opc", "must be 32 hex digits (128 bits)")
        opcb: bytes | None = bytes.fromhex(opc)
    else:
        opcb = None
    amf = get("amf")
    if amf and not _hex2(amf):
        raise RowError("amf", "must be 4 hex digits")
    sqn = _number(row, "sqn", 1 << 48) if "sqn" in row else 0
    enabled = True
    if get("enabled"):
        flag = _TRUE.get(row["enabled"].strip().lower())
        if flag is None:
            raise RowError("enabled", "must be true or false")
        enabled = flag
    product_id = get("product") or sid
    if product_id is not sid and not _token(product_id):
        raise RowError("product", "must be 1 to 128 printable ASCII characters, no space")
    offer = get("offer") or None
    product = None
    if offer is not None:
        if offer not in offers:
            raise RowError("offer", f"no such offer {offer[:64]!r} in the catalog")
        policy_table = get("policy_table") or None
        if policy_table is not None and not _token(policy_table):
            raise RowError("policy_table", "must be 1 to 128 printable ASCII characters, no space")
        product = Product(product_id, offer, _time(row, "start"), _time(row, "end"), policy_table)
    else:
        for name in ("start", "end", "policy_table"):
            if get(name):
                raise RowError(name, "describes a product: give its offer too")
    bucket_end = _time(row, "bucket_end") if "bucket_end" in row else None
    buckets = []
    for name, unit in BALANCES:
        if name in row:
            buckets.append(NewBucket(product_id, unit, _number(row, name, MAX_AMOUNT), bucket_end, INITIAL))
    if bucket_end is not None and not buckets:
        raise RowError("bucket_end", "no balance (money, octets, seconds, messages) to end")
    creds = Credentials(password, kb, opcb, bytes.fromhex(amf) if amf else b"\x80\x00", sqn)
    return Subscriber(Service(sid, product_id, imsi, msisdn, nai, enabled, creds), product, tuple(buckets))


def _number(row: Mapping[str, str], name: str, bound: int) -> int:
    text = row[name]
    if not (text.isascii() and text.isdigit() and len(text) <= 17) or int(text) >= bound:
        raise RowError(name, f"must be a whole number from 0 to {bound - 1} (ASCII digits), got {text[:20]!r}")
    return int(text)


def _time(row: Mapping[str, str], name: str) -> int | None:
    text = row.get(name)
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(name, f"must be epoch seconds or ISO 8601, got {text[:40]!r}") from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
