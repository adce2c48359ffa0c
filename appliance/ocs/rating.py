"""Rating Function (RF) with the ABMF in class-B operation: a pure function of data.

``rate(request, context)`` takes a protocol-free charging request, the
subscriber's offer, tariff tables, buckets and current reservations, and
returns a :class:`Decision`: the answer plus the balance changes the store
must write in one transaction.  No I/O, no clock (``request.now``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .balance import Hold, NewBucket, Reservation, Wallet
from .catalog import Offer, PrefixTable, Price
from .frozen import quick_init
from .inventory import Bucket, Product, Service
from .units import Unit, cost_of, units_bought

NO_RATING_GROUP = -1
_JSON_KEYS = {u.value: f'"{u.value}"' for u in Unit}  # balance keys, already quoted


class Action(str, Enum):
    START = "start"          # CCR-I, Accounting Start: reserve
    UPDATE = "update"        # CCR-U, Interim: debit used, reserve next
    STOP = "stop"            # CCR-T, Stop: debit used, release the rest
    DEBIT = "debit"          # EVENT DIRECT_DEBITING: all or nothing
    REFUND = "refund"        # EVENT REFUND_ACCOUNT
    CHECK = "check_balance"  # EVENT CHECK_BALANCE
    PRICE = "price_enquiry"  # EVENT PRICE_ENQUIRY

    @property
    def mutating(self) -> bool:
        return self not in (Action.CHECK, Action.PRICE)


class Outcome(str, Enum):
    SUCCESS = "success"
    USER_UNKNOWN = "user_unknown"
    CREDIT_LIMIT_REACHED = "credit_limit_reached"
    RATING_FAILED = "rating_failed"
    SERVICE_DENIED = "end_user_service_denied"


@quick_init
@dataclass(frozen=True, slots=True)
class UsageItem:
    """One rating group's slice of a request (an MSCC, or the whole RADIUS session)."""

    unit: Unit
    requested: int | None = None  # None: no grant wanted; 0: the OCS chooses (minimum reservation)
    used: int = 0
    rating_group: int | None = None
    service_identifier: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class ChargeRequest:
    subscriber: str
    session_id: str
    action: Action
    items: tuple[UsageItem, ...] = ()
    request_key: str | None = None  # idempotency: session id + request number
    service: str | None = None      # service type: "data", "voice", "sms", ...
    destination: str | None = None  # called address: tariff prefix
    vplmn: str | None = None        # visited MCC-MNC: roaming table
    now: int = 0

    def stamped(self, now: int) -> ChargeRequest:
        """This request at ``now`` (``dataclasses.replace(self, now=now)``, 2.5x cheaper)."""
        return ChargeRequest(self.subscriber, self.session_id, self.action, self.items, self.request_key,
                             self.service, self.destination, self.vplmn, now)

    def for_subscriber(self, subscriber: str) -> ChargeRequest:
        """This request charged to ``subscriber`` (``dataclasses.replace``, cheaper)."""
        return ChargeRequest(subscriber, self.session_id, self.action, self.items, self.request_key,
                             self.service, self.destination, self.vplmn, self.now)


@quick_init
@dataclass(frozen=True, slots=True)
class ItemResult:
    outcome: Outcome
    unit: Unit
    rating_group: int | None = None
    service_identifier: int | None = None
    granted: int = 0
    final: bool = False
    validity: int = 0
    debited: int = 0     # service units accounted as used
    charged: int = 0     # money taken for them (or price quoted)
    unpaid: int = 0      # money that could not be collected

    def to_doc(self) -> dict[str, Any]:
        return {"o": self.outcome.value, "u": self.unit.value, "rg": self.rating_group,
                "si": self.service_identifier, "g": self.granted, "f": self.final, "v": self.validity,
                "d": self.debited, "c": self.charged, "p": self.unpaid}

    def to_json(self) -> str:
        """``json.dumps(self.to_doc(), separators=(",", ":"))``, without building the dict."""
        rg, si = self.rating_group, self.service_identifier
        return (f'{{"o":"{self.outcome._value_}","u":"{self.unit._value_}",'
                f'"rg":{"null" if rg is None else int(rg)},"si":{"null" if si is None else int(si)},'
                f'"g":{int(self.granted)},"f":{"true" if self.final else "false"},"v":{int(self.validity)},'
                f'"d":{int(self.debited)},"c":{int(self.charged)},"p":{int(self.unpaid)}}}')

    @classmethod
    def from_doc(cls, d: Mapping[str, Any]) -> ItemResult:
        return cls(Outcome(d["o"]), Unit(d["u"]), d["rg"], d["si"], d["g"], d["f"], d["v"], d["d"],
                   d["c"], d["p"])


@quick_init
@dataclass(frozen=True, slots=True)
class ChargeResult:
    outcome: Outcome
    items: tuple[ItemResult, ...] = ()
    balance: Mapping[str, int] = field(default_factory=dict)  # usable totals per unit after the request
    duplicate: bool = False

    def to_doc(self) -> dict[str, Any]:
        return {"o": self.outcome.value, "i": [i.to_doc() for i in self.items], "b": dict(self.balance)}

    def to_json(self) -> str:
        """``json.dumps(self.to_doc(), separators=(",", ":"))`` at a fraction of the cost (the stored answer)."""
        items = ",".join([i.to_json() for i in self.items])
        balance = ",".join([f"{_JSON_KEYS.get(k) or json.dumps(k)}:{int(v)}" for k, v in self.balance.items()])
        return f'{{"o":"{self.outcome._value_}","i":[{items}],"b":{{{balance}}}}}'

    @classmethod
    def from_doc(cls, d: Mapping[str, Any], duplicate: bool = False) -> ChargeResult:
        return cls(Outcome(d["o"]), tuple(ItemResult.from_doc(i) for i in d["i"]), d.get("b", {}),
                   duplicate)


@dataclass(frozen=True, slots=True)
class ChargingPolicy:
    min_reserve: Mapping[Unit, int] = field(default_factory=lambda: {
        Unit.OCTETS: 1_048_576, Unit.SECONDS: 60, Unit.MESSAGES: 1})
    validity: int = 600   # seconds a grant is valid (Validity-Time)
    grace: int = 120      # Tcc-like grace before a silent session's reservation is released
    per_session: bool = True   # rounding: a session pays the started blocks of its running total
    timezone: str = "UTC"      # local time of time-of-day prices


@quick_init
@dataclass(frozen=True, slots=True)
class RatingContext:
    service: Service
    product: Product
    offer: Offer | None
    tables: Mapping[str, PrefixTable]
    buckets: Sequence[Bucket]
    reservations: Sequence[Reservation]


@dataclass(slots=True)
class Decision:
    result: ChargeResult
    bucket_updates: dict[int, int] = field(default_factory=dict)
    new_buckets: list[NewBucket] = field(default_factory=list)
    put_reservations: list[Reservation] = field(default_factory=list)
    drop_reservations: list[tuple[str, int, Unit]] = field(default_factory=list)


_PENDING = ChargeResult(Outcome.SUCCESS)  # a Decision's result until rate() sets the real one


class RatingFailed(Exception):
    """No price, or no tariff entry, applies to the usage."""


def unit_rate(price: Price | None, tables: Mapping[str, PrefixTable], destination: str | None,
              vplmn: str | None) -> int | None:
    """Money per ``price.size`` units for this usage; None when only unit buckets can pay.

    A tariff table must match the destination (or have a default row ``""``); a roaming table
    must match the visited network (or have a default row) while the subscriber roams.
    """
    if price is None:
        return None
    amount: int | None = price.amount
    if price.tariff:
        table = tables.get(price.tariff)
        amount = table.lookup(destination) if table else None
        if amount is None:
            raise RatingFailed(f"no tariff for destination in table {price.tariff}")
    if price.roaming and vplmn:
        table = tables.get(price.roaming)
        roaming = table.lookup(vplmn) if table else None
        if roaming is None:
            raise RatingFailed(f"no roaming rate for the visited network in table {price.roaming}")
        amount = roaming
    return amount


def _specificity(price: Price) -> tuple[bool, bool, bool, bool, bool]:
    """Rating group, service, destination (tariff), roaming, time window: the more named, the better."""
    return (bool(price.rating_groups), price.service is not None, price.tariff is not None,
            price.roaming is not None, price.when is not None)


def candidate_prices(offer: Offer | None, request: ChargeRequest, item: UsageItem,
                     timezone: str = "UTC") -> list[Price]:
    """The usage prices for this item in force at ``request.now``, most specific first
    (catalog order breaks ties)."""
    if offer is None:
        return []
    found = [p for p in offer.prices
             if p.unit is item.unit and p.matches(request.service, item.rating_group)
             and (p.when is None or p.when.in_force(request.now, timezone))]
    if len(found) > 1:
        found.sort(key=_specificity, reverse=True)   # stable: equal ones keep catalog order
    return found


def select_price(offer: Offer | None, request: ChargeRequest, item: UsageItem,
                 tables: Mapping[str, PrefixTable], timezone: str = "UTC") -> tuple[Price | None, int | None]:
    """(price, money per ``price.size``) for one item: the most specific price in force that rates it.

    Prices are tried most specific first; one whose tariff table has no entry for the
    destination gives way to the next.  While the subscriber roams and some candidate has a
    roaming table, only a roaming table's entry (or its default row) may rate the usage: an
    unknown visited network is refused rather than rated at the home price.  (None, None): no
    usage price at all, only unit buckets can pay.  Raises :class:`RatingFailed` when prices
    exist but none rates the usage.
    """
    candidates = candidate_prices(offer, request, item, timezone)
    if not candidates:
        return None, None
    roaming_only = bool(request.vplmn) and any(p.roaming for p in candidates)
    for price in candidates:
        if roaming_only and not price.roaming:
            continue
        try:
            return price, unit_rate(price, tables, request.destination, request.vplmn)
        except RatingFailed:
            continue
    raise RatingFailed("no price in force rates this usage")


def find_price(offer: Offer | None, request: ChargeRequest, item: UsageItem, timezone: str = "UTC") -> Price | None:
    """The most specific usage price in force for the item (tables not consulted)."""
    candidates = candidate_prices(offer, request, item, timezone)
    return candidates[0] if candidates else None


def next_price_change(offer: Offer | None, request: ChargeRequest, item: UsageItem,
                      timezone: str = "UTC") -> int | None:
    """When the set of prices in force for this item next changes (a time-of-day boundary)."""
    if offer is None:
        return None
    soonest: int | None = None
    for p in offer.prices:
        if p.when is not None and p.unit is item.unit and p.matches(request.service, item.rating_group):
            at = p.when.next_change(request.now, timezone)
            if at is not None and (soonest is None or at < soonest):
                soonest = at
    return soonest


def rate(request: ChargeRequest, ctx: RatingContext, policy: ChargingPolicy) -> Decision:
    """Decide a charging request against one product's balance (RFC 4006 §5, TS 32.299 §6).

    Reservations are per (rating group, unit): a rating group reported in octets and seconds
    holds and pays each unit at its own price.  Within a request every item is settled at the
    price its grant was made at; a grant never outlives the prices in force when it was made
    (its validity ends at the next time-of-day boundary).
    """
    wallet = Wallet(ctx.product.id, ctx.buckets, request.now)
    decision = Decision(_PENDING)
    open_res = {(r.rating_group, r.unit): r for r in ctx.reservations}
    results: list[ItemResult] = []
    now = request.now
    # An event debits each group of items (one service: rating group + service identifier, e.g.
    # an MSCC metered in two units) all or nothing.
    group_sizes: dict[tuple[int | None, int | None], int] = {}
    if request.action is Action.DEBIT and len(request.items) > 1:
        for it in request.items:
            key = (it.rating_group, it.service_identifier)
            group_sizes[key] = group_sizes.get(key, 0) + 1
    refused_groups: dict[tuple[int | None, int | None], Outcome] = {}
    checked_groups: set[tuple[int | None, int | None]] = set()
    for item in request.items:
        rg = item.rating_group if item.rating_group is not None else NO_RATING_GROUP
        action = request.action
        slot = (rg, item.unit)
        try:
            price, rate_amount = select_price(ctx.offer, request, item, ctx.tables, policy.timezone)
            unrated = False
        except RatingFailed:
            price, rate_amount, unrated = None, None, True
        session_held = action in _SESSION_ACTIONS and _held(open_res.get(slot))
        if (unrated or (price is None and wallet.available(item.unit) == 0)) and not session_held:
            if action in _SESSION_ACTIONS and slot in open_res:      # a carrier of running totals only
                decision.drop_reservations.append((request.session_id, rg, item.unit))
                del open_res[slot]
            results.append(ItemResult(Outcome.RATING_FAILED, item.unit, item.rating_group,
                                      item.service_identifier, final=True))
            continue
        size = price.size if price else 1
        overdraft = bool(price and price.overdraft)
        cur_rate, cur_size = rate_amount, size
        if action is Action.PRICE:
            if rate_amount is None:
                outcome = Outcome.RATING_FAILED
                charged = 0
            else:
                outcome, charged = Outcome.SUCCESS, cost_of(item.requested or 0, rate_amount, size)
            results.append(ItemResult(outcome, item.unit, item.rating_group, item.service_identifier,
                                      charged=charged))
            continue
        if action is Action.CHECK:
            ok = _capacity(wallet, item.unit, rate_amount, size) >= (item.requested or 0)
            results.append(ItemResult(Outcome.SUCCESS if ok else Outcome.CREDIT_LIMIT_REACHED,
                                      item.unit, item.rating_group, item.service_identifier))
            continue
        if action is Action.REFUND:
            amount = item.requested or item.used
            if rate_amount is not None and price is not None:
                money = cost_of(amount, rate_amount, size)
                wallet.credit(Unit.MONEY, money)
            else:
                money = 0
                wallet.credit(item.unit, amount)
            results.append(ItemResult(Outcome.SUCCESS, item.unit, item.rating_group,
                                      item.service_identifier, debited=-amount, charged=-money))
            continue
        if action is Action.DEBIT:
            amount = item.requested if item.requested is not None else item.used
            group = (item.rating_group, item.service_identifier)
            if group in refused_groups:
                results.append(ItemResult(refused_groups[group], item.unit, item.rating_group,
                                          item.service_identifier, final=True))
                continue
            if group_sizes.get(group, 1) > 1 and group not in checked_groups:
                checked_groups.add(group)
                why = _group_refusal(wallet, ctx, request, policy, group)
                if why is not None:
                    refused_groups[group] = why
                    results.append(ItemResult(why, item.unit, item.rating_group, item.service_identifier,
                                              final=True))
                    continue
            capacity = _capacity(wallet, item.unit, rate_amount, size)
            # Overdraft lets one event go beyond the balance, never start while the balance
            # cannot pay a single block (a debt is covered first).
            if capacity < amount and (not overdraft or capacity <= 0):
                results.append(ItemResult(Outcome.CREDIT_LIMIT_REACHED, item.unit, item.rating_group,
                                          item.service_identifier, final=True))
                continue
            charged, unpaid, _billed = _settle(wallet, item.unit, amount, [], rate_amount, size, overdraft)
            results.append(ItemResult(Outcome.SUCCESS, item.unit, item.rating_group,
                                      item.service_identifier, debited=amount, charged=charged,
                                      unpaid=unpaid))
            continue
        # Session actions: settle the previous grant, release its rest, reserve the next.
        previous = open_res.pop((rg, item.unit), None)
        holds = list(previous.holds) if previous else []
        used_before = paid_before = 0
        if previous is not None:
            decision.drop_reservations.append((previous.session_id, rg, item.unit))
            if previous.rate is not None:
                rate_amount, size = previous.rate, previous.size  # the price the grant was made at
            if policy.per_session:
                used_before, paid_before = previous.used, previous.paid
        charged = unpaid = 0
        used_total, paid_total = used_before, paid_before
        if item.used > 0:
            charged, unpaid, billed = _settle(wallet, item.unit, item.used, holds, rate_amount, size, overdraft,
                                              used_before, paid_before)
            used_total, paid_total = billed
        for hold in holds:
            wallet.give_back(hold)
        if action is Action.STOP:
            results.append(ItemResult(Outcome.SUCCESS, item.unit, item.rating_group,
                                      item.service_identifier, debited=item.used, charged=charged,
                                      unpaid=unpaid))
            continue
        if unrated:                       # the previous grant is settled; no price rates a new one
            results.append(ItemResult(Outcome.RATING_FAILED, item.unit, item.rating_group,
                                      item.service_identifier, final=True, debited=item.used,
                                      charged=charged, unpaid=unpaid))
            continue
        # The next grant: at the price in force now (its running totals start again if it changed).
        new_rate, new_size = cur_rate, cur_size
        if (new_rate, new_size) != (rate_amount, size):
            used_total = paid_total = 0
        validity = policy.validity
        change = next_price_change(ctx.offer, request, item, policy.timezone)
        if change is not None and change - now < validity:
            validity = max(1, change - now)
        if item.requested is None:
            if policy.per_session and action is Action.UPDATE and used_total:
                decision.put_reservations.append(Reservation(
                    request.session_id, rg, ctx.product.id, ctx.service.id, item.unit, 0, (), new_rate,
                    new_size, now, now + validity + policy.grace, used_total, paid_total))
            results.append(ItemResult(Outcome.SUCCESS, item.unit, item.rating_group,
                                      item.service_identifier, debited=item.used, charged=charged,
                                      unpaid=unpaid))
            continue
        target = max(item.requested, policy.min_reserve.get(item.unit, 0))
        new_holds: list[Hold] = []
        granted = _reserve(wallet, item.unit, target, new_holds, new_rate, new_size)
        if granted == 0:
            outcome = Outcome.CREDIT_LIMIT_REACHED
        else:
            outcome = Outcome.SUCCESS
        if granted or (policy.per_session and action is Action.UPDATE and used_total):
            decision.put_reservations.append(Reservation(
                request.session_id, rg, ctx.product.id, ctx.service.id, item.unit, granted,
                tuple(new_holds), new_rate, new_size, now, now + validity + policy.grace,
                used_total, paid_total))
        results.append(ItemResult(outcome, item.unit, item.rating_group, item.service_identifier,
                                  granted=granted, final=granted < target,
                                  validity=validity if granted else 0,
                                  debited=item.used, charged=charged, unpaid=unpaid))
    if request.action is Action.STOP:
        for (rg, unit), leftover in open_res.items():  # rating groups the final report did not name
            for hold in leftover.holds:
                wallet.give_back(hold)
            decision.drop_reservations.append((leftover.session_id, rg, unit))
    decision.bucket_updates = wallet.changes()
    decision.new_buckets = wallet.new_buckets
    outcome = Outcome.SUCCESS
    if results and Outcome.SUCCESS not in [r.outcome for r in results]:  # every item failed
        outcome = results[0].outcome
    totals = wallet.totals()
    for nb in wallet.new_buckets:
        totals[nb.unit] = totals.get(nb.unit, 0) + nb.remaining
    decision.result = ChargeResult(outcome, tuple(results), {u._value_: v for u, v in totals.items()})
    return decision


_SESSION_ACTIONS = (Action.START, Action.UPDATE, Action.STOP)


def _group_refusal(wallet: Wallet, ctx: RatingContext, request: ChargeRequest, policy: ChargingPolicy,
                   group: tuple[int | None, int | None]) -> Outcome | None:
    """Can the wallet pay every item of an event's group at once?  None if so, else why not.

    Each item's own unit buckets cover what they can; the rest of every item is paid from the
    one money balance, so the group is judged on the sum.
    """
    money_needed = 0
    overdraft_all = True
    for item in request.items:
        if (item.rating_group, item.service_identifier) != group:
            continue
        try:
            price, rate_amount = select_price(ctx.offer, request, item, ctx.tables, policy.timezone)
        except RatingFailed:
            return Outcome.RATING_FAILED
        amount = item.requested if item.requested is not None else item.used
        rest = max(0, amount - wallet.available(item.unit))
        overdraft_all = overdraft_all and bool(price and price.overdraft)
        if rest == 0:
            continue
        if price is None or rate_amount is None:
            return Outcome.CREDIT_LIMIT_REACHED if price is not None else Outcome.RATING_FAILED
        money_needed += cost_of(rest, rate_amount, price.size)
    money = wallet.available(Unit.MONEY)
    if money_needed <= money or (overdraft_all and money > 0):
        return None
    return Outcome.CREDIT_LIMIT_REACHED


def _held(res: Reservation | None) -> bool:
    return res is not None and bool(res.holds)


def _capacity(wallet: Wallet, unit: Unit, rate_amount: int | None, size: int) -> int:
    """Service units the wallet can pay for now (unit buckets plus what money buys, debt netted)."""
    units = wallet.available(unit)
    if rate_amount is None:
        return units
    if rate_amount == 0:
        return 1 << 62
    return units + units_bought(wallet.available(Unit.MONEY), rate_amount, size)


def _reserve(wallet: Wallet, unit: Unit, target: int, holds: list[Hold], rate_amount: int | None,
             size: int) -> int:
    """Hold ``target`` units: unit buckets first, then money for whole blocks.

    The grant is what the holds pay for: every block of money held is granted in full (a
    started block is paid whole, so it is granted whole), never more than the balance pays.
    """
    granted = wallet.take(unit, target, holds)
    rest = target - granted
    if rest <= 0 or rate_amount is None:
        return granted
    if rate_amount == 0:
        return target
    blocks = -(-rest // size)
    money = wallet.available(Unit.MONEY)
    affordable = min(blocks, money // rate_amount)
    if affordable > 0:
        wallet.take(Unit.MONEY, affordable * rate_amount, holds)
    return granted + affordable * size


def _settle(wallet: Wallet, unit: Unit, used: int, holds: list[Hold], rate_amount: int | None,
            size: int, overdraft: bool, used_before: int = 0,
            paid_before: int = 0) -> tuple[int, int, tuple[int, int]]:
    """Account ``used`` units: unit holds, unit buckets, then money (holds, buckets, overdraft).

    Consumed parts of ``holds`` are removed from the list in place; what is left
    there is for the caller to give back.  ``used_before``/``paid_before`` are the
    session's running totals at this price (per-session rounding): the money due is
    the cost of the started blocks of the new total less what was billed before.
    Returns (money charged, money unpaid, (units used, money billed) at this price).
    """
    need = used
    for i, hold in enumerate(holds):
        if need <= 0:
            break
        if hold.unit is unit and hold.amount > 0:
            part = min(hold.amount, need)
            holds[i] = Hold(hold.bucket_id, hold.unit, hold.amount - part)
            need -= part
    if need > 0:
        need -= wallet.take(unit, need, [])
    if need <= 0 or rate_amount is None or rate_amount == 0:
        return 0, 0, (used_before, paid_before)  # covered by units, free, or unpriced (unit buckets only)
    total = used_before + need
    cost = cost_of(total, rate_amount, size) - paid_before
    if cost < 0:
        cost = 0
    paid = 0
    for i, hold in enumerate(holds):
        if paid >= cost:
            break
        if hold.unit is Unit.MONEY and hold.amount > 0:
            part = min(hold.amount, cost - paid)
            holds[i] = Hold(hold.bucket_id, hold.unit, hold.amount - part)
            paid += part
    if paid < cost:
        paid += wallet.take(Unit.MONEY, cost - paid, [])
    if paid < cost and overdraft:
        wallet.overdraw(Unit.MONEY, cost - paid)
        paid = cost
    return paid, cost - paid, (total, paid_before + cost)
