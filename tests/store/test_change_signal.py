"""The change signal of authorization inputs (migration 0007): every write to a product, a service,
its identities, a bucket or a credit document names the product or service id to a reader asking
what changed since its last look, whichever code wrote it; a transaction committing after a look
is in the next one."""
from __future__ import annotations

import dataclasses
import threading

from appliance.ledger import book
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer
from appliance.ocs.inventory import Credentials, Product, Service
from appliance.ocs.units import Unit


def seed(store) -> int:
    def put(l):
        l.put_offer(Offer("data"))
        for i in range(3):
            l.put_product(Product(f"p{i}", "data"))
            l.put_service(Service(f"s{i}", f"p{i}", nai=f"u{i}@wlan", credentials=Credentials(password="pw")))
        return l.add_bucket(NewBucket("p0", Unit.MONEY, 100))
    return store.transact(put)


def test_every_authorization_input_is_named(store):
    bucket = seed(store)
    cursor, catalog, keys = store.changes(-1)
    assert keys == []

    def changed(fn) -> set[str]:
        nonlocal cursor
        store.transact(fn)
        cursor, _catalog, keys = store.changes(cursor)
        return set(keys)
    assert changed(lambda l: l.set_bucket_remaining(bucket, 5)) == {"p0"}
    assert changed(lambda l: l.add_bucket(NewBucket("p1", Unit.OCTETS, 5, end=2_000))) == {"p1"}
    assert changed(lambda l: l.delete_bucket(bucket)) == {"p0"}
    assert changed(lambda l: l.put_product(Product("p2", "data", status="suspended"))) == {"p2"}
    assert "s1" in changed(lambda l: l.put_service(dataclasses.replace(
        l.get_service("s1"), credentials=Credentials(password="new"))))
    assert "s2" in changed(lambda l: l.delete_service("s2"))
    assert changed(lambda l: book.refused(l, "p1", 1_000)) == {"p1"}
    assert changed(lambda l: l.put_doc("radius_session", "nas|x", {"a": 1})) == set()   # not an input
    assert changed(lambda l: l.delete_expired_buckets(2**40)) == {"p1"}
    assert store.changes(cursor)[2] in ([], ["p1"])    # nothing new (PostgreSQL may name one again)
    store.transact(lambda l: l.put_offer(Offer("data", description="new")))
    assert store.changes(cursor)[1] != catalog         # the catalog: its generation


def test_a_transaction_committing_after_a_look_is_in_the_next(store, backend):
    """On PostgreSQL transactions commit in any order: one begun before a look and committed after
    it is reported by the next look (SQLite has one writer: nothing to overlap)."""
    seed(store)
    if backend != "postgres":
        return
    cursor = store.changes(-1)[0]
    written, release = threading.Event(), threading.Event()

    def slow(l):                       # writes p1's bucket, commits only after the look below
        l.add_bucket(NewBucket("p1", Unit.MONEY, 1))
        written.set()
        release.wait(10)
    holder = threading.Thread(target=store.transact, args=(slow,))
    holder.start()
    try:
        assert written.wait(10)
        store.transact(lambda l: l.add_bucket(NewBucket("p2", Unit.MONEY, 1)))   # a later one, committed
        cursor, _c, keys = store.changes(cursor)
        assert "p2" in keys and "p1" not in keys
    finally:
        release.set()
        holder.join(10)
    assert "p1" in store.changes(cursor)[2]
