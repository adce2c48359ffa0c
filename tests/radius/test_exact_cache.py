"""The authorization cache without a TTL: a decision is kept until the store's change signal names
its service or product (or the catalog changes), or until the clock alone could change it; every
kept decision is the one a fresh ``book.authorize`` gives."""
from __future__ import annotations

import asyncio
import dataclasses
import random
import time

import pytest

from appliance.config import charging_policy
from appliance.ledger import book
from appliance.ocs.balance import NewBucket
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Credentials, Product, Service
from appliance.ocs.timeofday import TimeWindow
from appliance.ocs.units import Unit
from appliance.radius import packet as rp
from appliance.radius.acct import AcctHandler
from appliance.radius.auth import FOREVER, AuthHandler, authorize_read
from appliance.radius.clients import Client, ClientTable
from appliance.radius.endpoint import Authorize, DuplicateCache, RadiusEndpoint, Send, Work
from appliance.store import open_store

from .test_endpoint import NAS, SECRET, pap

T0 = 1_767_225_600                      # 2026-01-01 00:00 UTC
USERS = 6
DAY = Offer("data", (Price("data-usage", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS, size=1_000_000),))
# octets free at night: the decision changes at 22:00 and 06:00 with no change to the data
NIGHT = Offer("data", (Price("night", PriceType.USAGE, amount=0, unit=Unit.OCTETS, size=1_000_000,
                             when=TimeWindow(22 * 60, 6 * 60)),
                       Price("data-usage", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS, size=1_000_000)))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seed_users(store) -> None:
    def put(l):
        l.put_offer(DAY)
        for i in range(USERS):
            l.put_product(Product(f"p{i}", "data"))
            l.put_service(Service(f"s{i}", f"p{i}", nai=f"u{i}@wlan", credentials=Credentials(password="pw")))
            l.add_bucket(NewBucket(f"p{i}", Unit.MONEY, 30_000))
    store.transact(put)


def change(store, rng: random.Random, wall: Clock) -> str:
    """One random change of a subscriber's data, the catalog, or the time."""
    i = rng.randrange(USERS)
    p, s = f"p{i}", f"s{i}"
    now = int(wall.now)
    kind = rng.choice(["charge", "charge", "top_up", "drop_bucket", "password", "enable", "product",
                       "credit", "catalog", "identity", "time", "time"])
    if kind == "charge":
        def charge(l):
            buckets = l.buckets(p)
            if buckets:
                b = rng.choice(buckets)
                l.set_bucket_remaining(b.id, rng.choice([0, -5, 1, 20_000, b.remaining // 2]))
        store.transact(charge)
    elif kind == "top_up":
        unit = rng.choice([Unit.MONEY, Unit.OCTETS, Unit.SECONDS])
        end = rng.choice([None, now + rng.randrange(1, 4_000)])
        store.transact(lambda l: l.add_bucket(NewBucket(p, unit, rng.randrange(1, 3_000_000), end=end)))
    elif kind == "drop_bucket":
        def drop(l):
            buckets = l.buckets(p)
            if buckets:
                l.delete_bucket(rng.choice(buckets).id)
        store.transact(drop)
    elif kind in ("password", "enable", "identity"):
        def service(l):
            old = l.get_service(s)
            if kind == "password":
                new = dataclasses.replace(old, credentials=Credentials(password=rng.choice(["pw", "other"])))
            elif kind == "enable":
                new = dataclasses.replace(old, enabled=not old.enabled)
            else:                                # the identity leaves its service, or comes back
                new = dataclasses.replace(old, nai=None if old.nai else f"u{i}@wlan")
            l.put_service(new)
        store.transact(service)
    elif kind == "product":
        product = Product(p, "data", start=rng.choice([None, now + rng.randrange(1, 2_000)]),
                          end=rng.choice([None, now + rng.randrange(1, 4_000)]),
                          status=rng.choice(["active", "active", "suspended"]))
        store.transact(lambda l: l.put_product(product))
    elif kind == "credit":
        out = rng.random() < 0.5
        store.transact(lambda l: book.set_credit(l, p, out, "test", now))
    elif kind == "catalog":
        offer = rng.choice([DAY, NIGHT])
        store.transact(lambda l: l.put_offer(offer))
    else:
        wall.now += rng.choice([1, 59, 600, 3_600, 7 * 3_600])
    return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_kept_decision_is_a_fresh_authorize(cfg, store, seed):
    """Over random changes of buckets, credentials, products, credit state, the catalog and the
    clock (by the store's writer, as another process would), a decision the cache still gives is
    exactly ``book.authorize`` read afresh."""
    seed_users(store)
    rng = random.Random(seed)
    wall, mono = Clock(T0 + 12 * 3_600), 0.0
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    assert auth.cache.exact
    hits = compared = 0
    kinds: set[str] = set()
    for _step in range(300):
        mono += 2 * auth.poll_every
        auth.refresh(mono)
        for i in range(USERS):
            user = f"u{i}@wlan"
            cached = auth.cache.get(user, wall.now)
            if cached is None:
                decision = auth.authorize_now(user)
                if decision is not None:
                    auth.keep(user, decision, wall.now)
                continue
            fresh, must_flag = store.read(lambda l, u=user: authorize_read(
                l, u, int(wall.now), auth.units, auth.rcfg.service, None, auth.timezone))
            # the same decision, and not a refusal the writer must still record (out of credit)
            assert cached[0] == fresh and not must_flag, (user, kinds)
            compared += 1
        hits += len(auth.cache)
        kinds.add(change(store, rng, wall))
    assert compared > 300 and hits > 300          # the cache was used, not emptied at every step
    assert len(kinds) == 10                       # every kind of change happened


def test_a_decision_is_kept_until_its_data_or_the_clock_changes_it(cfg, store):
    seed_users(store)
    wall = Clock(T0 + 12 * 3_600)
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    store.transact(lambda l: l.add_bucket(NewBucket("p1", Unit.OCTETS, 5_000_000, end=T0 + 13 * 3_600)))
    auth.refresh(0.0)
    for user in ("u0@wlan", "u1@wlan"):
        auth.keep(user, auth.authorize_now(user), wall.now)
    until = auth.cache._items["u1@wlan"][0]
    assert auth.cache._items["u0@wlan"][0] == FOREVER and until == T0 + 13 * 3_600
    auth.refresh(0.05)                            # polled too soon: nothing read
    assert auth.seq >= 0 and auth.polled_at == 0.0
    store.transact(lambda l: l.add_bucket(NewBucket("p0", Unit.MONEY, 1)))
    auth.refresh(1.0)
    assert auth.cache.get("u0@wlan", wall.now) is None and auth.cache.get("u1@wlan", wall.now) is not None
    wall.now = until
    assert auth.cache.get("u1@wlan", wall.now) is None      # the bucket ended: read again
    store.transact(lambda l: l.put_offer(NIGHT))
    auth.keep("u2@wlan", auth.authorize_now("u2@wlan"), wall.now)
    auth.refresh(2.0)                             # the catalog changed after the read: every decision goes
    assert len(auth.cache) == 0
    auth.keep("u2@wlan", auth.authorize_now("u2@wlan"), wall.now)
    assert auth.cache._items["u2@wlan"][0] == T0 + 22 * 3_600     # the night price starts


def test_a_decision_read_before_a_change_is_seen_is_not_kept(cfg, store):
    """The write path's decision is read before a poll that reports a change of it: not cached."""
    seed_users(store)
    wall = Clock(T0)
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    auth.refresh(0.0)
    epoch = auth.cache.epoch
    decision = auth.authorize_now("u0@wlan")
    store.transact(lambda l: l.add_bucket(NewBucket("p0", Unit.MONEY, 1)))
    auth.refresh(1.0)
    auth.cache.put("u0@wlan", decision, wall.now, FOREVER, epoch)
    assert auth.cache.get("u0@wlan", wall.now) is None


def test_a_balance_exhausted_by_accounting_on_another_worker_is_refused_once_seen(cfg, store, tmp_path):
    """Worker A answers alice from its cache; worker B (another process: its own store on the same
    file) charges her Interim-Update until the balance is gone; A's next Access-Request after its
    poll is refused."""
    seed_users(store)
    wall = Clock(T0 + 12 * 3_600)
    clients = ClientTable([Client("127.0.0.1", SECRET, name="lo", index=0)])
    auth_a = AuthHandler(cfg, store, 0, {}, clock=wall)
    ep_a = RadiusEndpoint("auth", 0, auth_a, clients, DuplicateCache(30.0))
    store_b = open_store(cfg)                     # as another worker process opens it
    assert store_b is not store
    try:
        auth_b = AuthHandler(cfg, store_b, 1, {}, clock=wall)
        ep_b = RadiusEndpoint("acct", 1, auth_b, clients, DuplicateCache(30.0))
        acct_b = AcctHandler(cfg, store_b, charging_policy(cfg), clock=wall)

        def access(ident: int, mono: float):
            auth_a.refresh(mono)
            actions = ep_a.receive(pap(ident, b"u0@wlan", b"pw"), NAS, mono)
            if type(actions[0]) is Authorize:
                actions = ep_a.authorized(actions[0].pending, auth_a.authorize_now("u0@wlan"), mono)
            if type(actions[0]) is Work:          # a refusal the writer records
                reply = asyncio.run(auth_a.handle(actions[0].client, actions[0].req))
                actions = ep_a.access_done(actions[0], reply)
            assert type(actions[0]) is Send
            return rp.decode(actions[0].data).code

        def accounting(ident: int, status: int, octets: int) -> None:
            attrs = [(rp.ACCT_STATUS_TYPE, status.to_bytes(4, "big")), (rp.USER_NAME, b"u0@wlan"),
                     (rp.ACCT_SESSION_ID, b"s1"), (rp.ACCT_INPUT_OCTETS, octets.to_bytes(4, "big"))]
            raw = rp.encode_request(rp.ACCOUNTING_REQUEST, ident, attrs, SECRET, with_message_authenticator=False)
            (work,) = ep_b.receive(raw, NAS, 0.0)
            outcome = asyncio.run(acct_b.handle(work.client, work.req, NAS[0]))
            ep_b.accounting_done(work, outcome)

        assert access(1, 0.0) == rp.ACCESS_ACCEPT
        assert access(2, 0.01) == rp.ACCESS_ACCEPT and "u0@wlan" in auth_a.cache._items     # from the cache
        accounting(3, 1, 0)
        accounting(4, 3, 10_000_000)              # 10 MB at 20,000 per MB: more than the 30,000 held
        assert store.transact(lambda l: book.authorize(l, "u0@wlan", int(wall.now), auth_a.units, "data")).allowed \
            is False
        assert access(5, 0.02) == rp.ACCESS_ACCEPT    # not yet seen: within one poll interval
        assert access(6, 0.02 + auth_a.poll_every) == rp.ACCESS_REJECT
        assert access(7, 0.03 + auth_a.poll_every) == rp.ACCESS_REJECT
    finally:
        store_b.close()


def test_a_refusal_is_kept_only_while_the_product_stays_out_of_credit(cfg, store):
    """A kept refusal must not skip recording it: when the credit state flips back (the credit
    document changes alone), the decision goes and the writer records the next refusal."""
    seed_users(store)
    wall = Clock(T0)
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    store.transact(lambda l: [l.delete_bucket(b.id) for b in l.buckets("p0")] and book.refused(l, "p0", T0))
    auth.refresh(0.0)
    decision = auth.authorize_now("u0@wlan")
    assert decision is not None and not decision.allowed          # already out of credit: kept
    auth.keep("u0@wlan", decision, wall.now)
    assert auth.cache.get("u0@wlan", wall.now) is not None
    store.transact(lambda l: book.set_credit(l, "p0", False, "test", T0))
    auth.refresh(1.0)
    assert auth.cache.get("u0@wlan", wall.now) is None
    assert auth.authorize_now("u0@wlan") is None                  # the writer must record it again


def test_the_preload_keeps_every_decision_a_fresh_read_gives(cfg, store):
    """Every subscriber's decision read at start (by NAI), the refusals the writer must record
    excepted; a change committed during the preload is dropped at the next look."""
    seed_users(store)
    store.transact(lambda l: [l.delete_bucket(b.id) for b in l.buckets("p3")])     # broke, not yet flagged
    wall = Clock(T0)
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    real_read = auth.read
    reads = 0

    def read(fn):                      # a top-up commits between the preload's reads
        nonlocal reads
        reads += 1
        if reads == 3:
            store.transact(lambda l: l.add_bucket(NewBucket("p0", Unit.MONEY, 1)))
        return real_read(fn)
    auth.read = read
    assert asyncio.run(auth.preload(chunk=2)) == USERS - 1
    assert set(auth.cache._items) == {f"u{i}@wlan" for i in range(USERS)} - {"u3@wlan"}
    assert all(auth.cache._items[f"u{i}@wlan"][1].product_id == f"p{i}" for i in (0, 1, 2, 4, 5))
    auth.refresh(time.monotonic() + 1.0)
    assert "u0@wlan" not in auth.cache._items and len(auth.cache) == USERS - 2
    for i in range(USERS):
        cached = auth.cache.get(f"u{i}@wlan", wall.now)
        if cached is not None:
            fresh = store.read(lambda l, i=i: authorize_read(l, f"u{i}@wlan", int(wall.now), auth.units,
                                                             auth.rcfg.service, None, auth.timezone))[0]
            assert cached[0] == fresh


def test_every_identity_of_a_changed_service_is_dropped(cfg, store):
    """A service reached by several identities (NAI, MSISDN, id): a change of its product drops
    the decision of each."""
    seed_users(store)
    store.transact(lambda l: l.put_service(dataclasses.replace(l.get_service("s1"), msisdn="33600000001")))
    wall = Clock(T0)
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    auth.refresh(0.0)
    names = ("u1@wlan", "33600000001", "s1", "u2@wlan")
    for name in names:
        auth.keep(name, auth.authorize_now(name), wall.now)
    assert all(auth.cache.get(name, wall.now) is not None for name in names)
    store.transact(lambda l: l.add_bucket(NewBucket("p1", Unit.MONEY, 1)))
    auth.refresh(1.0)
    assert [auth.cache.get(name, wall.now) is not None for name in names] == [False, False, False, True]


@pytest.mark.parametrize("backend", ["postgres"])
def test_on_postgresql_a_decision_goes_when_its_product_changes(cfg, store, backend):
    """PostgreSQL has no read path: a decision comes from the write transaction and is kept with
    its validity; the change signal (transaction ids) drops it."""
    seed_users(store)
    wall = Clock(T0)
    auth = AuthHandler(cfg, store, 0, {}, clock=wall)
    assert auth.cache.exact and auth.read is None
    auth.refresh(0.0)

    def answer(user: str) -> int:
        return asyncio.run(auth.password(None, user, "pap", lambda stored: stored == b"pw")).code
    assert answer("u0@wlan") == rp.ACCESS_ACCEPT and auth.cache.get("u0@wlan", wall.now) is not None
    assert answer("u1@wlan") == rp.ACCESS_ACCEPT
    store.transact(lambda l: [l.set_bucket_remaining(b.id, 0) for b in l.buckets("p0")])
    auth.refresh(1.0)
    assert auth.cache.get("u0@wlan", wall.now) is None and auth.cache.get("u1@wlan", wall.now) is not None
    assert answer("u0@wlan") == rp.ACCESS_REJECT
