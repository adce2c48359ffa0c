"""Product and service inventory (TMF637 / TMF638 shapes, simplified).

A product is a subscription to an offer and owns balance buckets.  A service
is a subscriber identity (IMSI, MSISDN, NAI/username) with its credentials; it
belongs to at most one product, and several services may share one product.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .frozen import quick_init
from .units import Unit


@quick_init
@dataclass(frozen=True, slots=True)
class Product:
    id: str
    offer: str
    start: int | None = None
    end: int | None = None
    policy_table: str | None = None
    status: str = "active"
    characteristics: Mapping[str, Any] = field(default_factory=dict)


@quick_init
@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets of a service.  ``repr`` never shows them (they must not reach logs)."""

    password: str | None = None
    k: bytes | None = None
    opc: bytes | None = None
    amf: bytes = b"\x80\x00"
    sqn: int = 0

    def __repr__(self) -> str:
        present = [n for n in ("password", "k", "opc") if getattr(self, n)]
        return f"Credentials(<{', '.join(present) or 'none'} set>, sqn={self.sqn})"


@quick_init
@dataclass(frozen=True, slots=True)
class Service:
    id: str
    product_id: str | None = None
    imsi: str | None = None
    msisdn: str | None = None
    nai: str | None = None
    enabled: bool = True
    credentials: Credentials = field(default_factory=Credentials)
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def identities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(x for x in (self.id, self.imsi, self.msisdn, self.nai) if x))


@quick_init
@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    product_id: str
    unit: Unit
    remaining: int
    start: int | None = None
    end: int | None = None
    name: str = ""

    def usable(self, now: int) -> bool:
        return (self.start is None or self.start <= now) and (self.end is None or now < self.end)

    def expired(self, now: int) -> bool:
        return self.end is not None and self.end <= now


def expiry_order(bucket: Bucket) -> tuple[int, int]:
    """First-to-expire first; buckets without an end last; ties by creation (id)."""
    return (bucket.end if bucket.end is not None else 1 << 62, bucket.id)
