"""Shards of the ledger on one SQLite node: leases (lock files), "not mine" answers, routing by the
front end, takeover after kill -9, the TCP listener's peer authentication, the shard count kept."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
import zlib

import pytest

from appliance.config import ConfigError, LedgerConfig
from appliance.ledger import sessions
from appliance.ledger.remote import LedgerFailed, LedgerUnavailable, RemoteLedger, RemoteLedgerClient
from appliance.ledger.routing import sharded_remote
from appliance.ledger.server import socket_path
from appliance.ledger.shards import hint, shard_of
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, Outcome, UsageItem
from appliance.ocs.units import Unit
from appliance.store import open_store
from appliance.store.leases import read_owners
from appliance.telemetry import metrics
from tests.conftest import seed
from tests.ledger.cluster import Ledgers, node_config, wait_owners

pytestmark = pytest.mark.system
MB = 1_000_000
MONEY = 100_000_000
SHARDS = 4


def test_shard_of_is_stable_and_spread():
    # CRC-32 of the product id: the same in every process and release (a changed hash moves balances)
    assert [shard_of(f"p{i}", 4) for i in range(8)] == [shard_of(f"p{i}", 4) for i in range(8)]
    assert shard_of("p1", 1) == 0
    assert [shard_of(p, 4) for p in ("p1", "p2", "p3", "p4")] == [zlib.crc32(p.encode()) % 4
                                                                  for p in ("p1", "p2", "p3", "p4")]
    assert len({shard_of(f"p{i}", 4) for i in range(64)}) == 4


def test_every_balance_operation_has_a_hint():
    wire = ("001", "sid", "UPDATE", (), "sid:1", "data", "", "", 0)
    assert hint("credit_control", (wire, sessions.INITIAL, ("a", "b"), None)) == ("i", "a")
    assert hint("credit_control", (wire, sessions.EVENT, (), None)) == ("i", "001")
    assert hint("credit_control", (wire, sessions.UPDATE, (), None)) == ("s", "sid")
    assert hint("credit_control", (wire, sessions.TERMINATION, (), None)) == ("s", "sid")
    assert hint("charge", (wire,)) == ("i", "001")
    assert hint("top_up", ("k", 0, "p9", "money", 1, None, None, "")) == ("p", "p9")
    assert hint("remove_bucket", ("k", 0, 17)) == ("b", "17")
    assert hint("refused", ("p3", 0)) == ("p", "p3")
    assert hint("quota_debit", (wire,)) == ("i", "001") and hint("nrf_rate", (wire, None, 0)) == ("i", "001")
    assert hint("radius_account", (2, "nas|sid", "alice", 0, 0, {}, 0, (), "data", (0, 0, 0))) == ("i", "alice")
    assert hint("wallet_reserve", ("k", 0, "w1", "sid", {})) == ("p", "w1")
    assert hint("wallet_create", ("k", 0, "w2")) == ("p", "w2")
    assert hint("balance", ("001", 0)) is None and hint("housekeeping", (0, 10)) is None
    api = "prepayBalanceManagement/v4"
    assert hint("rest_create", ("k", 0, api, "balanceTopup", "t1", 1, "USD", {"product": {"id": "p7"}})) == ("p", "p7")
    assert hint("rest_create", ("k", 0, api, "balanceAdjustment", "a1", 1, "USD", {"bucket": {"id": "12"}})) == \
        ("b", "12")
    assert hint("rest_update", ("k", 0, api, "bucket", "12", 1, "USD", {"name": "x"}, "merge")) == ("b", "12")
    assert hint("rest_remove", ("k", 0, api, "bucket", "12", 1, "USD")) == ("b", "12")
    assert hint("rest_create", ("k", 0, api, "balanceAdjustment", "a2", 1, "USD", {"bucket": {"id": "x"}})) is None


@pytest.mark.parametrize("fields, message", [({"shards": 0}, "shards must be 1..4096"),
                                              ({"shards": 5000}, "shards must be 1..4096"),
                                              ({"lease_interval": 0.0}, "lease_interval"),
                                              ({"listen": "127.0.0.1"}, "secret of at least 16"),
                                              ({"listen": "127.0.0.1", "secret": "short"}, "secret of at least 16"),
                                              ({"nodes": 2, "node_index": 2}, "node_index must be"),
                                              ({"nodes": 0}, "node_index must be")])
def test_ledger_section_is_validated(fields, message):
    with pytest.raises(ValueError, match=message):
        LedgerConfig(**fields)


def test_a_bad_listen_address_names_the_key(tmp_path):
    conf = tmp_path / "a.yaml"
    conf.write_text("ledger:\n  listen: nowhere\n  secret: 0123456789abcdef0\n")
    from appliance.config import load
    with pytest.raises(ConfigError, match="ledger.listen"):
        load(str(conf))


def products_by_shard(count: int = 8) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i in range(count * 4):
        out.setdefault(shard_of(f"p{i}", SHARDS), []).append(f"p{i}")
    return {k: v[:count // SHARDS] for k, v in out.items()}


def seeded(cfg, products: list[str]) -> None:
    store = open_store(cfg)
    try:
        for p in products:
            seed(store, imsi=f"0010100000{p[1:]:>05}", money=MONEY, product=p)
    finally:
        store.close()


def imsi_of(product: str) -> str:
    return f"0010100000{product[1:]:>05}"


def money(cfg, products: list[str]) -> dict[str, int]:
    store = open_store(cfg)
    try:
        return store.transact(lambda l: {p: sum(b.remaining for b in l.list_buckets(p) if b.unit is Unit.MONEY)
                                         for p in products})
    finally:
        store.close()


@pytest.fixture
def ledgers():
    started = Ledgers()
    yield started
    started.stop()


def top_up(path: str, key: str, product: str, amount: int) -> object:
    async def go():
        r = RemoteLedger(path, 3.0)
        try:
            return await r.call("top_up", (key, int(time.time()), product, "money", amount, None, None, ""))
        except LedgerFailed as exc:
            return exc
        finally:
            r.close()
    return asyncio.run(go())


def test_two_ledgers_never_own_one_shard_and_the_survivor_takes_over(tmp_path, ledgers):
    """Two nodes' ledgers on one store race for the same shards: each shard has exactly one owner,
    the other answers "not mine" and executes nothing; kill -9 of the owner: the other holds every
    shard within the bound, and every answer the dead one acknowledged is in the store."""
    a = node_config(tmp_path, "a", SHARDS)
    b = node_config(tmp_path, "b", SHARDS)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(a, products)
    pa = ledgers.start(a)
    pb = ledgers.start(b)
    owners = wait_owners(a, SHARDS)
    time.sleep(3 * 0.2)                               # both have tried every shard (after two intervals)
    assert read_owners(a) == owners                   # nobody took a held shard: epochs unchanged
    sockets = {str(socket_path(a)), str(socket_path(b))}
    assert {o[1] for o in owners.values()} <= sockets
    acknowledged = {p: 0 for p in products}
    for shard, ps in by_shard.items():
        holder = owners[shard][1]
        other = (sockets - {holder}).pop()
        for n, p in enumerate(ps):
            refused = top_up(other, f"x-{p}-{n}", p, 1_000)
            assert isinstance(refused, LedgerFailed) and refused.name == "NotMine"
            assert refused.detail[0] == shard and refused.detail[2] == holder    # the owner named
            assert top_up(holder, f"t-{p}-{n}", p, 5_000) > 0
            acknowledged[p] += 5_000
    assert money(a, products) == {p: MONEY + acknowledged[p] for p in products}     # refused: not executed
    holder_proc = pa if any(o[1] == str(socket_path(a)) for o in owners.values()) else pb
    survivor = str(socket_path(b)) if holder_proc is pa else str(socket_path(a))
    holder_proc.send_signal(signal.SIGKILL)
    holder_proc.wait(10)
    t0 = time.monotonic()
    after = wait_owners(a, SHARDS, not_socket=(sockets - {survivor}).pop())
    took = time.monotonic() - t0
    assert took < 2.0, took                           # 2 × lease_interval (0.2 s) plus the store's write
    assert all(o[1] == survivor for o in after.values())
    assert all(after[k][3] > owners[k][3] for k in owners if owners[k][1] != survivor)   # epoch raised
    assert money(a, products) == {p: MONEY + acknowledged[p] for p in products}
    for p in products:                                # the survivor now executes every shard
        assert top_up(survivor, f"after-{p}", p, 7) > 0
    assert money(a, products) == {p: MONEY + acknowledged[p] + 7 for p in products}


def ccr(imsi: str, sid: str, n: int, action: Action, used: int = 0) -> ChargeRequest:
    requested = None if action is Action.STOP else 3 * MB
    return ChargeRequest(imsi, sid, action, (UsageItem(Unit.OCTETS, requested, used, 1),), f"{sid}:{n}",
                         service="data")


class SessionLoad:
    """Credit-control sessions of 30 requests (START, 28 UPDATEs, STOP; 300,000 octets used per
    report) through a front end's client, each acknowledged charge counted per product."""

    def __init__(self, products: list[str]) -> None:
        self.acknowledged = {p: 0 for p in products}
        self.done = 0                                 # UPDATE/STOP answers received

    async def session(self, c: RemoteLedgerClient, p: str, k: int) -> None:
        imsi, sid = imsi_of(p), f"{p}-s{k}"
        result, *_ = await c.credit_control(ccr(imsi, sid, 0, Action.START), sessions.INITIAL, (imsi,), None)
        assert result.outcome is Outcome.SUCCESS
        for n in range(1, 30):
            action = Action.STOP if n == 29 else Action.UPDATE
            result, *_ = await c.credit_control(ccr(imsi, sid, n, action, 300_000),
                                                sessions.TERMINATION if n == 29 else sessions.UPDATE, (), None)
            assert result is not None and result.outcome is Outcome.SUCCESS
            self.acknowledged[p] += sum(i.charged for i in result.items)
            self.done += 1

    def check(self, left: dict[str, int]) -> None:
        """Money exact: three sessions a product, 29 × 300,000 octets each = 9 started MB at 20,000."""
        for p, charged in self.acknowledged.items():
            assert charged == 3 * 9 * 20_000
            assert left[p] == MONEY - charged


def test_front_end_routes_by_shard_and_survives_a_ledger_killed_mid_load(tmp_path, ledgers):
    """processes.ledger: 2 on one node, 4 shards: the front end's operations reach the holder of
    their product's shard (learned from "not mine"); ledger 1 killed mid-load, ledger 0 takes its
    shards, the sessions continue; money exact: every acknowledged debit once, none twice."""
    cfg = node_config(tmp_path, "a", SHARDS, ledgers=2)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(cfg, products)
    ledgers.start(cfg, 0)
    p1 = ledgers.start(cfg, 1)
    owners = wait_owners(cfg, SHARDS)
    assert {k: o[1] for k, o in owners.items()} == {k: str(socket_path(cfg, k % 2)) for k in range(SHARDS)}
    load = SessionLoad(products)

    async def killer() -> None:
        while load.done < 150:
            await asyncio.sleep(0.005)
        p1.send_signal(signal.SIGKILL)               # mid-load: requests in flight to ledger 1

    async def go():
        c = RemoteLedgerClient(None, ChargingPolicy(), str(socket_path(cfg)), 15.0,  # type: ignore[arg-type]
                               remote=sharded_remote(cfg))
        await asyncio.gather(killer(), *(load.session(c, p, k) for p in products for k in range(3)))
        c.close()
        return c.remote
    router = asyncio.run(go())
    assert router.redirected > 0                      # identities' shards learned from "not mine"
    assert router.resent > 0                          # in flight at the kill, sent again to the successor
    assert load.done == len(products) * 3 * 29
    after = read_owners(cfg)
    assert all(o[1] == str(socket_path(cfg, 0)) for o in after.values())
    load.check(money(cfg, products))


def test_a_peer_without_the_secret_is_refused_and_counted(tmp_path, ledgers):
    cfg = node_config(tmp_path, "a", 2, tcp=True)
    seeded(cfg, ["p1"])
    ledgers.start(cfg)
    wait_owners(cfg, 2)
    address = f"tcp:127.0.0.1:{cfg.ledger.port}"

    async def ping(secret: str) -> object:
        r = RemoteLedger(address, 1.0, secret)
        try:
            return await r.call("ping", ())
        except LedgerUnavailable as exc:
            return exc
        finally:
            r.close()
    assert isinstance(asyncio.run(ping("not-the-secret-0123456789")), LedgerUnavailable)
    run_dir = cfg.path(cfg.run_dir)
    refused = metrics.read_all(run_dir).get("ledger.peers_refused", 0)
    assert refused >= 1
    assert asyncio.run(ping(cfg.ledger.secret)) == "pong"
    assert metrics.read_all(run_dir).get("ledger.peers_refused", 0) == refused
    assert metrics.read_all(run_dir).get("ledger.peers_accepted", 0) >= 1
    log = "".join(p.read_text() for p in ledgers.logs)
    assert "peer" in log and cfg.ledger.secret not in log and "not-the-secret" not in log


def test_a_changed_shard_count_is_refused(tmp_path, ledgers):
    cfg = node_config(tmp_path, "a", SHARDS)
    seeded(cfg, ["p1"])
    ledgers.start(cfg)
    wait_owners(cfg, SHARDS)
    ledgers.stop()
    other = node_config(tmp_path, "a", 2)
    run = subprocess.run([sys.executable, "-m", "appliance", "run", "ledger"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "APPLIANCE_CONFIG": other.source})
    assert run.returncode != 0 and "has 4 shards, ledger.shards says 2" in run.stderr


def test_supervisord_runs_one_ledger_per_shard_at_most(tmp_path):
    from appliance.supervise import supervisor_conf
    cfg = node_config(tmp_path, "a", SHARDS, ledgers=3)
    assert "[program:ledger]" in supervisor_conf(cfg) and "numprocs=3" in supervisor_conf(cfg).split(
        "[program:ledger]")[1].split("[program:")[0]
    one = dataclasses.replace(cfg, ledger=dataclasses.replace(cfg.ledger, shards=2))
    assert "numprocs=2" in supervisor_conf(one).split("[program:ledger]")[1].split("[program:")[0]


def test_radius_accounting_reaches_the_holder_of_the_subscribers_shard(tmp_path, ledgers):
    """The RADIUS worker's operation (``radius_account``) is routed by its subscriber: a Start and a
    Stop of sessions of products in every shard, each executed by its shard's holder only once."""
    from appliance.radius.acct import SESSION_KIND
    cfg = node_config(tmp_path, "a", SHARDS, ledgers=2)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(cfg, products)
    ledgers.start(cfg, 0)
    ledgers.start(cfg, 1)
    wait_owners(cfg, SHARDS)
    now = int(time.time())
    bounds = (1_000_000_000_000, 172_800, 12_500_000_000)

    async def go():
        router = sharded_remote(cfg)
        out = []
        for p in products:
            key = f"nas1|{p}"
            for status, octets in ((1, 0), (2, 2 * MB), (2, 2 * MB)):     # Start, Stop, the Stop resent
                out.append(await router.call("radius_account", (status, key, imsi_of(p), octets, 60, {"nas": "nas1"},
                                                                now, ("octets",), "data", bounds)))
        router.close()
        return router, out
    router, outcomes = asyncio.run(go())
    assert router.redirected > 0
    assert len(outcomes) == 3 * len(products)
    left = money(cfg, products)
    store = open_store(cfg)
    try:
        docs = store.transact(lambda l: l.list_docs(SESSION_KIND, "nas1|"))
    finally:
        store.close()
    assert docs == []                                   # every session stopped
    for p in products:                                  # 2 MB used: 2 started MB at 20,000, once
        assert left[p] == MONEY - 40_000


def test_front_ends_get_the_router_only_when_the_ledger_is_sharded(tmp_path):
    from appliance.ledger.api import client_for
    from appliance.ledger.routing import ShardedLedger
    plain = node_config(tmp_path, "a", 1)
    assert type(client_for(plain, None).remote) is RemoteLedger          # type: ignore[arg-type]
    for cfg in (node_config(tmp_path, "b", SHARDS), node_config(tmp_path, "c", 1, tcp=True)):
        router = client_for(cfg, None).remote                              # type: ignore[arg-type]
        assert isinstance(router, ShardedLedger) and router.path == str(socket_path(cfg))
        assert router.secret == (cfg.ledger.secret or None)


def test_the_peers_secret_is_masked_by_config_show(tmp_path):
    from appliance.config import to_doc
    cfg = node_config(tmp_path, "a", 2, tcp=True)
    shown = to_doc(cfg)["ledger"]
    assert shown["secret"] != cfg.ledger.secret and cfg.ledger.secret not in repr(to_doc(cfg))
    assert shown["listen"] == "127.0.0.1" and shown["shards"] == 2


def test_tmf654_writes_reach_the_holder_of_the_products_shard(tmp_path, ledgers):
    """The REST resources' ledger operations (``rest_create``: a balance top-up names its product)
    routed like the others: executed once, by the shard's holder."""
    cfg = node_config(tmp_path, "a", SHARDS, ledgers=2)
    by_shard = products_by_shard()
    products = [p for ps in by_shard.values() for p in ps]
    seeded(cfg, products)
    ledgers.start(cfg, 0)
    ledgers.start(cfg, 1)
    wait_owners(cfg, SHARDS)

    async def go():
        router = sharded_remote(cfg)
        for p in products:
            body = {"amount": {"amount": b"0.005", "units": "USD"}, "product": {"id": p}}
            await router.call("rest_create", (f"k-{p}", int(time.time()), "prepayBalanceManagement/v4",
                                              "balanceTopup", f"t-{p}", 1_000_000, "USD", body))
        router.close()
        return router
    router = asyncio.run(go())
    assert router.redirected == 0                    # the product is in the body: sent straight to its owner
    folder = cfg.path(cfg.run_dir) / "counters"
    served = {i: sum(metrics.read_file(f)[1].get("ledger.requests", 0) for f in folder.glob(f"ledger{i}-*.cnt"))
              for i in (0, 1)}
    assert served == {0: len(by_shard[0]) + len(by_shard[2]), 1: len(by_shard[1]) + len(by_shard[3])}
    assert metrics.read_all(cfg.path(cfg.run_dir)).get("ledger.not_mine", 0) == 0
    assert money(cfg, products) == {p: MONEY + 5_000 for p in products}
