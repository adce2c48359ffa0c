"""Shard ownership across two PostgreSQL nodes (one database): a lease per shard (advisory lock on
the ledger's own session), the owners' table, front ends forwarding over TCP to the owner with the
shared secret, takeover by the other node's ledger after kill -9 of the owner mid-load."""
from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import psycopg
import pytest

from appliance.ledger import sessions
from appliance.ledger.remote import LedgerFailed, RemoteLedger, RemoteLedgerClient
from appliance.ledger.routing import sharded_remote
from appliance.ledger.server import socket_path, tcp_address
from appliance.ocs.rating import Action, ChargingPolicy
from appliance.ocs.units import Unit
from appliance.store.leases import read_owners
from appliance.telemetry import metrics
from tests.ledger.cluster import Ledgers, node_config, wait_owners
from tests.ledger.test_shards import SessionLoad, ccr, imsi_of, money, products_by_shard, seeded

pytestmark = pytest.mark.system
MB = 1_000_000
MONEY = 100_000_000
SHARDS = 4


@pytest.fixture
def ledgers():
    started = Ledgers()
    yield started
    started.stop()


def nodes(tmp_path, pg_dsn, timeout: float = 20.0):
    database = {"backend": "postgres", "dsn": pg_dsn, "pool_size": 4}
    return (node_config(tmp_path, "a", SHARDS, database=database, tcp=True, timeout=timeout),
            node_config(tmp_path, "b", SHARDS, database=database, tcp=True, timeout=timeout))


def lease_holders(dsn: str) -> dict[int, int]:
    """shard -> number of sessions holding its advisory lock (this schema's ledger key), from pg_locks."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        (key,) = conn.execute("SELECT hashtext(current_schema() || ':appliance:ledger-shard')").fetchone()
        rows = conn.execute("SELECT objid::bigint, count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND objsubid = 2 AND granted AND classid::bigint = %s GROUP BY objid",
                            (key & 0xFFFFFFFF,)).fetchall()
        return {int(k): int(n) for k, n in rows}


def test_two_nodes_race_for_the_shards_and_exactly_one_holds_each(tmp_path, pg_dsn, ledgers):
    a, b = nodes(tmp_path, pg_dsn)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    procs = {"a": ledgers.start(a), "b": ledgers.start(b)}
    owners = wait_owners(a, SHARDS)
    time.sleep(4.0)                      # past the start grace: both have tried every shard
    assert read_owners(a) == owners      # nobody took a held shard (epochs unchanged)
    addresses = {tcp_address(a, 0), tcp_address(b, 0)}
    assert {o[2] for o in owners.values()} <= addresses
    assert lease_holders(pg_dsn) == {k: 1 for k in range(SHARDS)}     # the server's word: one holder each

    async def top_up(address: str, key: str, product: str) -> object:
        r = RemoteLedger(f"tcp:{address}", 3.0, a.ledger.secret)
        try:
            return await r.call("top_up", (key, int(time.time()), product, "money", 1_000, None, None, ""))
        except LedgerFailed as exc:
            return exc
        finally:
            r.close()
    credited = {p: 0 for p in products}
    for shard, ps in by_shard.items():
        holder = owners[shard][2]
        other = (addresses - {holder}).pop()
        for p in ps:
            refused = asyncio.run(top_up(other, f"x-{p}", p))
            assert isinstance(refused, LedgerFailed) and refused.name == "NotMine"
            assert tuple(refused.detail) == (shard, *owners[shard][:3])
            assert asyncio.run(top_up(holder, f"t-{p}", p)) > 0
            credited[p] += 1_000
    assert money(a, products) == {p: MONEY + credited[p] for p in products}    # the refused: never run
    # kill -9 of a holder: its session ends, the other node's ledger takes its shards within the bound
    victim = procs[owners[0][0]]
    survivor = "b" if owners[0][0] == "a" else "a"
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    t0 = time.monotonic()
    after = wait_owners(a, SHARDS, not_socket=str(socket_path(a if survivor == "b" else b)))
    took = time.monotonic() - t0
    assert took < 2 * a.ledger.lease_interval + 2.0, took
    assert all(o[0] == survivor for o in after.values())
    assert lease_holders(pg_dsn) == {k: 1 for k in range(SHARDS)}
    assert money(a, products) == {p: MONEY + credited[p] for p in products}    # acknowledged: all there


def test_front_end_of_b_charges_through_a_then_through_b_after_a_is_killed(tmp_path, pg_dsn, ledgers):
    """Node A's ledger holds every shard; node B's front end forwards to it over TCP (charged once,
    balances exact); A killed -9 mid-load: B's ledger takes the shards over, the load continues,
    every acknowledged debit is in the store once and no resend is charged twice."""
    a, b = nodes(tmp_path, pg_dsn)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    pa = ledgers.start(a)
    owners = wait_owners(a, SHARDS)
    assert all(o[0] == "a" for o in owners.values())
    ledgers.start(b)
    load = SessionLoad(products)
    killed_at = 0.0

    async def killer() -> None:
        nonlocal killed_at
        while load.done < 150:
            await asyncio.sleep(0.005)
        pa.send_signal(signal.SIGKILL)               # mid-load: operations in flight on A
        killed_at = time.monotonic()

    async def go():
        c = RemoteLedgerClient(None, ChargingPolicy(), "", 20.0, remote=sharded_remote(b))  # type: ignore[arg-type]
        await asyncio.gather(killer(), *(load.session(c, p, k) for p in products for k in range(3)))
        c.close()
        return c.remote, time.monotonic()
    router, ended = asyncio.run(go())
    assert router.forwarded > 0                      # B's front end sent to A's ledger over TCP
    assert router.resent > 0                         # in flight at the kill, sent again
    assert load.done == len(products) * 3 * 29
    after = read_owners(a)
    assert all(o[0] == "b" for o in after.values())  # B's ledger took every shard over
    assert all(after[k][3] > owners[k][3] for k in owners)
    assert ended - killed_at < 20.0
    load.check(money(a, products))


def test_two_nodes_share_the_shards_and_front_ends_reach_both(tmp_path, pg_dsn, ledgers):
    """ledger.nodes: 2 — each node's ledger takes its half of the shards first; node B's front end
    charges products of every shard: its own half by the Unix socket, A's half over TCP."""
    from appliance.ledger import peers
    database = {"backend": "postgres", "dsn": pg_dsn, "pool_size": 4}
    a = node_config(tmp_path, "a", SHARDS, database=database, tcp=True, timeout=20.0, nodes=2, node_index=0)
    b = node_config(tmp_path, "b", SHARDS, database=database, tcp=True, timeout=20.0, nodes=2, node_index=1)
    assert peers.preferred(SHARDS, 0, 1, 0, 2) == [0, 2] and peers.preferred(SHARDS, 0, 1, 1, 2) == [1, 3]
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    ledgers.start(a)
    ledgers.start(b)
    owners = wait_owners(a, SHARDS)
    assert {k: o[0] for k, o in owners.items()} == {0: "a", 1: "b", 2: "a", 3: "b"}
    charged = {p: 0 for p in products}

    async def go():
        router = sharded_remote(b)
        c = RemoteLedgerClient(None, ChargingPolicy(), "", 20.0, remote=router)  # type: ignore[arg-type]
        for p in products:
            imsi, sid = imsi_of(p), f"{p}-two"
            await c.credit_control(ccr(imsi, sid, 0, Action.START), sessions.INITIAL, (imsi,), None)
            done, *_ = await c.credit_control(ccr(imsi, sid, 1, Action.STOP, MB), sessions.TERMINATION, (), None)
            charged[p] += sum(i.charged for i in done.items)
        c.close()
        return router
    router = asyncio.run(go())
    assert router.forwarded > 0 and router.redirected > 0
    left = money(a, products)
    for p in products:
        assert charged[p] == 20_000 and left[p] == MONEY - 20_000


def test_diameter_ro_on_node_b_through_the_shard_owners_and_a_killed_ledger(tmp_path, pg_dsn, ledgers):
    """End to end: ``appliance run diameter`` on node B (processes.ledger: 1, sharded) answers CCRs
    for products of every shard — half held by node A's ledger (over TCP), half by B's; A's ledger
    killed -9 mid-load, B's takes its shards, every CCR answered 2001, money exact."""
    import json
    import os
    import subprocess
    import sys

    from appliance.diameter import client as dc
    from appliance.diameter.apps import ro
    from tests.conftest import free_port
    from tests.pg.test_two_nodes_ro import connect, granted, stop
    database = {"backend": "postgres", "dsn": pg_dsn, "pool_size": 4}
    a = node_config(tmp_path, "a", SHARDS, database=database, tcp=True, timeout=20.0, nodes=2, node_index=0)
    b = node_config(tmp_path, "b", SHARDS, database=database, tcp=True, timeout=20.0, nodes=2, node_index=1)
    port = free_port()
    doc = json.loads(Path(b.source).read_text())
    doc.update({"charging": {"min_reserve_octets": MB},
                "node": {"name": "b", "realm": "ocs.test", "host": "b.ocs.test"},
                "logs": {"acct_log_dir": str(tmp_path / "b" / "acct"), "auth_log_dir": str(tmp_path / "b" / "auth")},
                "diameter": {"address": "127.0.0.1", "port": port, "applications": ["ro"],
                             "accept_realms": ["client.localdomain"]}})
    Path(b.source).write_text(json.dumps(doc))
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    pa = ledgers.start(a)
    ledgers.start(b)
    owners = wait_owners(a, SHARDS)
    assert sorted(o[0] for o in owners.values()) == ["a", "a", "b", "b"]
    log = tmp_path / "b" / "diameter.log"
    worker = subprocess.Popen([sys.executable, "-m", "appliance", "run", "diameter"],
                              env=dict(os.environ, APPLIANCE_CONFIG=b.source), stdout=subprocess.DEVNULL,
                              stderr=open(log, "w"))      # noqa: SIM115 -- the child holds it
    used_mb = {p: 0 for p in products}
    answered = 0
    try:
        async def run() -> None:
            nonlocal answered
            cl = await connect(port, log, worker)
            try:
                async def session(p: str, k: int) -> None:
                    nonlocal answered
                    sid = cl.session_id()
                    grant = 0
                    steps = [(ro.INITIAL, 3 * MB, False)] + [(ro.UPDATE, 3 * MB, True)] * 6 + \
                        [(ro.TERMINATION, None, True)]
                    for number, (rtype, req, use) in enumerate(steps):
                        used = min(grant, 2 * MB) if use else None
                        avps = dc.ccr(sid, "ocs.test", rtype, number, imsi_of(p),
                                      services=(dc.Service(Unit.OCTETS, requested=req, used=used, rating_group=1),))
                        answer = await cl.send(avps, timeout=30)
                        assert dc.summary(answer)["result"] == 2001, dc.summary(answer)
                        used_mb[p] += (used or 0) // MB
                        grant = granted(answer)
                        answered += 1

                async def killer() -> None:
                    while answered < 60:
                        await asyncio.sleep(0.005)
                    pa.send_signal(signal.SIGKILL)     # A's ledger dies with operations in flight
                await asyncio.gather(killer(), *(session(p, k) for p in products for k in range(2)))
            finally:
                await cl.close()
        asyncio.run(run())
    finally:
        stop(worker)
    assert answered == len(products) * 2 * 8
    assert all(o[0] == "b" for o in read_owners(a).values())     # B's ledger took A's half over
    left = money(a, products)
    for p in products:
        assert used_mb[p] > 0 and left[p] == MONEY - 20_000 * used_mb[p]


def test_a_former_owner_is_fenced_once_its_shard_is_taken_over(tmp_path, pg_dsn, ledgers):
    """PostgreSQL: every transaction of a shard's owner checks its epoch (FOR SHARE). A takeover
    the owner has not noticed yet (its lease turn not come: here the owner row moved on under it)
    makes its next operation fail before anything is written, answered "not mine"."""
    a, _b = nodes(tmp_path, pg_dsn)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    ledgers.start(a)
    owners = wait_owners(a, SHARDS)
    address = owners[0][2]
    victim = by_shard[0][0]

    async def top_up(key: str, product: str) -> object:
        r = RemoteLedger(f"tcp:{address}", 3.0, a.ledger.secret)
        try:
            return await r.call("top_up", (key, int(time.time()), product, "money", 1_000, None, None, ""))
        except LedgerFailed as exc:
            return exc
        finally:
            r.close()
    assert asyncio.run(top_up("before", victim)) > 0
    with psycopg.connect(pg_dsn, autocommit=True) as conn:     # another ledger took shard 0 over
        conn.execute("UPDATE ledger_owner SET node = 'z', epoch = epoch + 1 WHERE shard = 0")
    refused = asyncio.run(top_up("after", victim))
    assert isinstance(refused, LedgerFailed) and refused.name == "NotMine" and refused.detail[0] == 0
    others = [p for k, ps in by_shard.items() if k != 0 for p in ps]
    assert all(asyncio.run(top_up(f"other-{p}", p)) > 0 for p in others)      # the other shards: served
    left = money(a, products)
    assert left[victim] == MONEY + 1_000                     # the fenced top-up wrote nothing
    assert all(left[p] == MONEY + 1_000 for p in others)


def test_the_cli_on_node_b_tops_up_a_product_whose_shard_node_a_holds(tmp_path, pg_dsn, ledgers):
    import json
    import os
    import subprocess
    import sys
    a, b = nodes(tmp_path, pg_dsn)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    ledgers.start(a)
    owners = wait_owners(a, SHARDS)
    ledgers.start(b)                     # B's ledger holds nothing: A started first and holds all
    assert all(o[0] == "a" for o in owners.values())
    for p in (by_shard[0][0], by_shard[3][0]):
        out = subprocess.run([sys.executable, "-m", "appliance", "bucket", "add", p, "--unit", "money",
                              "--amount", "5000"], env=dict(os.environ, APPLIANCE_CONFIG=b.source),
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout.strip().splitlines()[-1])["product"] == p
    left = money(a, products)
    assert left[by_shard[0][0]] == MONEY + 5_000 and left[by_shard[3][0]] == MONEY + 5_000
    # over TCP, as from another machine (not through A's socket file, which this machine shares)
    assert metrics.read_all(a.path(a.run_dir)).get("ledger.peers_accepted", 0) >= 2
