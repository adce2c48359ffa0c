"""PostgreSQL store: cross-node races forced deterministically, leadership, reconnects, migrations.

Two ``PostgresStore`` objects on one database play two nodes.  A race is forced
by pausing one transaction (its ``fn`` waits on an Event while holding its row
locks) until the other is seen waiting for a lock in ``pg_stat_activity``.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time

import psycopg
import pytest

from appliance.ocs.charging import balance_in, charge_in, release_stale
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, UsageItem
from appliance.ocs.units import Unit
from appliance.store.postgres import PostgresStore
from appliance.store.sqlite import SqliteStore, migrations
from tests.conftest import seed

IMSI = "001010000000001"
MB = 1_000_000
POLICY = ChargingPolicy({Unit.OCTETS: 0}, validity=30, grace=10)
T0 = 1_700_000_000


@pytest.fixture
def nodes(pg_dsn):
    a, b = PostgresStore(pg_dsn, pool_size=2), PostgresStore(pg_dsn, pool_size=2)
    yield a, b
    a.close()
    b.close()


def wait_for_lock_waiters(dsn: str, count: int = 1) -> None:
    """Bounded wait until ``count`` backends of this database wait for a lock."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(1000):
            (n,) = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock'").fetchone()
            if n >= count:
                return
            time.sleep(0.01)
    pytest.fail("the competing transaction never waited for the lock")


def paused(store, fn, gate: threading.Event, entered: threading.Event):
    """Run fn in a transaction on a thread, holding the transaction open until ``gate`` is set."""
    out = {}

    def body(ledger):
        result = fn(ledger)
        entered.set()
        assert gate.wait(30)
        return result

    t = threading.Thread(target=lambda: out.setdefault("r", store.transact(body)))
    t.start()
    assert entered.wait(30)
    return t, out


def req(sid, action, key, used=0, requested=None, now=T0):
    return ChargeRequest(IMSI, sid, action, (UsageItem(Unit.OCTETS, requested=requested, used=used),),
                         request_key=key, now=now)


def test_retransmission_on_two_nodes_at_once_is_charged_once(nodes, pg_dsn):
    a, b = nodes
    seed(a, money=1_000_000)
    debit = req("s1", Action.DEBIT, "s1:0", requested=MB)
    gate, entered = threading.Event(), threading.Event()
    t1, out1 = paused(a, lambda l: charge_in(l, debit, POLICY), gate, entered)
    out2 = {}
    t2 = threading.Thread(target=lambda: out2.setdefault("r", b.transact(lambda l: charge_in(l, debit, POLICY))))
    t2.start()
    wait_for_lock_waiters(pg_dsn)   # node B read "not answered yet" and now waits for A's locks
    gate.set()
    t1.join(30)
    t2.join(30)
    assert not out1["r"].duplicate and out1["r"].items[0].charged == 20_000
    assert out2["r"].duplicate and out2["r"].items == out1["r"].items
    assert b.conflicts >= 1         # B's first attempt was stale and was run again
    bal = a.transact(lambda l: balance_in(l, IMSI, T0))
    assert bal.totals["money"] == 1_000_000 - 20_000


def test_housekeeping_racing_a_late_stop_releases_nothing_twice(nodes, pg_dsn):
    a, b = nodes
    seed(a, money=1_000_000)
    start = a.transact(lambda l: charge_in(l, req("s1", Action.START, "s1:0", requested=10 * MB), POLICY))
    assert start.items[0].granted == 10 * MB  # 200,000 held
    late = T0 + 100                           # past validity + grace: the reservation looks stale
    stop = req("s1", Action.STOP, "s1:1", used=5 * MB, now=late)
    gate, entered = threading.Event(), threading.Event()
    t1, out1 = paused(a, lambda l: charge_in(l, stop, POLICY), gate, entered)
    out2 = {}
    t2 = threading.Thread(target=lambda: out2.setdefault("n", b.transact(lambda l: release_stale(l, late, 100))))
    t2.start()
    wait_for_lock_waiters(pg_dsn)   # housekeeping read the old reservation and waits for the product
    gate.set()
    t1.join(30)
    t2.join(30)
    assert out1["r"].items[0].charged == 100_000
    assert out2["n"] == 0           # its retry found the session already closed
    assert b.conflicts >= 1
    bal = a.transact(lambda l: balance_in(l, IMSI, late))
    assert bal.totals["money"] == 1_000_000 - 100_000 and bal.reserved == {}


def test_housekeeping_racing_an_update_keeps_the_new_reservation(nodes, pg_dsn):
    a, b = nodes
    seed(a, money=1_000_000)
    a.transact(lambda l: charge_in(l, req("s1", Action.START, "s1:0", requested=10 * MB), POLICY))
    late = T0 + 100
    update = req("s1", Action.UPDATE, "s1:1", used=5 * MB, requested=10 * MB, now=late)
    gate, entered = threading.Event(), threading.Event()
    t1, out1 = paused(a, lambda l: charge_in(l, update, POLICY), gate, entered)
    out2 = {}
    t2 = threading.Thread(target=lambda: out2.setdefault("n", b.transact(lambda l: release_stale(l, late, 100))))
    t2.start()
    wait_for_lock_waiters(pg_dsn)
    gate.set()
    t1.join(30)
    t2.join(30)
    assert out2["n"] == 0 and b.conflicts >= 1
    bal = a.transact(lambda l: balance_in(l, IMSI, late))
    # 5 MB used (100,000) and a fresh 10 MB reservation (200,000) held; nothing given back twice
    assert bal.totals["money"] == 1_000_000 - 100_000 - 200_000
    assert bal.reserved == {"money": 200_000}


def test_document_read_modify_write_is_atomic_across_nodes(nodes):
    a, b = nodes

    def bump(ledger):
        doc = ledger.get_doc("counter", "c") or {"n": 0}
        ledger.put_doc("counter", "c", {"n": doc["n"] + 1})

    def run(store):
        for _ in range(40):
            store.transact(bump)

    threads = [threading.Thread(target=run, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert a.transact(lambda l: l.get_doc("counter", "c")) == {"n": 160}


def test_one_leader_per_duty_and_takeover_when_it_dies(pg_dsn):
    a, b = PostgresStore(pg_dsn, pool_size=1), PostgresStore(pg_dsn, pool_size=1)
    try:
        assert a.try_leader("housekeeping") is True
        assert b.try_leader("housekeeping") is False
        assert a.try_leader("housekeeping") is True       # still held, not re-entered
        assert b.try_leader("archive") is True            # another duty is another lock
        a.close()                                         # node A dies: its session lock goes with it
        assert any(b.try_leader("housekeeping") for _ in range(50))
    finally:
        a.close()
        b.close()


def test_sqlite_is_always_its_own_leader(tmp_path):
    st = SqliteStore(str(tmp_path / "db"))
    try:
        assert st.try_leader("housekeeping") is True
    finally:
        st.close()


def test_connections_killed_by_the_server_are_replaced(pg_dsn):
    st = PostgresStore(pg_dsn, pool_size=2)
    try:
        seed(st, money=1_000)
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            (killed,) = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                      "AND application_name = 'appliance-store'").fetchone()
        assert killed >= 2
        for _ in range(5):
            assert st.transact(lambda l: l.counts())["bucket"] == 1
    finally:
        st.close()


def test_concurrent_first_start_migrates_once(pg_dsn):
    stores, errors = [], []

    def open_one():
        try:
            stores.append(PostgresStore(pg_dsn, pool_size=1))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == [] and len(stores) == 4
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_migration ORDER BY version")]
        assert versions == [n for n, _ in migrations("postgres")]
    finally:
        for st in stores:
            st.close()


def _columns_sqlite(path) -> dict[str, set[str]]:
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite_%'")]
    out = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    conn.close()
    return out


def test_both_backends_have_the_same_migrations_tables_and_columns(pg_dsn, tmp_path):
    assert [n for n, _ in migrations("sqlite")] == [n for n, _ in migrations("postgres")]
    SqliteStore(str(tmp_path / "db")).close()
    PostgresStore(pg_dsn, pool_size=1).close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        pg: dict[str, set[str]] = {}
        for table, column in conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                          "WHERE table_schema = current_schema()"):
            pg.setdefault(table, set()).add(column)
    pg.pop("schema_migration")
    assert pg == _columns_sqlite(tmp_path / "db")


def test_migration_files_are_numbered_and_named():
    for backend in ("sqlite", "postgres"):
        for number, sql in migrations(backend):
            assert number >= 1 and sql.strip()
    assert re.match(r"^\d{4}$", f"{migrations('postgres')[0][0]:04d}")


def test_replacing_a_reservation_that_changed_since_it_was_read_runs_again(nodes):
    """Ledger level: a put over a stale read (or over a row created since) is a conflict, then a fresh run."""
    import dataclasses
    a, b = nodes
    seed(a, money=1_000_000)
    a.transact(lambda l: charge_in(l, req("s1", Action.START, "s1:0", requested=MB), POLICY))
    attempts = []

    def stale_then_fresh(ledger, sid):
        found = ledger.reservations(sid)      # read before anything is locked
        attempts.append(len(found))
        if len(attempts) % 2 == 1:            # first attempt: another node changes the row meanwhile
            def change(l):
                if found:
                    l.put_reservation(dataclasses.replace(found[0], granted=found[0].granted + 1))
                else:
                    l.put_reservation(dataclasses.replace(template, session_id=sid))
            a.transact(change)
        base = found[0] if found else dataclasses.replace(template, session_id=sid)
        ledger.put_reservation(dataclasses.replace(base, expires=base.expires + 1))
        return base.granted

    template = a.transact(lambda l: l.reservations("s1"))[0]
    before = b.conflicts
    assert b.transact(lambda l: stale_then_fresh(l, "s1")) == MB + 1   # replayed on the changed row
    assert b.conflicts == before + 1
    assert b.transact(lambda l: stale_then_fresh(l, "s2")) == MB       # absent when read, created meanwhile
    assert b.conflicts == before + 2
    assert attempts == [1, 1, 0, 1]


def test_postgres_ledger_has_every_method_of_the_port_and_of_sqlite():
    """A Ledger method added for SQLite only would break every PostgreSQL node at its first call."""
    import inspect

    from appliance.ocs.ports import Ledger
    from appliance.store.postgres import PostgresLedger
    from appliance.store.sqlite import SqliteLedger
    wanted = {n for n, _ in inspect.getmembers(Ledger, inspect.isfunction) if not n.startswith("_")}
    wanted |= {n for n, _ in inspect.getmembers(SqliteLedger, inspect.isfunction) if not n.startswith("_")}
    assert sorted(n for n in wanted if not hasattr(PostgresLedger, n)) == []
