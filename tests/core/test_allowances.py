"""Allowances: units granted with a fee (per period, expiring or rolling over) and fixed-price buckets."""
from __future__ import annotations

from datetime import UTC, datetime

from appliance.housekeeping import sweep
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.charging import balance_in
from appliance.ocs.rating import Action, ChargeRequest, Outcome, UsageItem
from appliance.ocs.units import Unit
from tests.conftest import seed

MB, GB = 1_000_000, 1_000_000_000
DATA = Price("data", PriceType.USAGE, 20_000, Unit.OCTETS, MB)


def ts(y, m, d):
    return int(datetime(y, m, d, tzinfo=UTC).timestamp())


def plan(rollover=0):
    return Offer("plan", (Price("fee", PriceType.RECURRING, 30_000_000, period="monthly",
                                allowance=((Unit.OCTETS, GB), (Unit.SECONDS, 6000)), rollover=rollover), DATA))


def start(store, offer, money, when):
    from dataclasses import replace
    imsi = seed(store, offer=offer, money=money)
    store.transact(lambda l: l.put_product(replace(l.get_product("p1"), start=when)))
    return imsi


def units(store, unit=Unit.OCTETS):
    return sorted(((b.name, b.remaining, b.end) for b in store.transact(lambda l: l.list_buckets("p1"))
                   if b.unit is unit), key=lambda x: x[2])


def money(store):
    return sum(b.remaining for b in store.transact(lambda l: l.list_buckets("p1")) if b.unit is Unit.MONEY)


def use(charging, imsi, octets, now, n):
    return charging.charge(ChargeRequest(imsi, f"s{n}", Action.DEBIT, (UsageItem(Unit.OCTETS, used=octets),),
                                         request_key=f"s{n};0", now=now))


def test_monthly_fee_includes_1_gb_and_100_minutes_used_before_money(cfg, store, charging):
    imsi = start(store, plan(), 50_000_000, ts(2026, 1, 15))
    assert sweep(cfg, store, ts(2026, 1, 15))["fees"] == 1
    assert money(store) == 20_000_000
    assert units(store) == [("allowance:fee:2026-01-15T00:00Z", GB, ts(2026, 2, 15))]
    assert units(store, Unit.SECONDS) == [("allowance:fee:2026-01-15T00:00Z", 6000, ts(2026, 2, 15))]
    # 1.5 GB used: the allowance pays 1 GB, money the 500 blocks of 1 MB beyond it
    result = use(charging, imsi, 1_500 * MB, ts(2026, 1, 20), 1)
    assert result.outcome is Outcome.SUCCESS and result.items[0].charged == 10_000_000
    assert money(store) == 10_000_000 and units(store)[0][1] == 0
    bal = store.transact(lambda l: balance_in(l, imsi, ts(2026, 1, 20)))
    assert bal.totals == {"money": 10_000_000, "octets": 0, "seconds": 6000}


def test_unused_allowance_expires_at_the_period_end_and_is_renewed(cfg, store, charging):
    imsi = start(store, plan(), 100_000_000, ts(2026, 1, 15))
    sweep(cfg, store, ts(2026, 1, 15))
    use(charging, imsi, 400 * MB, ts(2026, 1, 20), 1)               # 600 MB left unused
    assert sweep(cfg, store, ts(2026, 2, 15))["fees"] == 1
    bal = store.transact(lambda l: balance_in(l, imsi, ts(2026, 2, 15)))
    assert bal.totals["octets"] == GB                               # January's 600 MB are gone
    assert bal.totals["money"] == 100_000_000 - 2 * 30_000_000


def test_rollover_keeps_the_unused_part_one_more_period_and_it_is_used_first(cfg, store, charging):
    imsi = start(store, plan(rollover=1), 100_000_000, ts(2026, 1, 15))
    sweep(cfg, store, ts(2026, 1, 15))
    assert units(store) == [("allowance:fee:2026-01-15T00:00Z", GB, ts(2026, 3, 15))]   # its period + 1
    use(charging, imsi, 400 * MB, ts(2026, 1, 20), 1)
    sweep(cfg, store, ts(2026, 2, 15))
    assert units(store) == [("allowance:fee:2026-01-15T00:00Z", 600 * MB, ts(2026, 3, 15)),
                            ("allowance:fee:2026-02-15T00:00Z", GB, ts(2026, 4, 15))]
    result = use(charging, imsi, 800 * MB, ts(2026, 2, 20), 2)       # January's first (first to expire)
    assert result.items[0].charged == 0
    assert [r for _n, r, _e in units(store)] == [0, 800 * MB]
    sweep(cfg, store, ts(2026, 3, 15))
    bal = store.transact(lambda l: balance_in(l, imsi, ts(2026, 3, 15)))
    assert bal.totals["octets"] == 800 * MB + GB                     # February's rest + March's
    assert money(store) == 100_000_000 - 3 * 30_000_000


def test_a_late_pass_charges_missed_periods_but_grants_no_expired_allowance(cfg, store):
    start(store, plan(), 100_000_000, ts(2026, 1, 15))
    assert sweep(cfg, store, ts(2026, 3, 20))["fees"] == 3          # January, February, March
    assert money(store) == 10_000_000
    assert units(store) == [("allowance:fee:2026-03-15T00:00Z", GB, ts(2026, 4, 15))]


def test_pay_5_once_for_500_mb_valid_30_days(cfg, store, charging):
    pack = Offer("pack", (Price("pack", PriceType.ONE_TIME, 5_000_000, allowance=((Unit.OCTETS, 500 * MB),),
                                validity=30 * 86_400), DATA))
    imsi = start(store, pack, 10_000_000, ts(2026, 1, 1))
    assert sweep(cfg, store, ts(2026, 1, 2))["fees"] == 1
    assert money(store) == 5_000_000
    assert units(store) == [("allowance:pack:2026-01-01T00:00Z", 500 * MB, ts(2026, 1, 31))]
    assert use(charging, imsi, 300 * MB, ts(2026, 1, 30), 1).items[0].charged == 0
    # at the end of the validity the remaining 200 MB are gone: usage is paid with money again
    assert use(charging, imsi, 2 * MB, ts(2026, 1, 31), 2).items[0].charged == 40_000
    assert money(store) == 5_000_000 - 40_000
    assert sweep(cfg, store, ts(2026, 2, 5))["fees"] == 0           # once
    assert units(store) == []                                       # the expired bucket removed
