"""Recurring and one-time fees: each period charged exactly once, month ends clamped, overdraft allowed."""
from __future__ import annotations

from datetime import UTC, datetime

from appliance.housekeeping import sweep
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Product
from appliance.ocs.recurring import period_starts
from appliance.ocs.units import Unit


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
