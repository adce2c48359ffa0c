"""Bulk provisioning through the store (both backends): many products and services per statement,
identities owned once, initial balances replaced by a second import and counted as top-ups."""
from __future__ import annotations

import pytest

from appliance.ledger import book
from appliance.ocs.balance import NewBucket
from appliance.ocs.inventory import Credentials, Product, Service
from appliance.ocs.units import Unit

T0 = 1_800_000_000


def subscribers(n: int, offer: str = "data") -> tuple[list[Product], list[Service]]:
    products = [Product(f"p{i}", offer) for i in range(n)]
    services = [Service(f"s{i}", f"p{i}", imsi=f"00102{i:010d}", msisdn=f"1555{i:07d}",
                        credentials=Credentials(k=bytes(16), opc=bytes(range(16)), sqn=i)) for i in range(n)]
    return products, services


def test_put_subscribers_then_find_them(store, seed_subscriber):
    seed_subscriber()                                 # the catalog's offer 'data' and one subscriber
    products, services = subscribers(300)
    store.transact(lambda l: l.put_subscribers(products, services))
    found, product = store.transact(lambda l: l.find_subscriber("15550000299"))
    assert found == services[299] and product == products[299]
    owners = store.transact(lambda l: l.identity_owners(["s1", "001020000000002", "nobody"]))
    assert owners == {"s1": "s1", "001020000000002": "s2"}
    # the same rows again replace them; an identity moved to another service is refused
    store.transact(lambda l: l.put_subscribers(products, services))
    assert len(store.transact(lambda l: l.list_services())) == 301
    thief = Service("s-new", "p1", imsi="001020000000001")
    with pytest.raises(ValueError, match="001020000000001 already belongs to service s1"):
        store.transact(lambda l: l.put_subscribers([], [thief]))
    assert store.transact(lambda l: l.get_service("s-new")) is None


def test_initial_balances_are_replaced_not_added(store, seed_subscriber):
    seed_subscriber()
    products, services = subscribers(3)
    store.transact(lambda l: l.put_subscribers(products, services))
    first = [NewBucket(f"p{i}", Unit.MONEY, 100 * (i + 1), None, "initial") for i in range(3)]
    store.transact(lambda l: book.top_up_initial(l, first, T0))
    store.transact(lambda l: l.add_bucket(NewBucket("p0", Unit.MONEY, 7, None, "bonus")))
    again = [NewBucket("p0", Unit.MONEY, 500, None, "initial"), NewBucket("p0", Unit.OCTETS, 9, None, "initial")]
    store.transact(lambda l: book.top_up_initial(l, again, T0))
    held = sorted((b.product_id, b.unit.value, b.remaining, b.name) for b in store.transact(lambda l: l.list_buckets()))
    assert [b for b in held if b[0] != "p1" and b[0] != "p2" and b[0].startswith("p")] == [
        ("p0", "money", 7, "bonus"), ("p0", "money", 500, "initial"), ("p0", "octets", 9, "initial")]
    assert ("p1", "money", 200, "initial") in held and ("p2", "money", 300, "initial") in held
    with pytest.raises(ValueError, match="negative"):
        store.transact(lambda l: book.top_up_initial(l, [NewBucket("p1", Unit.MONEY, -1, None, "initial")], T0))


def test_initial_balance_restores_a_product_out_of_credit(store, seed_subscriber):
    seed_subscriber()
    products, services = subscribers(1)
    store.transact(lambda l: l.put_subscribers(products, services))
    store.transact(lambda l: book.set_credit(l, "p0", True, "refused", T0))
    store.transact(lambda l: book.top_up_initial(l, [NewBucket("p0", Unit.MONEY, 1_000_000, None, "initial")], T0))
    assert not store.transact(lambda l: book.out_of_credit(l, "p0"))
