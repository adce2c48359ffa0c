"""``processes.ledger: 0``: no ledger role, each front end charges in its own store transaction
(:class:`~appliance.ledger.api.LedgerClient`, the same named operations).  The embedded default
runs the ledger role; these tests keep what an operator who turns it off gets working: no ledger
program under supervisord, nothing on the ledger's socket, REST and RADIUS accounting charged in
process, exactly."""
from __future__ import annotations

import dataclasses

import pytest
import requests

from appliance.config import Config, ProcessesConfig, RestConfig
from appliance.ledger.api import LedgerClient, client_for
from appliance.supervise import supervisor_conf
from tests.ledger_role import listening
from tests.radius.conftest import RunningServer, radius_cfg
from tests.radius.helpers import radclient
from tests.radius.test_accounting import RATE, acct_text, money
from tests.rest.conftest import ADMIN, Server, add_user

IN_PROCESS = ProcessesConfig(ledger=0)
TOPUP = "/tmf-api/prepayBalanceManagement/v4/balanceTopup"


@pytest.fixture
def cfg0(cfg):
    return dataclasses.replace(cfg, processes=IN_PROCESS)


def test_no_ledger_program_without_the_ledger_role():
    assert "[program:ledger]" in supervisor_conf(Config(), python="/usr/bin/python3")       # the default
    assert "[program:ledger]" not in supervisor_conf(Config(processes=IN_PROCESS), python="/usr/bin/python3")


def test_rest_balance_changes_in_the_rest_process(cfg0, store, seed_subscriber):
    seed_subscriber(money=1_000_000)
    add_user(store, *ADMIN, ["admin"])
    assert isinstance(client_for(cfg0, store), LedgerClient)
    server = Server(dataclasses.replace(cfg0, rest=RestConfig(port=0, access_log=False)), store)
    try:
        assert server.ledger is None and not listening(cfg0)
        r = requests.post(server.url + TOPUP, auth=ADMIN, timeout=30,
                          json={"amount": {"amount": 2.5, "units": "USD"}, "product": {"id": "p1"}})
        assert r.status_code == 201, r.text
        assert money(store) == 1_000_000 + 2_500_000
        r = requests.post(server.url + "/quota", auth=ADMIN, timeout=30, json={"imsi": "001010000000001", "mb": 1})
        assert r.status_code == 200 and r.json()["approved"] is True, r.text
        assert money(store) == 1_000_000 + 2_500_000 - RATE                        # 1 MB at the data price
        assert not listening(cfg0)
    finally:
        server.stop()


def test_radius_accounting_charged_in_the_worker(cfg0, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", money=1_000_000)
    rcfg = radius_cfg(cfg0)
    srv = RunningServer(rcfg).start()
    try:
        assert srv.ledger is None and not listening(cfg0)
        port = rcfg.radius.acct_port
        for status, octets in (("Start", 0), ("Interim-Update", 1_500_000), ("Stop", 2_500_000)):
            assert "Received Accounting-Response" in radclient(port, "acct", acct_text(status, "s0", octets))
        assert money(store) == 1_000_000 - 3 * RATE           # 2,500,000 octets: 3 started MB
    finally:
        srv.close()
