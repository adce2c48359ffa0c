"""Product catalog: offers, prices, tariff and roaming tables (TMF620 shapes, simplified).

A :class:`Price` of type USAGE charges ``amount`` money per ``size`` units of
``unit``; when it names a ``tariff`` table the amount comes from the longest
prefix of the destination address, and a ``roaming`` table keyed by VPLMN
(MCC-MNC) overrides it while the subscriber roams.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .timeofday import TimeWindow
from .units import Unit


class PriceType(str, Enum):
    USAGE = "usage"
    RECURRING = "recurring"
    ONE_TIME = "one_time"


@dataclass(frozen=True, slots=True)
class Price:
    name: str
    type: PriceType
    amount: int = 0
    unit: Unit | None = None
    size: int = 1
    service: str | None = None
    rating_groups: tuple[int, ...] = ()
    tariff: str | None = None
    roaming: str | None = None
    period: str | None = None
    overdraft: bool = False
    when: TimeWindow | None = None     # in force only in this time-of-day / day-of-week window

    def matches(self, service: str | None, rating_group: int | None) -> bool:
        if self.type is not PriceType.USAGE:
            return False
        if self.service is not None and service is not None and self.service != service:
            return False
        if self.rating_groups and rating_group not in self.rating_groups:
            return False
        return True

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type.value, "amount": self.amount,
                               "size": self.size}
        for key in ("service", "tariff", "roaming", "period"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        if self.unit is not None:
            doc["unit"] = self.unit.value
        if self.rating_groups:
            doc["rating_groups"] = list(self.rating_groups)
        if self.overdraft:
            doc["overdraft"] = True
        if self.when is not None:
            if self.when.hours_text is not None:
                doc["time_of_day"] = self.when.hours_text
            if self.when.days_text is not None:
                doc["days"] = self.when.days_text
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Price:
        unit = doc.get("unit")
        price = cls(
            name=str(doc["name"]), type=PriceType(doc.get("type", "usage")),
            amount=_int(doc.get("amount", 0), "amount"),
            unit=Unit.parse(unit) if unit else None, size=_int(doc.get("size", 1), "size"),
            service=doc.get("service"), rating_groups=tuple(int(x) for x in doc.get("rating_groups", ())),
            tariff=doc.get("tariff"), roaming=doc.get("roaming"), period=doc.get("period"),
            overdraft=bool(doc.get("overdraft", False)),
            when=_window(doc.get("time_of_day"), doc.get("days")))
        if price.size <= 0:
            raise ValueError(f"price {price.name}: size must be positive")
        if price.amount < 0:
            raise ValueError(f"price {price.name}: amount must not be negative")
        if price.type is PriceType.USAGE and price.unit in (None, Unit.MONEY):
            raise ValueError(f"price {price.name}: a usage price needs a unit (octets, seconds, messages)")
        return price


@dataclass(frozen=True, slots=True)
class Offer:
    name: str
    prices: tuple[Price, ...] = ()
    bundle: tuple[str, ...] = ()
    description: str = ""
    policy_table: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def usage_price(self, service: str | None, rating_group: int | None) -> Price | None:
        for price in self.prices:
            if price.matches(service, rating_group):
                return price
        return None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "prices": [p.to_doc() for p in self.prices]}
        if self.bundle:
            doc["bundle"] = list(self.bundle)
        if self.description:
            doc["description"] = self.description
        if self.policy_table:
            doc["policy_table"] = self.policy_table
        if self.extra:
            doc["extra"] = dict(self.extra)
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Offer:
        return cls(name=str(doc["name"]), prices=tuple(Price.from_doc(p) for p in doc.get("prices", ())),
                   bundle=tuple(doc.get("bundle", ())), description=str(doc.get("description", "")),
                   policy_table=doc.get("policy_table"), extra=dict(doc.get("extra", {})))


@dataclass(frozen=True, slots=True)
class PrefixTable:
    """A tariff (destination prefix) or roaming (VPLMN MCC-MNC) table: prefix -> rate."""

    name: str
    rates: Mapping[str, int]

    def lookup(self, address: str | None) -> int | None:
        """Longest-prefix match; digits only are compared (``+`` and ``tel:`` stripped)."""
        if not address:
            return None
        digits = normalize_address(address)
        for length in range(len(digits), 0, -1):
            rate = self.rates.get(digits[:length])
            if rate is not None:
                return rate
        return self.rates.get("")


def normalize_address(address: str) -> str:
    """Strip URI scheme, domain and punctuation: ``tel:+1-555`` -> ``1555``."""
    text = address
    for scheme in ("tel:", "sip:", "sips:"):
        if text.startswith(scheme):
            text = text[len(scheme):]
    text = text.split("@", 1)[0].split(";", 1)[0]
    return "".join(ch for ch in text if ch.isdigit())


def _window(hours: Any, days: Any) -> TimeWindow | None:
    if hours is None and days is None:
        return None
    for name, value in (("time_of_day", hours), ("days", days)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {value!r}")
    return TimeWindow.parse(hours, days)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer (money and units are integers), got {value!r}")
    return value
