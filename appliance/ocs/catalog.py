"""Product catalog: offers, prices, tariff and roaming tables (TMF620 shapes, simplified).

A :class:`Price` of type USAGE charges ``amount`` money per ``size`` units of
``unit``; when it names a ``tariff`` table the amount comes from the longest
prefix of the destination address, and a ``roaming`` table keyed by VPLMN
(MCC-MNC) overrides it while the subscriber roams.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from .timeofday import TimeWindow
from .units import Unit


class PriceType(str, Enum):
    USAGE = "usage"
    RECURRING = "recurring"
    ONE_TIME = "one_time"


PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")   # of a recurring price (UTC calendar)
MAX_ROLLOVER = 12            # periods an unused allowance may outlive its own (bounds a product's buckets)
PRICE_KEYS = ("name", "type", "amount", "unit", "size", "service", "rating_groups", "tariff", "roaming",
              "period", "overdraft", "time_of_day", "days", "allowance", "rollover", "validity")
MAX_BUNDLE_OFFERS = 64       # offers one bundle may resolve to, members of members included


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
    allowance: tuple[tuple[Unit, int], ...] = ()  # units granted with each fee (a recurring one: per period)
    rollover: int = 0                  # periods an unused recurring allowance outlives its own period
    validity: int | None = None        # seconds a one-time allowance lasts (None: until used up)

    def matches(self, service: str | None, rating_group: int | None) -> bool:
        if self.type is not PriceType.USAGE:
            return False
        if self.service is not None and service is not None and self.service != service:
            return False
        if self.rating_groups and rating_group not in self.rating_groups:
            return False
        return True

    def check_fees(self) -> None:
        """A recurring price names one of :data:`PERIODS`; only fees carry allowances; a rollover
        belongs to a recurring allowance, a validity to a one-time one."""
        if self.type is PriceType.RECURRING:
            if self.period not in PERIODS:
                raise ValueError(f"price {self.name}: a recurring price needs period "
                                 f"{', '.join(PERIODS)}, got {self.period!r}")
        elif self.period is not None:
            raise ValueError(f"price {self.name}: period is for recurring prices only")
        if self.allowance and self.type is PriceType.USAGE:
            raise ValueError(f"price {self.name}: an allowance comes with a recurring or one-time fee, "
                             "not a usage price")
        if not 0 <= self.rollover <= MAX_ROLLOVER:
            raise ValueError(f"price {self.name}: rollover must be 0..{MAX_ROLLOVER} periods")
        if self.rollover and (self.type is not PriceType.RECURRING or not self.allowance):
            raise ValueError(f"price {self.name}: rollover is for a recurring price with an allowance")
        if self.validity is not None and (self.type is not PriceType.ONE_TIME or not self.allowance):
            raise ValueError(f"price {self.name}: validity is for a one-time price with an allowance "
                             "(a recurring allowance lasts its period)")

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
        if self.allowance:
            doc["allowance"] = {unit.value: amount for unit, amount in self.allowance}
        if self.rollover:
            doc["rollover"] = self.rollover
        if self.validity is not None:
            doc["validity"] = self.validity
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Price:
        """A price from its document; unknown keys, types, units and periods are refused."""
        if "name" not in doc:
            raise ValueError("a price needs a name")
        name = str(doc["name"])
        unknown = sorted(set(doc) - set(PRICE_KEYS))
        if unknown:
            raise ValueError(f"price {name}: unknown key{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))} (known: {', '.join(PRICE_KEYS)})")
        type_text = doc.get("type", "usage")
        if type_text not in {t.value for t in PriceType}:
            raise ValueError(f"price {name}: unknown type {type_text!r} (known: usage, recurring, one_time)")
        unit = doc.get("unit")
        price = cls(
            name=name, type=PriceType(type_text),
            amount=_int(doc.get("amount", 0), "amount"),
            unit=_unit(unit, name) if unit else None, size=_int(doc.get("size", 1), "size"),
            service=doc.get("service"), rating_groups=tuple(int(x) for x in doc.get("rating_groups", ())),
            tariff=doc.get("tariff"), roaming=doc.get("roaming"), period=doc.get("period"),
            overdraft=bool(doc.get("overdraft", False)),
            when=_window(doc.get("time_of_day"), doc.get("days")),
            allowance=_allowance(doc.get("allowance"), name), rollover=_int(doc.get("rollover", 0), "rollover"),
            validity=parse_duration(doc["validity"], f"price {name}: validity") if "validity" in doc else None)
        price.check_fees()
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
        bundle = doc.get("bundle") or ()
        if isinstance(bundle, str) or not all(isinstance(b, str) and b for b in bundle):
            raise ValueError(f"offer {doc.get('name')}: bundle must be a list of offer names")
        prices = doc.get("prices") or ()
        if isinstance(prices, (str, Mapping)) or not all(isinstance(p, Mapping) for p in prices):
            raise ValueError(f"offer {doc.get('name')}: prices must be a list of price documents")
        fees = [str(p.get("name")) for p in prices if p.get("type", "usage") != "usage"]  # remembered by name
        if len(set(fees)) != len(fees):
            raise ValueError(f"offer {doc.get('name')}: two fee prices named {max(fees, key=fees.count)!r}")
        return cls(name=str(doc["name"]), prices=tuple(Price.from_doc(p) for p in prices),
                   bundle=tuple(bundle), description=str(doc.get("description", "")),
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


def _unit(text: Any, price: str) -> Unit:
    try:
        return Unit.parse(str(text))
    except ValueError:
        raise ValueError(f"price {price}: unknown unit {text!r} (known: "
                         f"{', '.join(u.value for u in Unit)})") from None


def _allowance(doc: Any, price: str) -> tuple[tuple[Unit, int], ...]:
    """``{"octets": 1000000000, "seconds": 6000}``: service units granted with a fee."""
    if doc is None:
        return ()
    if not isinstance(doc, Mapping) or not doc:
        raise ValueError(f"price {price}: allowance must map units to amounts, e.g. {{octets: 1000000000}}")
    out: dict[Unit, int] = {}
    for key, amount in doc.items():
        unit = _unit(key, price)
        if unit is Unit.MONEY:
            raise ValueError(f"price {price}: an allowance is of service units (octets, seconds, messages)")
        if unit in out:
            raise ValueError(f"price {price}: allowance names {unit.value} twice")
        out[unit] = _int(amount, f"price {price}: allowance of {unit.value}")
        if not 0 < out[unit] < 1 << 62:
            raise ValueError(f"price {price}: allowance of {unit.value} must be positive")
    return tuple(out.items())


_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_duration(value: Any, where: str) -> int:
    """Seconds, from an integer or ``90s``, ``30m``, ``12h``, ``30d``, ``2w``; positive."""
    if isinstance(value, str) and value[-1:] in _DURATION and value[:-1].isascii() and value[:-1].isdigit():
        seconds = int(value[:-1]) * _DURATION[value[-1]]
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        seconds = int(value)
    else:
        seconds = _int(value, where)
    if not 0 < seconds <= 100 * 366 * 86_400:
        raise ValueError(f"{where} must be a positive duration (seconds, or N followed by s, m, h, d, w)")
    return seconds


class CatalogError(ValueError):
    """An offer refers to offers that do not exist, or bundles itself."""


def effective_offer(offer: Offer, get_offer: Callable[[str], Offer | None]) -> Offer:
    """What a subscriber on ``offer`` is rated and charged by: a bundle grants and charges everything
    its members do.

    The result holds the offer's own prices first (so a bundle may override a member's usage price),
    then each member's, depth first in the order listed.  A member's price is named
    ``<member>/<price>`` so its fees are remembered apart from the bundle's own; an offer reached
    twice (two members bundling the same offer) counts once.  The policy table and the ``extra``
    keys the bundle does not set come from the first member that sets them.  A missing member or a
    bundle that contains itself raises :class:`CatalogError`.  An offer without members is returned
    as is.
    """
    if not offer.bundle:
        return offer
    prices: list[Price] = list(offer.prices)
    policy_table = offer.policy_table
    extra = dict(offer.extra)
    seen = {offer.name}

    def visit(member: Offer, path: tuple[str, ...]) -> None:
        nonlocal policy_table
        for name in member.bundle:
            if name in path:
                raise CatalogError(f"offer {path[0]} bundles itself: {' -> '.join((*path, name))}")
            if name in seen:
                continue
            found = get_offer(name)
            if found is None:
                raise CatalogError(f"offer {path[-1]} bundles {name!r}, which does not exist")
            seen.add(name)
            if len(seen) > MAX_BUNDLE_OFFERS:
                raise CatalogError(f"offer {path[0]} bundles more than {MAX_BUNDLE_OFFERS} offers")
            prices.extend(replace(p, name=f"{name}/{p.name}") for p in found.prices)
            if policy_table is None and found.policy_table:
                policy_table = found.policy_table
            for key, value in found.extra.items():
                extra.setdefault(key, value)
            visit(found, (*path, name))

    visit(offer, (offer.name,))
    return Offer(offer.name, tuple(prices), (), offer.description, policy_table, extra)


def subscribed_offer(get_offer: Callable[[str], Offer | None], name: str) -> Offer | None:
    """The offer ``name`` with its bundle resolved (:func:`effective_offer`); None when it does not exist."""
    offer = get_offer(name)
    return effective_offer(offer, get_offer) if offer is not None else None
