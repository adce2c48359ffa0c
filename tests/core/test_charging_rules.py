"""Charging rules with exact numbers (docs/charging.md): units per reservation, debt, price
selection, time of day, grants, per-session rounding.  Pure: rate() with a fixed clock."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.ocs.balance import Reservation, Wallet
from appliance.ocs.catalog import Offer, PrefixTable, Price, PriceType
from appliance.ocs.inventory import Bucket, Product, Service
from appliance.ocs.rating import (
    Action,
    ChargeRequest,
    ChargingPolicy,
    Decision,
    Outcome,
    RatingContext,
    UsageItem,
    rate,
)
from appliance.ocs.timeofday import TimeWindow
from appliance.ocs.units import Unit

MB = 1_000_000
NOW = int(datetime(2026, 12, 7, 12, 0, tzinfo=UTC).timestamp())      # a Monday, noon UTC
SERVICE = Service("s", "p")
PRODUCT = Product("p", "o")
NO_MIN = ChargingPolicy({Unit.OCTETS: 0, Unit.SECONDS: 0, Unit.MESSAGES: 0}, validity=600, grace=60)


def usage(name, amount, unit=Unit.OCTETS, size=MB, **kw):
    return Price(name, PriceType.USAGE, amount=amount, unit=unit, size=size, **kw)


def money(id_, amount, end=None):
    return Bucket(id_, "p", Unit.MONEY, amount, None, end)


class Session:
    """Applies each decision to an in-memory balance, as the store would in one transaction."""

    def __init__(self, offer, buckets, policy=NO_MIN, tables=None):
        self.offer, self.policy, self.tables = offer, policy, tables or {}
        self.buckets = {b.id: b for b in buckets}
        self.reservations: dict[tuple[str, int, Unit], Reservation] = {}
        self.next_id = 1000

    def run(self, action, *items, sid="sess", now=NOW, **kw) -> Decision:
        res = [r for k, r in self.reservations.items() if k[0] == sid]
        ctx = RatingContext(SERVICE, PRODUCT, self.offer, self.tables, list(self.buckets.values()), res)
        d = rate(ChargeRequest("s", sid, action, tuple(items), now=now, **kw), ctx, self.policy)
        for bid, remaining in d.bucket_updates.items():
            b = self.buckets[bid]
            self.buckets[bid] = Bucket(b.id, b.product_id, b.unit, remaining, b.start, b.end, b.name)
        for nb in d.new_buckets:
            self.next_id += 1
            self.buckets[self.next_id] = Bucket(self.next_id, "p", nb.unit, nb.remaining, None, nb.end, nb.name)
        put = {(r.session_id, r.rating_group, r.unit) for r in d.put_reservations}
        for key in d.drop_reservations:
            if key not in put:
                self.reservations.pop(key)
        for r in d.put_reservations:
            self.reservations[(r.session_id, r.rating_group, r.unit)] = r
        return d

    def money(self) -> int:
        return sum(b.remaining for b in self.buckets.values() if b.unit is Unit.MONEY)

    def held(self) -> int:
        return sum(h.amount for r in self.reservations.values() for h in r.holds if h.unit is Unit.MONEY)


# --- one reservation per (rating group, unit) ---------------------------------------------------

def test_two_units_in_one_session_each_at_its_own_price():
    offer = Offer("o", (usage("data", 1_000_000), usage("time", 1, Unit.SECONDS, 60)))
    s = Session(offer, [money(1, 10_000_000)], ChargingPolicy())      # default minimum reservations
    start = s.run(Action.START, UsageItem(Unit.OCTETS, requested=0), UsageItem(Unit.SECONDS, requested=0))
    assert [i.outcome for i in start.result.items] == [Outcome.SUCCESS] * 2
    assert len(s.reservations) == 2
    s.run(Action.UPDATE, UsageItem(Unit.OCTETS, requested=0, used=5_000_000),
          UsageItem(Unit.SECONDS, requested=0, used=60))
    stop = s.run(Action.STOP, UsageItem(Unit.OCTETS, used=0), UsageItem(Unit.SECONDS, used=0))
    assert s.reservations == {}
    assert s.money() == 10_000_000 - 5_000_000 - 1 == 4_999_999
    assert stop.result.balance["money"] == 4_999_999


def test_free_seconds_do_not_make_octets_free():
    offer = Offer("o", (usage("data", 1_000_000), usage("time", 0, Unit.SECONDS, 60)))
    s = Session(offer, [money(1, 10_000_000)], ChargingPolicy())
    s.run(Action.START, UsageItem(Unit.OCTETS, requested=0), UsageItem(Unit.SECONDS, requested=0))
    s.run(Action.STOP, UsageItem(Unit.OCTETS, used=3_000_000), UsageItem(Unit.SECONDS, used=600))
    assert s.money() == 7_000_000


# --- debt ---------------------------------------------------------------------------------------

def test_a_debt_is_covered_before_service_is_granted():
    offer = Offer("o", (usage("data", 1_000_000),))
    debt = Bucket(1, "p", Unit.MONEY, -100_000_000, None, None, "debt")
    s = Session(offer, [debt, money(2, 10_000_000)])
    d = s.run(Action.START, UsageItem(Unit.OCTETS, requested=MB))
    assert d.result.outcome is Outcome.CREDIT_LIMIT_REACHED and d.result.items[0].granted == 0
    assert s.money() == -90_000_000                                   # nothing was spent
    assert d.result.balance["money"] == -90_000_000


@pytest.mark.parametrize("overdraft", [False, True])
def test_a_debt_refuses_an_event_with_or_without_overdraft(overdraft):
    offer = Offer("o", (usage("sms", 100_000, Unit.MESSAGES, 1, overdraft=overdraft),))
    s = Session(offer, [Bucket(1, "p", Unit.MONEY, -500_000, None, None), money(2, 400_000)])
    d = s.run(Action.DEBIT, UsageItem(Unit.MESSAGES, requested=1))
    assert d.result.outcome is Outcome.CREDIT_LIMIT_REACHED
    assert s.money() == -100_000


def test_top_up_beyond_the_debt_buys_service_with_the_difference():
    offer = Offer("o", (usage("data", 1_000_000),))
    s = Session(offer, [Bucket(1, "p", Unit.MONEY, -1_500_000, None, None), money(2, 4_000_000)])
    d = s.run(Action.START, UsageItem(Unit.OCTETS, requested=5 * MB))
    assert d.result.items[0].granted == 2 * MB                         # 2.5 net buys two whole blocks
    s.run(Action.STOP, UsageItem(Unit.OCTETS, used=2 * MB))
    assert s.money() == 500_000


def test_overdraft_goes_to_a_bucket_that_never_expires():
    w = Wallet("p", [money(1, 100, end=NOW + 10)], NOW)
    assert w.take(Unit.MONEY, 100, []) == 100
    w.overdraw(Unit.MONEY, 50)
    assert w.changes() == {1: 0}
    assert [(nb.remaining, nb.end, nb.name) for nb in w.new_buckets] == [(-50, None, "debt")]
    assert w.available(Unit.MONEY) == 0 and w.debt(Unit.MONEY) == 50


# --- price selection ----------------------------------------------------------------------------

def test_the_most_specific_price_wins_whatever_the_catalog_order():
    general = usage("any", 10_000)
    keyed = usage("rg7", 30_000, rating_groups=(7,))
    for prices in ((general, keyed), (keyed, general)):
        s = Session(Offer("o", prices), [money(1, 1_000_000)])
        d = s.run(Action.DEBIT, UsageItem(Unit.OCTETS, requested=MB, rating_group=7))
        assert d.result.items[0].charged == 30_000
        d = s.run(Action.DEBIT, UsageItem(Unit.OCTETS, requested=MB, rating_group=8))
        assert d.result.items[0].charged == 10_000


def test_each_tariff_table_is_tried_until_one_matches():
    national = PrefixTable("national", {"33": 1_000})
    international = PrefixTable("international", {"1": 5_000})
    offer = Offer("o", (usage("nat", 0, Unit.SECONDS, 60, tariff="national"),
                        usage("intl", 0, Unit.SECONDS, 60, tariff="international")))
    s = Session(offer, [money(1, 100_000)], tables={"national": national, "international": international})
    d = s.run(Action.DEBIT, UsageItem(Unit.SECONDS, requested=60), destination="15551234")
    assert d.result.outcome is Outcome.SUCCESS and d.result.items[0].charged == 5_000
    d = s.run(Action.DEBIT, UsageItem(Unit.SECONDS, requested=60), destination="33612345678")
    assert d.result.items[0].charged == 1_000
    d = s.run(Action.DEBIT, UsageItem(Unit.SECONDS, requested=60), destination="4420")
    assert d.result.outcome is Outcome.RATING_FAILED
    assert s.money() == 94_000


@pytest.mark.parametrize("rates,vplmn,outcome,charged", [
    ({"20801": 70_000}, "20801", Outcome.SUCCESS, 70_000),
    ({"20801": 70_000}, "99999", Outcome.RATING_FAILED, 0),
    ({"20801": 70_000, "": 90_000}, "99999", Outcome.SUCCESS, 90_000),
    ({"20801": 70_000}, None, Outcome.SUCCESS, 20_000),             # at home: the home amount
])
def test_an_unknown_visited_network_is_refused_unless_the_table_has_a_default(rates, vplmn, outcome, charged):
    offer = Offer("o", (usage("data", 20_000, roaming="roam"), usage("flat", 20_000)))
    s = Session(offer, [money(1, 1_000_000)], tables={"roam": PrefixTable("roam", rates)})
    d = s.run(Action.DEBIT, UsageItem(Unit.OCTETS, requested=MB), vplmn=vplmn)
    assert (d.result.outcome, d.result.items[0].charged) == (outcome, charged)


# --- time of day --------------------------------------------------------------------------------

PEAK = TimeWindow.parse("08:00-20:00", "mon-fri")
OFFPEAK = TimeWindow.parse("20:00-08:00", None)


def test_time_of_day_windows():
    assert PEAK.in_force(NOW, "UTC")                                   # Monday 12:00
    assert not PEAK.in_force(NOW + 9 * 3600, "UTC")                    # Monday 21:00
    assert not PEAK.in_force(NOW + 5 * 86_400, "UTC")                  # Saturday 12:00
    assert OFFPEAK.in_force(NOW + 9 * 3600, "UTC") and OFFPEAK.in_force(NOW + 18 * 3600, "UTC")
    assert PEAK.next_change(NOW, "UTC") == NOW + 8 * 3600
    assert PEAK.in_force(NOW, "Asia/Tokyo") is False                   # 21:00 in Tokyo
    with pytest.raises(ValueError):
        TimeWindow.parse("8-20", None)
    with pytest.raises(ValueError):
        TimeWindow.parse(None, "funday")


def test_price_in_force_when_used_and_the_grant_ends_at_the_boundary():
    offer = Offer("o", (usage("peak", 50_000, Unit.SECONDS, 60, when=PEAK), usage("night", 10_000, Unit.SECONDS, 60)))
    s = Session(offer, [money(1, 10_000_000)])
    late = NOW + 8 * 3600 - 120                                        # Monday 19:58
    d = s.run(Action.START, UsageItem(Unit.SECONDS, requested=600), now=late)
    assert d.result.items[0].validity == 120                           # not beyond 20:00
    d = s.run(Action.UPDATE, UsageItem(Unit.SECONDS, requested=600, used=120), now=late + 120)
    assert d.result.items[0].charged == 2 * 50_000                     # used before 20:00: peak
    s.run(Action.STOP, UsageItem(Unit.SECONDS, used=600), now=late + 720)
    assert s.money() == 10_000_000 - 100_000 - 10 * 10_000             # after 20:00: night


def test_unknown_time_of_day_key_values_are_refused_in_the_catalog():
    with pytest.raises(ValueError):
        Price.from_doc({"name": "x", "unit": "seconds", "amount": 1, "time_of_day": "25:00-26:00"})
    p = Price.from_doc({"name": "x", "unit": "seconds", "amount": 1, "time_of_day": "22:00-06:00",
                        "days": "fri,sat"})
    assert Price.from_doc(p.to_doc()) == p and p.to_doc()["days"] == "fri,sat"


# --- grants and rounding ------------------------------------------------------------------------

def test_the_grant_is_every_block_the_hold_pays_for():
    offer = Offer("o", (usage("data", 1_000_000),))
    s = Session(offer, [money(1, 10_000_000)], ChargingPolicy())       # min_reserve_octets 1,048,576
    d = s.run(Action.START, UsageItem(Unit.OCTETS, requested=0))
    assert d.result.items[0].granted == 2 * MB and s.held() == 2_000_000
    s2 = Session(offer, [money(1, 1_500_000)], ChargingPolicy())
    d = s2.run(Action.START, UsageItem(Unit.OCTETS, requested=0))
    assert d.result.items[0].granted == MB and d.result.items[0].final   # never beyond what is paid


@pytest.mark.parametrize("per_session,expected", [(True, 6 * 100_000), (False, 8 * 100_000)])
def test_rounding_per_session_or_per_report(per_session, expected):
    offer = Offer("o", (usage("data", 100_000, size=6 * MB),))
    policy = ChargingPolicy({Unit.OCTETS: 0}, 600, 60, per_session=per_session)
    s = Session(offer, [money(1, 10_000_000)], policy)
    s.run(Action.START, UsageItem(Unit.OCTETS, requested=8 * MB))
    for _ in range(3):
        s.run(Action.UPDATE, UsageItem(Unit.OCTETS, requested=8 * MB, used=7_800_000))
    s.run(Action.STOP, UsageItem(Unit.OCTETS, used=7_800_000))
    assert s.money() == 10_000_000 - expected
    one = Session(offer, [money(1, 10_000_000)], policy)
    one.run(Action.START, UsageItem(Unit.OCTETS, requested=32 * MB))
    one.run(Action.STOP, UsageItem(Unit.OCTETS, used=31_200_000))
    assert one.money() == 10_000_000 - 6 * 100_000


def test_per_session_totals_survive_an_update_without_a_new_grant():
    offer = Offer("o", (usage("data", 100_000, size=6 * MB),))
    s = Session(offer, [money(1, 10_000_000)])
    s.run(Action.UPDATE, UsageItem(Unit.OCTETS, requested=None, used=1_000_000))
    assert s.money() == 9_900_000
    s.run(Action.UPDATE, UsageItem(Unit.OCTETS, requested=None, used=1_000_000))
    s.run(Action.STOP, UsageItem(Unit.OCTETS, used=1_000_000))
    assert s.money() == 9_900_000 and s.reservations == {}
