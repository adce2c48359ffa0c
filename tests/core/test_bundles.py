"""Bundles: an offer bundling others grants and charges everything its members do."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.housekeeping import sweep
from appliance.ledger.book import authorize as authorize_in
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import CatalogError, Offer, Price, PriceType, effective_offer
from appliance.ocs.inventory import Product
from appliance.ocs.rating import Action, ChargeRequest, Outcome, UsageItem
from appliance.ocs.units import Unit
from appliance.pcrf import tables as T
from tests.conftest import seed


def ts(y, m, d):
    return int(datetime(y, m, d, tzinfo=UTC).timestamp())


SETUP = Offer("setup", (Price("once", PriceType.ONE_TIME, 200),))
MONTHLY = Offer("monthly", (Price("fee", PriceType.RECURRING, 300, period="monthly"),), policy_table="silver")
DATA = Offer("data", (Price("data", PriceType.USAGE, 20_000, Unit.OCTETS, 1_000_000),))
BUNDLE = Offer("bundle", (Price("once", PriceType.ONE_TIME, 100),), ("setup", "monthly"))


def catalog(*offers):
    by_name = {o.name: o for o in offers}
    return by_name.get


def test_effective_offer_holds_own_then_members_prices_named_apart():
    got = effective_offer(BUNDLE, catalog(SETUP, MONTHLY))
    assert [(p.name, p.amount) for p in got.prices] == [("once", 100), ("setup/once", 200), ("monthly/fee", 300)]
    assert got.bundle == () and got.name == "bundle"
    assert got.policy_table == "silver"                          # the first member that has one
    own = Offer("b2", (), ("monthly",), policy_table="gold")
    assert effective_offer(own, catalog(MONTHLY)).policy_table == "gold"   # the bundle's own wins
    assert effective_offer(DATA, catalog()) is DATA              # no members: the offer itself


def test_members_of_members_and_an_offer_reached_twice_counts_once():
    inner = Offer("inner", (Price("fee", PriceType.RECURRING, 7, period="daily"),))
    a = Offer("a", (), ("inner",))
    b = Offer("b", (), ("inner",))
    top = Offer("top", (), ("a", "b"))
    got = effective_offer(top, catalog(inner, a, b))
    assert [p.name for p in got.prices] == ["inner/fee"]


@pytest.mark.parametrize("offers,fragment", [
    ((Offer("x", (), ("y",)), Offer("y", (), ("x",))), "bundles itself: x -> y -> x"),
    ((Offer("x", (), ("x",)),), "bundles itself: x -> x"),
    ((Offer("x", (), ("ghost",)),), "'ghost', which does not exist"),
])
def test_cycles_and_missing_members_are_refused(offers, fragment):
    with pytest.raises(CatalogError, match=fragment):
        effective_offer(offers[0], catalog(*offers))


def test_bundle_fees_one_time_100_with_one_time_200_and_monthly_300(cfg, store):
    def put(l):
        for offer in (SETUP, MONTHLY, BUNDLE):
            l.put_offer(offer)
        l.put_product(Product("p1", "bundle", start=ts(2026, 1, 10)))
        l.add_bucket(NewBucket("p1", Unit.MONEY, 0))
    store.transact(put)

    def money():
        return sum(b.remaining for b in store.transact(lambda l: l.list_buckets("p1")) if b.unit is Unit.MONEY)
    assert sweep(cfg, store, ts(2026, 1, 11))["fees"] == 3
    assert money() == -600                                       # 100 + 200 + 300
    assert sweep(cfg, store, ts(2026, 1, 12))["fees"] == 0       # each once per period
    assert money() == -600
    assert sweep(cfg, store, ts(2026, 2, 10))["fees"] == 1       # February's 300 only
    assert money() == -900
    charged = store.transact(lambda l: l.get_product("p1")).characteristics["charged"]
    assert charged == {"once": ts(2026, 1, 10), "setup/once": ts(2026, 1, 10), "monthly/fee": ts(2026, 2, 10)}


def test_subscriber_on_a_bundle_is_rated_and_authorized_by_a_members_usage_price(store, charging):
    bundle = Offer("bundle", (), ("data",))
    store.transact(lambda l: l.put_offer(DATA))
    imsi = seed(store, offer=bundle, money=1_000_000)
    result = charging.charge(ChargeRequest(imsi, "s1", Action.DEBIT, (UsageItem(Unit.OCTETS, used=3_000_000),),
                                           request_key="s1;0", now=1_000))
    assert result.outcome is Outcome.SUCCESS and result.items[0].charged == 60_000   # 3 blocks at the member's price
    auth = store.transact(lambda l: authorize_in(l, imsi, 1_000, (Unit.OCTETS,), "data"))
    assert auth.allowed and auth.capacity["octets"] == 47_000_000    # 940,000 buys 47 blocks


def test_pcrf_takes_the_policy_table_of_a_member(store):
    from appliance.ocs.policy import PolicyRule, PolicyTable, RuleKind
    store.transact(lambda l: (l.put_offer(MONTHLY), T.put_table(l, PolicyTable(
        "silver", (PolicyRule("silver-predef", RuleKind.PREDEFINED),)))))
    seed(store, offer=Offer("bundle", (), ("monthly",)))
    table = store.transact(lambda l: T.effective_table(l, "p1"))
    assert table is not None and table.name == "silver"


@pytest.mark.parametrize("doc,fragment", [
    ({"name": "b", "bundle": "member"}, "bundle must be a list of offer names"),
    ({"name": "b", "bundle": ["member", ""]}, "bundle must be a list of offer names"),
    ({"name": "b", "prices": {"name": "f"}}, "prices must be a list"),
    ({"name": "b", "prices": [{"name": "f", "type": "one_time"}, {"name": "f", "type": "recurring",
                                                                   "period": "daily"}]}, "two fee prices named 'f'"),
])
def test_offer_documents_are_refused_with_one_clear_error(doc, fragment):
    with pytest.raises(ValueError, match=fragment):
        Offer.from_doc(doc)
