"""PCRF policy model (protocol-free): policy tables, PCC rules, QoS, monitoring keys.

A :class:`PolicyTable` holds any number of :class:`PolicyRule`.  A rule is either
*predefined* (configured in the PCEF, installed by Charging-Rule-Name), a *base*
(a group of predefined rules, Charging-Rule-Base-Name) or *dynamic* (sent in
full as Charging-Rule-Definition, TS 29.212 §5.3.4).  An offer references a table
(``Offer.policy_table``) and a product may override it (``Product.policy_table``).

Usage monitoring (TS 29.212 §4.5.17): a table may give a monitoring key a volume
quota; while it lasts the rules carrying that key are installed, once it is used
up they are replaced by the key's throttle rule.

Everything here is pure: the selection functions take data and return data.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from functools import lru_cache
from typing import Any

from .catalog import Offer
from .inventory import Product
from .recurring import period_start_at


class FlowDirection(IntEnum):
    """Flow-Direction AVP values (TS 29.212 §5.3.65)."""

    UNSPECIFIED = 0
    DOWNLINK = 1
    UPLINK = 2
    BIDIRECTIONAL = 3


class MeteringMethod(IntEnum):
    """Metering-Method AVP values (TS 29.212 §5.3.8)."""

    DURATION = 0
    VOLUME = 1
    DURATION_VOLUME = 2


class RuleKind(str, Enum):
    PREDEFINED = "predefined"   # Charging-Rule-Name, defined in the PCEF
    BASE = "base"               # Charging-Rule-Base-Name, a group defined in the PCEF
    DYNAMIC = "dynamic"         # Charging-Rule-Definition, defined here


def _opt_int(value: Any, name: str, low: int = 0, high: int = (1 << 32) - 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be within {low}..{high}, got {value}")
    return value


def _opt_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None and v != [] and v != {}}


@dataclass(frozen=True, slots=True)
class Flow:
    """Flow-Information: an IPFilterRule (RFC 6733 §4.3.1) and its direction.

    TS 29.212 §5.4.2: the Flow-Description is written ``permit out ...`` from
    the network towards the UE; Flow-Direction tells which way it applies.
    """

    description: str
    direction: FlowDirection = FlowDirection.BIDIRECTIONAL

    def __post_init__(self) -> None:
        words = self.description.split()
        if len(words) < 6 or words[0] != "permit" or words[1] != "out" or "from" not in words \
                or "to" not in words:
            raise ValueError(f"flow {self.description!r}: use 'permit out PROTO from SRC to DST' "
                             "(IPFilterRule, TS 29.212 §5.4.2)")
        if not self.description.isascii():
            raise ValueError(f"flow {self.description!r}: IPFilterRule is ASCII")

    def to_doc(self) -> dict[str, Any]:
        return {"description": self.description, "direction": self.direction.name.lower()}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | str) -> Flow:
        if isinstance(doc, str):
            return cls(doc)
        direction = doc.get("direction", "bidirectional")
        try:
            parsed = FlowDirection[str(direction).upper()] if not isinstance(direction, int) \
                else FlowDirection(direction)
        except (KeyError, ValueError):
            raise ValueError(f"bad flow direction {direction!r}: downlink, uplink, bidirectional") from None
        return cls(str(doc["description"]), parsed)


@dataclass(frozen=True, slots=True)
class Arp:
    """Allocation-Retention-Priority (TS 29.212 §5.3.32): priority 1 (highest) .. 15."""

    priority: int = 9
    preemption_capability: bool = False     # may take resources from lower priority bearers
    preemption_vulnerability: bool = True   # may lose resources to higher priority bearers

    def __post_init__(self) -> None:
        _opt_int(self.priority, "arp priority", 1, 15)

    def to_doc(self) -> dict[str, Any]:
        return {"priority": self.priority, "preemption_capability": self.preemption_capability,
                "preemption_vulnerability": self.preemption_vulnerability}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Arp:
        return cls(int(doc.get("priority", 9)), bool(doc.get("preemption_capability", False)),
                   bool(doc.get("preemption_vulnerability", True)))


@dataclass(frozen=True, slots=True)
class QoS:
    """QoS-Information of a rule (TS 29.212 §5.3.16); bit rates in bit/s."""

    qci: int | None = None
    arp: Arp | None = None
    mbr_ul: int | None = None
    mbr_dl: int | None = None
    gbr_ul: int | None = None
    gbr_dl: int | None = None

    def __post_init__(self) -> None:
        _opt_int(self.qci, "qci", 1, 255)
        for name in ("mbr_ul", "mbr_dl", "gbr_ul", "gbr_dl"):
            _opt_int(getattr(self, name), name)
        for a, b in (("gbr_ul", "mbr_ul"), ("gbr_dl", "mbr_dl")):
            ga, mb = getattr(self, a), getattr(self, b)
            if ga is not None and mb is not None and ga > mb:
                raise ValueError(f"{a} ({ga}) must not exceed {b} ({mb})")

    def to_doc(self) -> dict[str, Any]:
        return _drop_none({"qci": self.qci, "arp": self.arp.to_doc() if self.arp else None,
                           "mbr_ul": self.mbr_ul, "mbr_dl": self.mbr_dl, "gbr_ul": self.gbr_ul,
                           "gbr_dl": self.gbr_dl})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> QoS:
        return cls(doc.get("qci"), Arp.from_doc(doc["arp"]) if doc.get("arp") else None,
                   doc.get("mbr_ul"), doc.get("mbr_dl"), doc.get("gbr_ul"), doc.get("gbr_dl"))


@dataclass(frozen=True, slots=True)
class ChargingKey:
    """How the PCEF charges a rule's traffic (TS 29.212 §5.3.4: Rating-Group, Service-Identifier,
    Online, Offline, Metering-Method)."""

    rating_group: int | None = None
    service_id: int | None = None
    online: bool | None = None
    offline: bool | None = None
    metering: MeteringMethod | None = None

    def __post_init__(self) -> None:
        _opt_int(self.rating_group, "rating_group")
        _opt_int(self.service_id, "service_id")
        _opt_bool(self.online, "online")
        _opt_bool(self.offline, "offline")

    def to_doc(self) -> dict[str, Any]:
        return _drop_none({"rating_group": self.rating_group, "service_id": self.service_id,
                           "online": self.online, "offline": self.offline,
                           "metering": self.metering.name.lower() if self.metering is not None else None})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ChargingKey:
        metering = doc.get("metering")
        try:
            parsed = None if metering is None else MeteringMethod[str(metering).upper()]
        except KeyError:
            raise ValueError(f"bad metering {metering!r}: duration, volume, duration_volume") from None
        return cls(doc.get("rating_group"), doc.get("service_id"), doc.get("online"), doc.get("offline"), parsed)


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A PCC rule (TS 29.212 §4.3, §5.3.4)."""

    name: str
    kind: RuleKind = RuleKind.DYNAMIC
    precedence: int | None = None
    flows: tuple[Flow, ...] = ()
    qos: QoS | None = None
    charging: ChargingKey | None = None
    monitoring_key: str | None = None

    def __post_init__(self) -> None:
        if not self.name or len(self.name.encode()) > 255 or not self.name.isprintable():
            raise ValueError(f"bad rule name {self.name!r}")
        _opt_int(self.precedence, "precedence")
        if self.kind is not RuleKind.DYNAMIC and (self.flows or self.qos or self.charging or self.monitoring_key):
            raise ValueError(f"rule {self.name}: a {self.kind.value} rule is defined in the PCEF; "
                             "flows, QoS, charging and monitoring key belong to dynamic rules")
        if self.kind is RuleKind.DYNAMIC and not self.flows:
            raise ValueError(f"rule {self.name}: a dynamic rule needs at least one flow (TS 29.212 §4.3.1)")

    def to_doc(self) -> dict[str, Any]:
        return _drop_none({"name": self.name, "kind": self.kind.value, "precedence": self.precedence,
                           "flows": [f.to_doc() for f in self.flows],
                           "qos": self.qos.to_doc() if self.qos else None,
                           "charging": self.charging.to_doc() if self.charging else None,
                           "monitoring_key": self.monitoring_key})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PolicyRule:
        try:
            kind = RuleKind(doc.get("kind", "dynamic"))
        except ValueError:
            raise ValueError(f"bad rule kind {doc.get('kind')!r}: predefined, base, dynamic") from None
        return cls(str(doc["name"]), kind, doc.get("precedence"),
                   tuple(Flow.from_doc(f) for f in doc.get("flows", ())),
                   QoS.from_doc(doc["qos"]) if doc.get("qos") else None,
                   ChargingKey.from_doc(doc["charging"]) if doc.get("charging") else None,
                   doc.get("monitoring_key"))


RESET_PERIODS = ("daily", "weekly", "monthly")     # a quota's period; "none" (None): operator resets only


@dataclass(frozen=True, slots=True)
class MonitoringQuota:
    """A usage-monitoring key's volume quota (octets, both directions), its throttle rule and
    the period after which the used volume starts again from zero (anchored on the product's
    start, like recurring fees: :func:`reset_due`)."""

    key: str
    volume: int
    grant: int | None = None        # threshold sent per report; None: the whole remaining quota
    throttle: str | None = None     # rule installed instead of the key's rules once exhausted
    reset: str | None = None        # daily / weekly / monthly; None: only `policy usage --reset`

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a monitoring key needs a name")
        _opt_int(self.volume, f"monitoring {self.key} volume", 0, (1 << 63) - 1)
        _opt_int(self.grant, f"monitoring {self.key} grant", 1, (1 << 63) - 1)
        if self.reset is not None and self.reset not in RESET_PERIODS:
            raise ValueError(f"monitoring {self.key} reset must be one of {', '.join(RESET_PERIODS)} "
                             f"or none, got {self.reset!r}")

    def threshold(self, used: int) -> int:
        """Octets the PCEF may pass before reporting again (0: exhausted)."""
        left = max(0, self.volume - used)
        return left if self.grant is None else min(left, self.grant)

    def to_doc(self) -> dict[str, Any]:
        return _drop_none({"key": self.key, "volume": self.volume, "grant": self.grant,
                           "throttle": self.throttle, "reset": self.reset})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> MonitoringQuota:
        reset = doc.get("reset")
        return cls(str(doc["key"]), doc.get("volume", 0), doc.get("grant"), doc.get("throttle"),
                   None if reset in (None, "none") else reset)


@dataclass(frozen=True, slots=True)
class SessionQoS:
    """IP-CAN session QoS: APN-AMBR and Default-EPS-Bearer-QoS (TS 29.212 §4.5.5.0a, §5.3.48)."""

    apn_ambr_ul: int
    apn_ambr_dl: int
    qci: int = 9
    arp: Arp = field(default_factory=Arp)

    def __post_init__(self) -> None:
        _opt_int(self.apn_ambr_ul, "apn_ambr_ul")
        _opt_int(self.apn_ambr_dl, "apn_ambr_dl")
        _opt_int(self.qci, "qci", 1, 255)

    def to_doc(self) -> dict[str, Any]:
        return {"apn_ambr_ul": self.apn_ambr_ul, "apn_ambr_dl": self.apn_ambr_dl, "qci": self.qci,
                "arp": self.arp.to_doc()}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SessionQoS:
        return cls(doc["apn_ambr_ul"], doc["apn_ambr_dl"], doc.get("qci", 9),
                   Arp.from_doc(doc["arp"]) if doc.get("arp") else Arp())


@dataclass(frozen=True, slots=True)
class PolicyTable:
    """A named set of rules, monitoring quotas and (optionally) the session QoS."""

    name: str
    rules: tuple[PolicyRule, ...] = ()
    monitoring: tuple[MonitoringQuota, ...] = ()
    session_qos: SessionQoS | None = None
    description: str = ""
    credit_throttle: str | None = None   # the only rule left while the subscriber is out of credit

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a policy table needs a name")
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate rule names")
        keys = [m.key for m in self.monitoring]
        if len(set(keys)) != len(keys):
            raise ValueError(f"table {self.name}: duplicate monitoring keys")
        for quota in self.monitoring:
            if quota.throttle is not None and quota.throttle not in names:
                raise ValueError(f"table {self.name}: throttle rule {quota.throttle} of key {quota.key} "
                                 "is not a rule of the table")
        if self.credit_throttle is not None and self.credit_throttle not in names:
            raise ValueError(f"table {self.name}: credit throttle rule {self.credit_throttle} "
                             "is not a rule of the table")

    def rule(self, name: str) -> PolicyRule | None:
        for r in self.rules:
            if r.name == name:
                return r
        return None

    def with_rule(self, rule: PolicyRule) -> PolicyTable:
        """The table with ``rule`` added or replaced (by name)."""
        rules = [r for r in self.rules if r.name != rule.name]
        return replace(self, rules=tuple(sorted([*rules, rule], key=lambda r: r.name)))

    def without_rule(self, name: str) -> PolicyTable:
        return replace(self, rules=tuple(r for r in self.rules if r.name != name))

    def throttle_rules(self) -> frozenset[str]:
        names = {m.throttle for m in self.monitoring if m.throttle}
        if self.credit_throttle:
            names.add(self.credit_throttle)
        return frozenset(names)

    def to_doc(self) -> dict[str, Any]:
        return _drop_none({"name": self.name, "rules": [r.to_doc() for r in self.rules],
                           "monitoring": [m.to_doc() for m in self.monitoring],
                           "session_qos": self.session_qos.to_doc() if self.session_qos else None,
                           "description": self.description or None,
                           "credit_throttle": self.credit_throttle})

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> PolicyTable:
        try:
            return cls(str(doc["name"]), tuple(PolicyRule.from_doc(r) for r in doc.get("rules", ())),
                       tuple(MonitoringQuota.from_doc(m) for m in doc.get("monitoring", ())),
                       SessionQoS.from_doc(doc["session_qos"]) if doc.get("session_qos") else None,
                       str(doc.get("description", "")), doc.get("credit_throttle"))
        except KeyError as exc:
            raise ValueError(f"missing field {exc.args[0]}") from None
        except TypeError as exc:
            raise ValueError(str(exc)) from None


# --- selection ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What the PCRF provisions for one IP-CAN session."""

    table: str | None
    rules: tuple[PolicyRule, ...]
    session_qos: SessionQoS
    thresholds: Mapping[str, int]       # monitoring key -> octets until the next report
    exhausted: frozenset[str] = frozenset()


def table_name_for(offer: Offer | None, product: Product | None) -> str | None:
    """The product's own table overrides the offer's."""
    if product is not None and product.policy_table:
        return product.policy_table
    return offer.policy_table if offer is not None else None


def session_qos_for(offer: Offer | None, table: PolicyTable | None, default: SessionQoS) -> SessionQoS:
    """APN-AMBR / default bearer QoS: the offer's ``extra.session_qos``, else the table's, else default."""
    if offer is not None and isinstance(offer.extra.get("session_qos"), Mapping):
        return SessionQoS.from_doc(offer.extra["session_qos"])
    if table is not None and table.session_qos is not None:
        return table.session_qos
    return default


def decide(table: PolicyTable | None, offer: Offer | None, usage: Mapping[str, int],
           default_qos: SessionQoS, out_of_credit: bool = False) -> PolicyDecision:
    """Rules to install given the used volume per monitoring key.

    Throttle rules are installed only once their key's quota is used up; then the
    rules carrying that key are left out (TS 29.212 §4.5.17, operator policy).  A
    subscriber out of credit (Ro/RADIUS) gets only the table's ``credit_throttle``.
    """
    qos = session_qos_for(offer, table, default_qos)
    if table is None:
        return PolicyDecision(None, (), qos, {})
    if out_of_credit and table.credit_throttle:
        rule = table.rule(table.credit_throttle)
        return PolicyDecision(table.name, (rule,) if rule else (), qos, {},
                              frozenset(m.key for m in table.monitoring))
    exhausted: set[str] = set()
    thresholds: dict[str, int] = {}
    for quota in table.monitoring:
        left = quota.threshold(usage.get(quota.key, 0))
        if left <= 0:
            exhausted.add(quota.key)
        else:
            thresholds[quota.key] = left
    throttles = {m.throttle for m in table.monitoring if m.throttle and m.key in exhausted}
    unused_throttles = table.throttle_rules() - throttles
    rules = tuple(r for r in table.rules
                  if r.name not in unused_throttles
                  and (r.name in throttles or r.monitoring_key not in exhausted))
    return PolicyDecision(table.name, rules, qos, thresholds, frozenset(exhausted))


def reset_due(quotas: Iterable[MonitoringQuota], anchor: int, last: Mapping[str, int], now: int
              ) -> tuple[dict[str, int], frozenset[str]]:
    """Usage-monitoring periods at ``now``: (period start per periodic key, keys to reset).

    ``last`` is the period start each key was last reset for (the record that makes a late or
    repeated pass reset once per period).  A key with no record gets its current period
    recorded without a reset: adding a period to a quota never wipes the usage already counted;
    the first reset comes at the next boundary.  Periods follow the recurring-fee calendar
    (:func:`~appliance.ocs.recurring.period_start_at`: UTC, anchored on ``anchor``, month ends
    clamped).  Keys without a period are left out.
    """
    periods: dict[str, int] = {}
    reset: set[str] = set()
    for quota in quotas:
        if quota.reset is None:
            continue
        start = period_start_at(anchor, quota.reset, now)
        if start is None:
            continue
        before = last.get(quota.key)
        if before is not None and start > before:
            reset.add(quota.key)
        periods[quota.key] = start if before is None else max(start, before)
    return periods, frozenset(reset)


@lru_cache(maxsize=4096)
def fingerprint(rule: PolicyRule) -> str:
    """A stable text naming a rule's content: a changed rule is re-installed."""
    return json.dumps(rule.to_doc(), sort_keys=True, separators=(",", ":"))


def rule_changes(installed: Mapping[str, str], wanted: Iterable[PolicyRule]
                 ) -> tuple[tuple[PolicyRule, ...], tuple[str, ...]]:
    """(rules to install, rule names to remove) to go from ``installed`` (name -> fingerprint)."""
    wanted = tuple(wanted)
    names = {r.name for r in wanted}
    install = tuple(r for r in wanted if installed.get(r.name) != fingerprint(r))
    remove = tuple(sorted(n for n in installed if n not in names))
    return install, remove


def kind_of(fingerprint_text: str) -> RuleKind:
    """The kind of an installed rule from its fingerprint (to pick Charging-Rule-Name or -Base-Name)."""
    return RuleKind(json.loads(fingerprint_text).get("kind", "dynamic"))
