"""The embedded default runs the ledger role (``processes.ledger: 1``): front ends started before it,
or while it restarts, wait a bounded time (``processes.ledger_timeout``) for it and are then served;
past the bound they are "too busy" and nothing is charged: Diameter answers 3004
(DIAMETER_TOO_BUSY, RFC 6733 §7.1.3), RADIUS accounting does not answer (the NAS retransmits,
RFC 2866 §2), REST answers 503.  Real processes on loopback, SQLite, a configuration without a
``processes.ledger`` key."""
from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import subprocess
import sys
import time

import pyrad.packet as pp
import pytest
import requests
import yaml
from pyrad.client import Timeout

from appliance.config import Config, load
from appliance.diameter.apps import ro
from appliance.diameter.client import CreditControlClient, Service, ccr
from appliance.ocs.units import Unit
from appliance.store import open_store
from appliance.supervise import supervisor_conf
from appliance.telemetry import metrics
from tests.conftest import free_port, seed, wait_bound
from tests.ledger_role import start_process, stop_process
from tests.radius.helpers import dictionary
from tests.rest.conftest import ADMIN, add_user

pytestmark = pytest.mark.system
IMSI = "001010000000031"
SECRET = "testing123"
BOUND = 5.0                      # processes.ledger_timeout of this test (the default is 3 s)
TOPUP = "/tmf-api/prepayBalanceManagement/v4/balanceTopup"


def test_the_embedded_defaults_run_the_ledger_role_first_to_start_last_to_stop():
    cfg = Config()
    assert cfg.processes.ledger == 1
    programs = {}
    for block in supervisor_conf(cfg, python="/usr/bin/python3").split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("[program:"):
            programs[lines[0][9:-1]] = dict(line.split("=", 1) for line in lines[1:])
    assert programs["ledger"]["numprocs"] == "1"
    assert programs["ledger"]["command"].endswith("run ledger --index %(process_num)d")
    # supervisord starts programs by ascending priority and stops them in the reverse order
    assert int(programs["ledger"]["priority"]) < min(int(p["priority"]) for n, p in programs.items() if n != "ledger")
    assert {"radius", "diameter", "rest", "housekeeping"} <= set(programs)


def _worker(conf, role: str, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", role, "--index", "0"],
                            stdout=log, stderr=subprocess.STDOUT)




def _diameter(port: int, sid: str, kind: int, number: int, service: Service) -> int:
    async def go() -> int:
        client = CreditControlClient("gw.test", "gw.realm")
        await client.connect("127.0.0.1", port)
        try:
            answer = await client.send(ccr(sid, "ocs.localdomain", kind, number, IMSI, services=(service,)),
                                       timeout=BOUND + 20)
            return int(answer.result_code)
        finally:
            await client.close()
    return asyncio.run(asyncio.wait_for(go(), BOUND + 30))


def _accounting(port: int, status: str, sid: str, octets: int, wait: float) -> int | None:
    """One Accounting-Request sent once (no retransmission); its answer's code, None if none in ``wait``."""
    from pyrad.client import Client
    c = Client(server="127.0.0.1", acctport=port, secret=SECRET.encode(), dict=dictionary())
    c.timeout, c.retries = wait, 1
    req = c.CreateAcctPacket(User_Name=IMSI, Acct_Status_Type=status, Acct_Session_Id=sid,
                             NAS_IP_Address="127.0.0.1", Acct_Input_Octets=octets, Acct_Output_Octets=0)
    try:
        return c.SendPacket(req).code
    except Timeout:
        return None


def _top_up(port: int, amount: str) -> int:
    return requests.post(f"http://127.0.0.1:{port}{TOPUP}", auth=ADMIN, timeout=BOUND + 20,
                         json={"amount": {"amount": amount, "units": "USD"}, "product": {"id": "p1"}}).status_code


def _count(cfg, name: str) -> int:
    return metrics.read_all(cfg.path(cfg.run_dir)).get(name, 0)


def _until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _money(cfg) -> tuple[int, int]:
    """(usable money, money held by reservations) of the product."""
    store = open_store(cfg)
    try:
        buckets = store.transact(lambda l: l.buckets("p1"))
        held = store.transact(lambda l: l.product_reservations("p1"))
        return (sum(b.remaining for b in buckets if b.unit is Unit.MONEY),
                sum(h.amount for r in held for h in r.holds))
    finally:
        store.close()


def test_front_ends_before_the_ledger_and_while_it_restarts(tmp_path):
    auth, acct, dia, rest = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port(), free_port()
    conf = tmp_path / "appliance.yaml"
    conf.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "var"), "run_dir": str(tmp_path / "var" / "run"), "log_dir": str(tmp_path / "logs"),
        "radius": {"address": "127.0.0.1", "auth_port": auth, "acct_port": acct,
                   "clients": [{"address": "127.0.0.1", "secret": SECRET, "require_message_authenticator": False}]},
        "diameter": {"address": "127.0.0.1", "port": dia, "peers": [{"host": "gw.test"}],
                     "accept_realms": ["gw.realm"]},
        "rest": {"address": "127.0.0.1", "port": rest, "access_log": False},
        "processes": {"ledger_timeout": BOUND, "stop_wait": 2}}))        # no "ledger": the embedded default
    cfg = load(str(conf))
    assert cfg.processes.ledger == 1
    store = open_store(cfg)
    try:
        seed(store, IMSI, money=10_000_000)
        add_user(store, *ADMIN, ["admin"])
    finally:
        store.close()
    log = open(tmp_path / "front-ends.log", "ab")
    workers = [_worker(conf, role, log) for role in ("radius", "diameter", "rest")]
    ledger = None
    data = Service(Unit.OCTETS, 0, rating_group=32)
    try:
        wait_bound(acct, socket.SOCK_DGRAM)
        wait_bound(dia, socket.SOCK_STREAM)
        wait_bound(rest, socket.SOCK_STREAM)
        assert requests.get(f"http://127.0.0.1:{rest}/health", timeout=30).status_code == 200   # up, no ledger
        before = _money(cfg)

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            # 1. started before the ledger: each request waits for it, and is served once it listens
            waiting = [pool.submit(_diameter, dia, "s1", ro.INITIAL, 0, data),
                       pool.submit(_accounting, acct, "Start", "r1", 0, BOUND + 10),
                       pool.submit(_top_up, rest, "2")]
            # received (counted by the front ends), and not answered: nothing is served without the ledger
            _until(lambda: _count(cfg, "diameter.ro.ccr.initial") == 1 and _count(cfg, "radius.acct.requests") == 1)
            assert [f.result() for f in waiting if f.done()] == []
            ledger = start_process(conf, cfg, tmp_path / "ledger.log")
            assert [f.result() for f in waiting] == [2001, pp.AccountingResponse, 201]
            served = _money(cfg)
            assert served[0] + served[1] == before[0] + 2_000_000 and served[1] > 0   # topped up, s1 holds

            # 2. the ledger stopped for longer than the bound: too busy, nothing charged
            stop_process(ledger)
            ledger = None
            unavailable = _count(cfg, "ledger.client.unavailable")
            busy = [pool.submit(_diameter, dia, "s1", ro.UPDATE, 1, Service(Unit.OCTETS, 0, used=1_000_000,
                                                                            rating_group=32)),
                    pool.submit(_accounting, acct, "Interim-Update", "r1", 1_000_000, BOUND + 1.5),
                    pool.submit(_top_up, rest, "3")]
            assert [f.result() for f in busy] == [3004, None, 503]
            # RADIUS's silence is the bound, not a dead worker: each front end counted its call given up
            assert _count(cfg, "ledger.client.unavailable") - unavailable == 3
            assert _count(cfg, "diameter.ro.ledger_unavailable") == 1
            assert _money(cfg) == served

            # 3. the ledger back: the same front ends reconnect and are served
            ledger = start_process(conf, cfg, tmp_path / "ledger.log")
            again = [pool.submit(_diameter, dia, "s1", ro.TERMINATION, 2, Service(Unit.OCTETS, None,
                                                                                  used=1_000_000,
                                                                                  rating_group=32)),
                     pool.submit(_accounting, acct, "Stop", "r1", 1_000_000, BOUND + 10),
                     pool.submit(_top_up, rest, "3")]
            assert [f.result() for f in again] == [2001, pp.AccountingResponse, 201]
        # s1 and r1 each used 1,000,000 octets (one started MB: 20,000), nothing held any more
        assert _money(cfg) == (before[0] + 5_000_000 - 2 * 20_000, 0)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(15)
            except subprocess.TimeoutExpired:
                w.kill()
        stop_process(ledger)
        log.close()
    assert [w.returncode for w in workers] == [0, 0, 0], (tmp_path / "front-ends.log").read_text()[-3000:]
