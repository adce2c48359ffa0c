"""Whether a subscriber may be served now: the one rule every front end applies.

A service is usable when it is enabled, belongs to a product, and that product is active and
within its validity (``start`` reached, ``end`` not).  Balance is a separate question (the
rating answers it).  RADIUS authorization, Ro/Gy charging, the PCRF and the 3GPP AAA
applications all ask this function, so they never answer the same subscriber differently.
"""
from __future__ import annotations

from enum import Enum

from .inventory import Product, Service


class Refusal(str, Enum):
    UNKNOWN = "Unknown user"
    DISABLED = "Service disabled"
    NO_PRODUCT = "No active subscription"


def refusal(service: Service | None, product: Product | None, now: int) -> Refusal | None:
    """Why ``service`` may not be served at ``now``; None when it may."""
    if service is None:
        return Refusal.UNKNOWN
    if not service.enabled:
        return Refusal.DISABLED
    if product is None or not product_active(product, now):
        return Refusal.NO_PRODUCT
    return None


def product_active(product: Product, now: int) -> bool:
    """The product is active and within its validity at ``now``."""
    return product.status == "active" and (product.end is None or now < product.end) and \
        (product.start is None or product.start <= now)
