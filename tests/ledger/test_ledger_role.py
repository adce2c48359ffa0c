"""The ledger role as its own process: answers over its socket, survives kill -9 without losing or
doubling a debit, makes front ends wait a bounded time, and runs once per run directory."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from appliance.config import Config
from appliance.ledger import sessions
from appliance.ledger.remote import LedgerUnavailable, RemoteLedgerClient
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, Outcome, UsageItem
from appliance.ocs.units import Unit
from appliance.store import open_store

IMSI = "001010000000001"
MB = 1_000_000
MONEY = 100_000_000
pytestmark = pytest.mark.system


def client(cfg: Config, timeout: float = 3.0) -> RemoteLedgerClient:
    from appliance.ledger.server import socket_path
    return RemoteLedgerClient(None, ChargingPolicy(), str(socket_path(cfg)), timeout)  # type: ignore[arg-type]


def ccr(sid: str, n: int, action: Action, used: int = 0) -> ChargeRequest:
    requested = None if action is Action.STOP else 3 * MB
    return ChargeRequest(IMSI, sid, action, (UsageItem(Unit.OCTETS, requested, used, 1),), f"{sid}:{n}",
                         service="data")


def money_left(cfg: Config) -> tuple[int, int]:
    store = open_store(cfg)
    try:
        def read(l):
            left = sum(b.remaining for b in l.list_buckets("p1") if b.unit is Unit.MONEY)
            held = sum(h.amount for r in l.product_reservations("p1") for h in r.holds)
            return left, held
        return store.transact(read)
    finally:
        store.close()


def test_credit_control_over_the_socket(role):
    cfg, start = role
    start()

    async def go():
        c = client(cfg)
        result, subscriber, address = await c.credit_control(ccr("s1", 0, Action.START), sessions.INITIAL,
                                                             (IMSI,), None)
        assert (result.outcome, result.items[0].granted, subscriber, address) == (Outcome.SUCCESS, 3 * MB, IMSI, "")
        again = await c.credit_control(ccr("s1", 0, Action.START), sessions.INITIAL, (IMSI,), None)
        assert again[0].duplicate and again[0].items == result.items
        unknown = await c.credit_control(ccr("nope", 1, Action.UPDATE, MB), sessions.UPDATE, (IMSI,), None)
        assert unknown == (None, None, "")
        done, _s, _a = await c.credit_control(ccr("s1", 1, Action.STOP, 1), sessions.TERMINATION, (), None)
        assert done.outcome is Outcome.SUCCESS and done.items[0].charged == 20_000
        c.close()
    asyncio.run(go())
    assert money_left(cfg) == (MONEY - 20_000, 0)


def test_kill_9_mid_load_loses_no_acknowledged_debit_and_doubles_none(role):
    cfg, start = role
    ledger = start()
    acknowledged: dict[str, int] = {}

    async def session(c: RemoteLedgerClient, k: int) -> None:
        sid = f"k{k}"
        result, *_ = await c.credit_control(ccr(sid, 0, Action.START), sessions.INITIAL, (IMSI,), None)
        acknowledged[f"{sid}:0"] = sum(i.charged for i in result.items)
        for n in range(1, 40):
            action = Action.STOP if n == 39 else Action.UPDATE
            result, *_ = await c.credit_control(ccr(sid, n, action, 300_000),
                                                sessions.TERMINATION if n == 39 else sessions.UPDATE, (), None)
            assert result is not None and result.outcome is Outcome.SUCCESS
            acknowledged[f"{sid}:{n}"] = sum(i.charged for i in result.items)

    async def killer() -> None:
        nonlocal ledger
        while len(acknowledged) < 200:
            await asyncio.sleep(0.005)
        ledger.send_signal(signal.SIGKILL)          # mid-load: requests in flight, a batch maybe half done
        ledger.wait(10)
        await asyncio.sleep(0.3)
        ledger = await asyncio.to_thread(start)     # the front ends resend what was in flight

    async def go():
        c = client(cfg, timeout=20.0)
        await asyncio.gather(killer(), *(session(c, k) for k in range(20)))
        c.close()
        assert c.remote.resent > 0                   # requests were in flight when the ledger died
    asyncio.run(go())
    assert len(acknowledged) == 20 * 40
    left, held = money_left(cfg)
    assert held == 0                                 # every session stopped after the restart
    assert left == MONEY - sum(acknowledged.values())
    assert sum(acknowledged.values()) == 20 * 12 * 20_000      # 39 × 300,000 octets a session: 12 started MB


def test_front_ends_wait_a_bounded_time_when_the_ledger_is_down(role):
    cfg, _start = role

    async def go():
        c = client(cfg, timeout=0.5)
        t0 = time.monotonic()
        with pytest.raises(LedgerUnavailable):
            await c.credit_control(ccr("s1", 0, Action.START), sessions.INITIAL, (IMSI,), None)
        return time.monotonic() - t0
    waited = asyncio.run(go())
    assert 0.4 < waited < 3.0


def test_one_ledger_per_run_directory(role, tmp_path):
    cfg, start = role
    start()
    env = dict(os.environ, APPLIANCE_CONFIG=str(tmp_path / "appliance.yaml"))
    second = subprocess.run([sys.executable, "-m", "appliance", "run", "ledger"], env=env, capture_output=True,
                            text=True, timeout=30)
    assert second.returncode != 0 and "another ledger owns" in second.stderr


def test_radius_accounting_charged_by_the_ledger_role(role):
    """processes.ledger: 1 — the RADIUS worker sends each accounting report to the ledger process."""
    import dataclasses

    from tests.radius.conftest import RunningServer, radius_cfg
    from tests.radius.helpers import radclient
    cfg, start = role
    ledger = start()
    rcfg = radius_cfg(dataclasses.replace(cfg, processes=dataclasses.replace(cfg.processes, ledger=1)),
                      acct_units=("octets",))
    srv = RunningServer(rcfg).start()
    try:
        port = rcfg.radius.acct_port
        text = ('Acct-Session-Id = "r1"\nUser-Name = "001010000000001"\nNAS-IP-Address = 127.0.0.1\n'
                "Acct-Input-Octets = {o}\nAcct-Output-Octets = 0\nAcct-Session-Time = 10\n")
        assert "Received Accounting-Response" in radclient(port, "acct", "Acct-Status-Type = Start\n"
                                                           + text.format(o=0))
        assert "Received Accounting-Response" in radclient(port, "acct", "Acct-Status-Type = Interim-Update\n"
                                                           + text.format(o=1_500_000))
        assert "Received Accounting-Response" in radclient(port, "acct", "Acct-Status-Type = Stop\n"
                                                           + text.format(o=2_500_000))
        assert money_left(cfg) == (MONEY - 3 * 20_000, 0)       # 2,500,000 octets: 3 started MB
        ledger.send_signal(signal.SIGKILL)                       # no ledger: the NAS gets no answer
        ledger.wait(10)
        out = radclient(port, "acct", "Acct-Status-Type = Start\n" + text.format(o=0).replace("r1", "r2"))
        assert "Received Accounting-Response" not in out
    finally:
        srv.close()
