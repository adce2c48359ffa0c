"""The rating function as a pure function of data: no store, fixed clock (STYLE practice 7/9)."""
from __future__ import annotations

import pytest

from appliance.ocs.balance import Hold, Reservation
from appliance.ocs.catalog import Offer, PrefixTable, Price, PriceType
from appliance.ocs.inventory import Bucket, Product, Service
from appliance.ocs.rating import (
    Action,
    ChargeRequest,
    ChargeResult,
    ChargingPolicy,
    ItemResult,
    Outcome,
    RatingContext,
    UsageItem,
    rate,
)
from appliance.ocs.units import Unit, cost_of, units_bought

NOW = 1_700_000_000
MB = 1_000_000
DATA = Price("data", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS, size=MB)
OFFER = Offer("o", (DATA,))
POLICY = ChargingPolicy({Unit.OCTETS: 0, Unit.SECONDS: 0, Unit.MESSAGES: 0}, validity=300, grace=60)
SERVICE = Service("s", "p")
PRODUCT = Product("p", "o")


def ctx(buckets, reservations=(), offer=OFFER, tables=None):
    return RatingContext(SERVICE, PRODUCT, offer, tables or {}, list(buckets), list(reservations))


def req(action, *items, sid="sess", **kw):
    return ChargeRequest("s", sid, action, tuple(items), now=kw.pop("now", NOW), **kw)


def money(id_, amount, end=None, start=None):
    return Bucket(id_, "p", Unit.MONEY, amount, start, end)


def octets(id_, amount, end=None):
    return Bucket(id_, "p", Unit.OCTETS, amount, None, end)


# --- rounding rule -----------------------------------------------------------------------------

@pytest.mark.parametrize("units,expected", [(0, 0), (1, 20_000), (MB, 20_000), (MB + 1, 40_000),
                                            (5_500_000, 120_000)])
def test_cost_charges_every_started_block(units, expected):
    assert cost_of(units, 20_000, MB) == expected


@pytest.mark.parametrize("money_,expected", [(0, 0), (19_999, 0), (20_000, MB), (39_999, MB), (40_000, 2 * MB)])
def test_money_buys_whole_blocks_only(money_, expected):
    assert units_bought(money_, 20_000, MB) == expected


def test_round_trip_never_favours_subscriber():
    for units in range(1, 5 * MB, 333_333):
        assert units_bought(cost_of(units, 20_000, MB), 20_000, MB) >= units
    for m in range(0, 200_000, 7_777):
        assert cost_of(units_bought(m, 20_000, MB), 20_000, MB) <= m


# --- first to expire ---------------------------------------------------------------------------

def test_first_to_expire_across_three_buckets():
    buckets = [octets(1, 3 * MB, end=NOW + 300), octets(2, 3 * MB, end=NOW + 100), octets(3, 3 * MB, end=None)]
    d = rate(req(Action.DEBIT, UsageItem(Unit.OCTETS, requested=7 * MB)), ctx(buckets), POLICY)
    assert d.result.outcome is Outcome.SUCCESS
    # bucket 2 (expires first) emptied, then bucket 1, then 1 MB from the never-expiring bucket 3
    assert d.bucket_updates == {1: 0, 2: 0, 3: 2 * MB}


def test_expired_and_future_buckets_are_skipped():
    buckets = [octets(1, 5 * MB, end=NOW - 1), Bucket(2, "p", Unit.OCTETS, 5 * MB, NOW + 10, None),
               octets(3, 2 * MB)]
    d = rate(req(Action.DEBIT, UsageItem(Unit.OCTETS, requested=MB)), ctx(buckets, offer=Offer("free")), POLICY)
    assert d.bucket_updates == {3: MB}
    d = rate(req(Action.DEBIT, UsageItem(Unit.OCTETS, requested=3 * MB)), ctx(buckets, offer=Offer("free")), POLICY)
    assert d.result.outcome is Outcome.CREDIT_LIMIT_REACHED and d.bucket_updates == {}


# --- reservation -------------------------------------------------------------------------------

def test_reserve_holds_money_for_data():
    d = rate(req(Action.START, UsageItem(Unit.OCTETS, requested=10 * MB)), ctx([money(1, 1_000_000)]), POLICY)
    item = d.result.items[0]
    assert (item.outcome, item.granted, item.final, item.validity) == (Outcome.SUCCESS, 10 * MB, False, 300)
    assert d.bucket_updates == {1: 800_000}
    (res,) = d.put_reservations
    assert res.holds == (Hold(1, Unit.MONEY, 200_000),) and res.expires == NOW + 360


def test_partial_reservation_when_funds_are_short():
    d = rate(req(Action.START, UsageItem(Unit.OCTETS, requested=10 * MB)), ctx([money(1, 70_000)]), POLICY)
    item = d.result.items[0]
    # 70,000 buys 3 whole blocks (60,000); the rest stays in the bucket
    assert (item.outcome, item.granted, item.final) == (Outcome.SUCCESS, 3 * MB, True)
    assert d.bucket_updates == {1: 10_000}


def test_no_funds_is_credit_limit():
    d = rate(req(Action.START, UsageItem(Unit.OCTETS, requested=MB)), ctx([money(1, 19_999)]), POLICY)
    assert d.result.outcome is Outcome.CREDIT_LIMIT_REACHED
    assert d.result.items[0].granted == 0 and d.put_reservations == [] and d.bucket_updates == {}


def test_unit_bucket_used_before_money():
    d = rate(req(Action.START, UsageItem(Unit.OCTETS, requested=5 * MB)), ctx([octets(1, 2 * MB), money(2, 10**6)]),
             POLICY)
    assert d.result.items[0].granted == 5 * MB
    assert d.bucket_updates == {1: 0, 2: 10**6 - 60_000}


def test_minimum_reservation_applies():
    policy = ChargingPolicy({Unit.OCTETS: 4 * MB}, 300, 60)
    d = rate(req(Action.START, UsageItem(Unit.OCTETS, requested=0)), ctx([money(1, 10**6)]), policy)
    assert d.result.items[0].granted == 4 * MB


# --- debit / release ---------------------------------------------------------------------------

def reservation(holds, granted=10 * MB, rg=-1):
    return Reservation("sess", rg, "p", "s", Unit.OCTETS, granted, tuple(holds), 20_000, MB, NOW - 10, NOW + 100)


def test_debit_less_than_reserved_releases_the_rest():
    res = reservation([Hold(1, Unit.MONEY, 200_000)])
    d = rate(req(Action.STOP, UsageItem(Unit.OCTETS, used=2_500_000)), ctx([money(1, 800_000)], [res]), POLICY)
    item = d.result.items[0]
    assert (item.debited, item.charged, item.unpaid) == (2_500_000, 60_000, 0)
    assert d.bucket_updates == {1: 800_000 + 200_000 - 60_000}
    assert d.drop_reservations == [("sess", -1, Unit.OCTETS)] and d.put_reservations == []


def test_update_debits_and_reserves_next_slice():
    res = reservation([Hold(1, Unit.MONEY, 200_000)])
    d = rate(req(Action.UPDATE, UsageItem(Unit.OCTETS, used=10 * MB, requested=10 * MB)),
             ctx([money(1, 800_000)], [res]), POLICY)
    assert d.bucket_updates == {1: 600_000}
    assert d.put_reservations[0].holds == (Hold(1, Unit.MONEY, 200_000),)


def test_usage_beyond_reservation_is_charged_from_buckets_and_unpaid_reported():
    res = reservation([Hold(1, Unit.MONEY, 20_000)], granted=MB)
    d = rate(req(Action.STOP, UsageItem(Unit.OCTETS, used=3 * MB)), ctx([money(1, 30_000)], [res]), POLICY)
    item = d.result.items[0]
    assert (item.charged, item.unpaid) == (50_000, 10_000)  # 60,000 due; 20,000 held + 30,000 left
    assert d.bucket_updates == {1: 0}


def test_overdraft_price_may_go_negative():
    offer = Offer("o", (Price("d", PriceType.USAGE, 20_000, Unit.OCTETS, MB, overdraft=True),))
    d = rate(req(Action.STOP, UsageItem(Unit.OCTETS, used=3 * MB)), ctx([money(1, 30_000)], offer=offer), POLICY)
    assert d.result.items[0].unpaid == 0 and d.bucket_updates == {1: -30_000}


def test_hold_on_a_bucket_that_expired_meanwhile_is_not_returned():
    res = reservation([Hold(1, Unit.MONEY, 200_000)])
    d = rate(req(Action.STOP, UsageItem(Unit.OCTETS, used=0)), ctx([money(1, 0, end=NOW - 1)], [res]), POLICY)
    assert d.bucket_updates == {}


def test_stop_releases_rating_groups_not_reported():
    r1 = reservation([Hold(1, Unit.MONEY, 20_000)], rg=1)
    r2 = reservation([Hold(1, Unit.MONEY, 40_000)], rg=2)
    d = rate(req(Action.STOP, UsageItem(Unit.OCTETS, used=MB, rating_group=1)), ctx([money(1, 0)], [r1, r2]), POLICY)
    assert d.bucket_updates == {1: 40_000}
    assert sorted(d.drop_reservations) == [("sess", 1, Unit.OCTETS), ("sess", 2, Unit.OCTETS)]


# --- events ------------------------------------------------------------------------------------

def test_event_debit_is_all_or_nothing():
    sms = Offer("o", (Price("sms", PriceType.USAGE, 5_000, Unit.MESSAGES, 1),))
    d = rate(req(Action.DEBIT, UsageItem(Unit.MESSAGES, requested=3)), ctx([money(1, 12_000)], offer=sms), POLICY)
    assert d.result.outcome is Outcome.CREDIT_LIMIT_REACHED and d.bucket_updates == {}
    d = rate(req(Action.DEBIT, UsageItem(Unit.MESSAGES, requested=2)), ctx([money(1, 12_000)], offer=sms), POLICY)
    assert d.result.items[0].charged == 10_000 and d.bucket_updates == {1: 2_000}


def test_refund_credits_money():
    d = rate(req(Action.REFUND, UsageItem(Unit.OCTETS, requested=2 * MB)), ctx([money(1, 100)]), POLICY)
    assert d.bucket_updates == {1: 40_100} and d.result.items[0].charged == -40_000


def test_refund_without_bucket_creates_one():
    d = rate(req(Action.REFUND, UsageItem(Unit.OCTETS, requested=MB)), ctx([]), POLICY)
    assert [(b.unit, b.remaining) for b in d.new_buckets] == [(Unit.MONEY, 20_000)]


def test_check_balance_and_price_enquiry_change_nothing():
    d = rate(req(Action.CHECK, UsageItem(Unit.OCTETS, requested=5 * MB)), ctx([money(1, 100_000)]), POLICY)
    assert d.result.outcome is Outcome.SUCCESS and d.bucket_updates == {}
    d = rate(req(Action.CHECK, UsageItem(Unit.OCTETS, requested=6 * MB)), ctx([money(1, 100_000)]), POLICY)
    assert d.result.outcome is Outcome.CREDIT_LIMIT_REACHED
    d = rate(req(Action.PRICE, UsageItem(Unit.OCTETS, requested=MB + 1)), ctx([money(1, 0)]), POLICY)
    assert d.result.items[0].charged == 40_000 and d.bucket_updates == {}


# --- tariff and roaming tables -------------------------------------------------------------------

VOICE = Price("voice", PriceType.USAGE, 0, Unit.SECONDS, 60, service="voice", tariff="dest", roaming="roam")
TABLES = {"dest": PrefixTable("dest", {"1": 10_000, "1555": 50_000, "44": 30_000}),
          "roam": PrefixTable("roam", {"310": 90_000})}


@pytest.mark.parametrize("dest,expected", [("tel:+1-555-0100", 50_000), ("+12025550100", 10_000),
                                           ("sip:447700900000@ims.example", 30_000)])
def test_longest_prefix_selects_the_rate(dest, expected):
    d = rate(req(Action.PRICE, UsageItem(Unit.SECONDS, requested=60), service="voice", destination=dest),
             ctx([], offer=Offer("v", (VOICE,)), tables=TABLES), POLICY)
    assert d.result.items[0].charged == expected


def test_unknown_destination_is_rating_failed():
    d = rate(req(Action.START, UsageItem(Unit.SECONDS, requested=60), service="voice", destination="+33123"),
             ctx([money(1, 10**6)], offer=Offer("v", (VOICE,)), tables=TABLES), POLICY)
    assert d.result.outcome is Outcome.RATING_FAILED and d.bucket_updates == {}


def test_roaming_rate_overrides_when_visiting():
    d = rate(req(Action.PRICE, UsageItem(Unit.SECONDS, requested=61), service="voice", destination="+1555",
                 vplmn="310260"), ctx([], offer=Offer("v", (VOICE,)), tables=TABLES), POLICY)
    assert d.result.items[0].charged == 180_000


@pytest.mark.parametrize("result", [
    ChargeResult(Outcome.USER_UNKNOWN),
    ChargeResult(Outcome.SUCCESS, (ItemResult(Outcome.SUCCESS, Unit.OCTETS, 32, None, 1_048_576, False, 600,
                                              700_000, 20_000, 0),
                                   ItemResult(Outcome.CREDIT_LIMIT_REACHED, Unit.SECONDS, None, 7, 0, True, 0,
                                              -60, -10_000, 5)),
                 {"money": -3, "octets": 10**15}),
    ChargeResult(Outcome.SERVICE_DENIED, (), {"odd \"key\"": 1}),
])
def test_stored_answer_text_is_the_json_of_the_doc(result):
    """The remembered answer is written by hand for speed; it must stay the JSON the readers expect."""
    import json
    text = result.to_json()
    assert text == json.dumps(result.to_doc(), separators=(",", ":"))
    assert ChargeResult.from_doc(json.loads(text)) == result
