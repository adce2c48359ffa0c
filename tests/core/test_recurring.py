"""Recurring and one-time fees: each period charged exactly once, month ends clamped, overdraft allowed."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.housekeeping import sweep
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Product
from appliance.ocs.recurring import period_starts
from appliance.ocs.units import Unit
from appliance.telemetry import metrics


def ts(y, m, d):
    return int(datetime(y, m, d, tzinfo=UTC).timestamp())


def test_monthly_periods_clamp_to_month_end():
    starts = period_starts(ts(2026, 1, 31), "monthly", None, ts(2026, 5, 1))
    assert starts == [ts(2026, 1, 31), ts(2026, 2, 28), ts(2026, 3, 31), ts(2026, 4, 30)]


def test_periods_after_last_charged_only():
    assert period_starts(ts(2026, 1, 1), "weekly", ts(2026, 1, 8), ts(2026, 1, 22)) == \
        [ts(2026, 1, 15), ts(2026, 1, 22)]


def test_housekeeping_charges_each_period_once(cfg, store):
    offer = Offer("plan", (Price("monthly-fee", PriceType.RECURRING, 2_000_000, period="monthly"),
                           Price("activation", PriceType.ONE_TIME, 500_000),
                           Price("data", PriceType.USAGE, 20_000, Unit.OCTETS, 1_000_000)))

    def put(l):
        l.put_offer(offer)
        l.put_product(Product("p1", "plan", start=ts(2026, 1, 15)))
        l.add_bucket(NewBucket("p1", Unit.MONEY, 3_000_000))
    store.transact(put)
    assert sweep(cfg, store, ts(2026, 1, 20))["fees"] == 2          # activation + January
    assert sweep(cfg, store, ts(2026, 1, 21))["fees"] == 0          # nothing new: never twice
    assert sweep(cfg, store, ts(2026, 3, 16))["fees"] == 2          # February and March
    buckets = store.transact(lambda l: l.list_buckets("p1"))
    assert sum(b.remaining for b in buckets) == 3_000_000 - 500_000 - 3 * 2_000_000  # owes 3,500,000
    product = store.transact(lambda l: l.get_product("p1"))
    assert product.characteristics["charged"]["monthly-fee"] == ts(2026, 3, 15)


def test_suspended_product_is_not_charged(cfg, store):
    offer = Offer("plan", (Price("fee", PriceType.RECURRING, 1_000, period="daily"),))
    store.transact(lambda l: (l.put_offer(offer), l.put_product(Product("p1", "plan", start=0, status="suspended"))))
    assert sweep(cfg, store, 86_400 * 3)["fees"] == 0


# --- periods: hourly .. yearly; anything else refused at input ------------------------------------

def test_hourly_daily_and_yearly_series():
    t0 = ts(2026, 1, 1)
    assert period_starts(t0, "hourly", None, t0 + 2 * 3600 + 1800) == [t0, t0 + 3600, t0 + 7200]
    assert period_starts(t0, "hourly", t0 + 3600, t0 + 4 * 3600) == [t0 + 7200, t0 + 10_800, t0 + 14_400]
    assert period_starts(t0, "daily", None, t0 + 86_400) == [t0, t0 + 86_400]
    assert period_starts(ts(2024, 2, 29), "yearly", None, ts(2026, 3, 1)) == \
        [ts(2024, 2, 29), ts(2025, 2, 28), ts(2026, 2, 28)]
    # an hourly series years long is caught up from the last period charged, not from its start
    assert len(period_starts(t0, "hourly", t0 + 5 * 365 * 86_400, t0 + 5 * 365 * 86_400 + 3600)) == 1


@pytest.mark.parametrize("doc,fragment", [
    ({"name": "f", "type": "recurring", "amount": 1, "period": "fortnightly"}, "needs period hourly, daily"),
    ({"name": "f", "type": "recurring", "amount": 1}, "needs period"),
    ({"name": "f", "type": "one_time", "amount": 1, "period": "monthly"}, "period is for recurring prices only"),
    ({"name": "f", "type": "usage", "unit": "bits", "amount": 1}, "unknown unit 'bits'"),
    ({"name": "f", "type": "usage", "unit": "octets", "colour": "red"}, "unknown key 'colour'"),
    ({"name": "f", "type": "weekly"}, "unknown type 'weekly'"),
    ({"name": "f", "type": "recurring", "period": "monthly", "rollover": 1}, "rollover is for a recurring price "
                                                                             "with an allowance"),
    ({"name": "f", "type": "recurring", "period": "monthly", "allowance": {"octets": 1}, "rollover": 13},
     "rollover must be 0..12"),
    ({"name": "f", "type": "recurring", "period": "monthly", "allowance": {"octets": 1}, "validity": "30d"},
     "validity is for a one-time price"),
    ({"name": "f", "type": "one_time", "allowance": {"money": 5}}, "an allowance is of service units"),
    ({"name": "f", "type": "one_time", "allowance": {"octets": 0}}, "must be positive"),
    ({"name": "f", "type": "usage", "unit": "octets", "allowance": {"octets": 5}}, "not a usage price"),
])
def test_price_documents_are_refused_with_one_clear_error(doc, fragment):
    with pytest.raises(ValueError, match=fragment):
        Price.from_doc(doc)


def test_fee_price_documents_round_trip():
    doc = {"name": "plan", "type": "recurring", "amount": 30_000_000, "size": 1, "period": "hourly",
           "allowance": {"octets": 1_000_000_000, "seconds": 6000}, "rollover": 2}
    price = Price.from_doc(doc)
    assert price.allowance == ((Unit.OCTETS, 1_000_000_000), (Unit.SECONDS, 6000)) and price.rollover == 2
    assert Price.from_doc(price.to_doc()) == price
    once = Price.from_doc({"name": "pack", "type": "one_time", "amount": 5_000_000,
                           "allowance": {"octets": 500_000_000}, "validity": "30d"})
    assert once.validity == 30 * 86_400 and Price.from_doc(once.to_doc()) == once


# --- one product's failure never stops another's fees ---------------------------------------------

def test_a_product_whose_fees_fail_is_skipped_counted_and_logged(cfg, store, caplog):
    broken = Offer("broken", (Price("fee", PriceType.RECURRING, 1_000, period="daily"),), ("gone",))
    fine = Offer("fine", (Price("fee", PriceType.RECURRING, 2_000, period="daily"),))

    def put(l):
        l.put_offer(broken)      # (bundles a member removed behind the catalog's back)
        l.put_offer(fine)
        for pid, offer in (("a-broken", "broken"), ("b-fine", "fine"), ("c-broken", "broken"), ("d-fine", "fine")):
            l.put_product(Product(pid, offer, start=ts(2026, 1, 1)))
            l.add_bucket(NewBucket(pid, Unit.MONEY, 10_000))
    store.transact(put)
    caplog.set_level("WARNING")
    metrics.default().set("ocs.housekeeping.fee_failures", 0)
    done = sweep(cfg, store, ts(2026, 1, 2))
    assert done["fees"] == 4 and done["fee_failures"] == 2     # two days each for b-fine and d-fine
    assert metrics.default().get("ocs.housekeeping.fee_failures") == 2
    money = {p: sum(b.remaining for b in store.transact(lambda l, p=p: l.list_buckets(p)))
             for p in ("a-broken", "b-fine", "c-broken", "d-fine")}
    assert money == {"a-broken": 10_000, "b-fine": 6_000, "c-broken": 10_000, "d-fine": 6_000}
    assert store.transact(lambda l: l.get_product("a-broken")).characteristics.get("charged") is None
    assert "recurring fees of product a-broken not charged" in caplog.text
    assert "'gone', which does not exist" in caplog.text
