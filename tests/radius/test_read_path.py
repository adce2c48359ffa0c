"""Authorization reads beside the writer: a PAP cache miss is answered from a read transaction
(SQLite WAL: a reader sees the last committed snapshot and never waits for the writer); a refusal
that changes the product's credit state still goes through a write transaction."""
from __future__ import annotations

import dataclasses
import functools
import sqlite3
import threading

import pyrad.packet as pp
import pytest

from appliance.ledger import book
from appliance.ocs.catalog import Offer
from appliance.store.sqlite import SqliteStore

from .conftest import RunningServer
from .helpers import pyrad_client


def pap(rcfg, user: str, password: str, timeout: float = 3.0):
    c = pyrad_client(rcfg)
    c.timeout, c.retries = timeout, 1
    req = c.CreateAuthPacket(code=pp.AccessRequest, User_Name=user)
    req["User-Password"] = req.PwCrypt(password)
    req.add_message_authenticator()
    return c.SendPacket(req)


def test_a_cache_miss_is_answered_while_the_writer_is_busy(radius, rcfg, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    worker_store = radius.server.auth.store
    entered, release = threading.Event(), threading.Event()

    def hold(_l):                      # a long write transaction (an accounting batch, say)
        entered.set()
        release.wait(20)
    holder = threading.Thread(target=worker_store.transact, args=(hold,), daemon=True)
    holder.start()
    try:
        assert entered.wait(10)
        reply = pap(rcfg, "alice@wlan", "pw", timeout=2.0)    # raises Timeout if it queued behind
        assert reply.code == pp.AccessAccept
        assert not release.is_set()
    finally:
        release.set()
        holder.join(20)


@pytest.mark.parametrize("ledger", [1, 0], ids=["ledger-role", "in-process"])
def test_a_refusal_writes_only_when_the_credit_state_changes(rcfg, seed_subscriber, store, ledger):
    """With the ledger role (the default) the worker reads and asks the ledger to record the refusal
    (operation ``refused``); in process (``processes.ledger: 0``) one write transaction does both."""
    rcfg = dataclasses.replace(rcfg, processes=dataclasses.replace(rcfg.processes, ledger=ledger))
    seed_subscriber(nai="broke@wlan", password="pw", money=0)
    radius = RunningServer(rcfg).start()
    try:
        auth = radius.server.auth
        writes: list[object] = []              # the write transactions of the Access-Request path
        recorded: list[str] = []               # the ledger role's operations it asked for
        real = auth.store

        class Counting:                        # worker 0 also runs its own periodic transactions
            def __getattr__(self, name):
                return getattr(real, name)

            def atransact(self, fn):
                writes.append(fn)
                return real.atransact(fn)
        auth.store = Counting()
        if ledger:
            assert auth.ledger is not None
            call = auth.ledger.call

            def counted(name, *args):
                recorded.append(name)
                return call(name, *args)
            auth.ledger.call = counted
        # the refusal is written: what is checked here is that it is written once, not how fast
        # (a first write on a loaded machine once took more than 2 × 3 s)
        assert pap(rcfg, "broke@wlan", "pw", timeout=10.0).code == pp.AccessReject
        # the out-of-credit flag, written once: by the ledger role, or by this worker's transaction
        assert (recorded, len(writes)) == ((["refused"], 0) if ledger else ([], 1))
        assert store.transact(lambda l: book.out_of_credit(l, "p1"))
        auth.cache.drop("broke@wlan")
        reply = pap(rcfg, "broke@wlan", "pw")
        assert reply.code == pp.AccessReject and reply["Reply-Message"] == ["No usable balance"]
        # already out of credit: read only
        assert (recorded, len(writes)) == ((["refused"], 0) if ledger else ([], 1))
    finally:
        radius.close()


def test_read_sees_commits_and_refuses_writes(tmp_path):
    store = SqliteStore(str(tmp_path / "s.db"))
    try:
        store.transact(lambda l: l.put_offer(Offer("a")))
        assert store.read(lambda l: l.get_offer("a")) == Offer("a")
        other = SqliteStore(str(tmp_path / "s.db"))           # another process's connection
        other.transact(lambda l: l.delete_offer("a"))
        other.close()
        assert store.read(lambda l: l.get_offer("a")) is None  # its catalog cache follows the generation
        with pytest.raises(sqlite3.OperationalError):
            store.read(lambda l: l.put_doc("k", "x", {}))
        assert store.transact(lambda l: l.get_doc("k", "x")) is None
    finally:
        store.close()


def test_the_read_gives_the_write_transactions_authorization(store, seed_subscriber):
    from appliance.ocs.balance import NewBucket
    from appliance.ocs.inventory import Product
    from appliance.ocs.units import Unit
    from appliance.radius.auth import authorize_read
    seed_subscriber(nai="rich@wlan", money=5_000_000,
                    buckets=(NewBucket("", Unit.OCTETS, 10 ** 9), NewBucket("", Unit.SECONDS, 600)))
    seed_subscriber(imsi="001010000000002", product="p2", nai="broke@wlan", money=0)
    seed_subscriber(imsi="001010000000003", product="p3", nai="off@wlan")
    store.transact(lambda l: l.put_product(Product("p3", "data", status="suspended")))
    for who in ("rich@wlan", "broke@wlan", "off@wlan", "nobody@wlan", "001010000000001"):
        for units in ((Unit.OCTETS,), (Unit.SECONDS,), (Unit.OCTETS, Unit.SECONDS)):
            fn = functools.partial(authorize_read, identity=who, now=1_000, units=units, service_type="data",
                                   service_id=None, timezone="UTC")
            read, written = store.read(fn), store.transact(fn)
            assert read == written, (who, units)
    assert store.read(lambda l: authorize_read(l, "broke@wlan", 1_000, (Unit.OCTETS,), "data", None, "UTC"))[1]
