"""With the ledger role running, the administrative balance changes go through it too: the REST
top-ups, adjustments and buckets (TMF654), the CLI's bucket commands and housekeeping's sweep.
A refusal keeps its HTTP status across the socket, a resend of a keyed operation is applied once,
and with the ledger down a REST write gets 503 and changes nothing."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from appliance import metrics
from appliance.config import RestConfig
from appliance.housekeeping import sweep
from appliance.ledger.api import client_for
from appliance.ledger.remote import LedgerFailed, call_blocking
from appliance.ledger.server import socket_path
from appliance.ocs.balance import Hold, Reservation
from appliance.ocs.units import Unit
from appliance.store import open_store
from tests.rest.conftest import ADMIN, Server, add_user

pytestmark = pytest.mark.system
PRODUCT = "p1"
IMSI = "001010000000001"
NRF = "/nrf-rating/v1/ratingdata"


def buckets(cfg) -> list[tuple[int, str, int]]:
    store = open_store(cfg)
    try:
        return sorted((b.id, b.unit.value, b.remaining) for b in store.transact(lambda l: l.list_buckets(PRODUCT)))
    finally:
        store.close()


def ledger_requests(cfg) -> int:
    return metrics.read_all(cfg.path(cfg.run_dir)).get("ledger.requests", 0)


def post(server, path, body):
    import requests
    return requests.post(server.url + path, json=body, auth=ADMIN, timeout=30)


TOPUP = "/tmf-api/prepayBalanceManagement/v4/balanceTopup"
ADJUST = "/tmf-api/prepayBalanceManagement/v4/balanceAdjustment"


def test_rest_balance_writes_run_in_the_ledger_role(role):
    cfg, start = role
    ledger = start()
    before = buckets(cfg)
    store = open_store(cfg)
    add_user(store, *ADMIN, ["admin"])
    server = Server(dataclasses.replace(cfg, rest=RestConfig(port=0, access_log=False)), store)
    try:
        sent = ledger_requests(cfg)
        r = post(server, TOPUP, {"amount": {"amount": "2.5", "units": "USD"}, "product": {"id": PRODUCT}})
        assert r.status_code == 201, r.text
        assert ledger_requests(cfg) == sent + 1                       # written by the ledger role
        assert buckets(cfg) == sorted([*before, (int(r.json()["bucket"][0]["id"]), "money", 2_500_000)])

        # a refusal inside the ledger's transaction keeps its status and reason; nothing is stored
        r = post(server, ADJUST, {"amount": {"amount": "-1000", "units": "USD"}, "product": {"id": PRODUCT}})
        assert r.status_code == 422 and "smaller than" in r.json()["reason"], r.text
        r = post(server, ADJUST, {"amount": {"amount": "1", "units": "USD"}, "product": {"id": "nobody"}})
        assert r.status_code == 422 and "does not exist" in r.json()["reason"], r.text
        after_topup = buckets(cfg)
        assert len(after_topup) == len(before) + 1

        r = post(server, ADJUST, {"amount": {"amount": "-0.5", "units": "USD"}, "product": {"id": PRODUCT}})
        assert r.status_code == 201, r.text
        assert sum(b[2] for b in buckets(cfg)) == sum(b[2] for b in after_topup) - 500_000

        # the quota debit and an Nrf rating session are charges the ledger runs with their records
        money = sum(b[2] for b in buckets(cfg) if b[1] == "money")
        sent = ledger_requests(cfg)
        r = post(server, "/quota", {"imsi": IMSI, "mb": 2})
        assert r.status_code == 200 and r.json()["approved"] is True, r.text
        r = post(server, NRF, {"subscriptionId": [f"imsi-{IMSI}"], "serviceRating": [
            {"serviceContextId": "32251@3gpp.org", "ratingGroup": 32, "requestSubType": "RESERVE",
             "requestedUnit": {"totalVolume": 1_000_000}}]})
        assert r.status_code == 201, r.text
        ref = r.headers["Location"].rsplit("/", 1)[1]
        r = post(server, f"{NRF}/{ref}/release", {"serviceRating": [
            {"serviceContextId": "32251@3gpp.org", "ratingGroup": 32, "requestSubType": "DEBIT",
             "consumedUnit": {"totalVolume": 1_500_000}}]})
        assert r.status_code == 200, r.text
        assert ledger_requests(cfg) == sent + 3
        # DATA_OFFER: 20,000 per started MB; 2 MB by quota, 2 started MB by Nrf
        assert sum(b[2] for b in buckets(cfg) if b[1] == "money") == money - 80_000

        # the ledger down: a bounded wait, then 503 and nothing changed
        ledger.send_signal(signal.SIGTERM)
        ledger.wait(15)
        held = buckets(cfg)
        t0 = time.monotonic()
        r = post(server, TOPUP, {"amount": {"amount": "1", "units": "USD"}, "product": {"id": PRODUCT}})
        assert r.status_code == 503, r.text
        assert time.monotonic() - t0 < cfg.processes.ledger_timeout + 5
        assert buckets(cfg) == held
        assert post(server, "/quota", {"imsi": IMSI, "mb": 1}).status_code == 503
        assert buckets(cfg) == held
        start()
        r = post(server, TOPUP, {"amount": {"amount": "1", "units": "USD"}, "product": {"id": PRODUCT}})
        assert r.status_code == 201, r.text
    finally:
        server.stop()
        store.close()


def test_a_keyed_operation_resent_is_applied_once(role):
    cfg, start = role
    start()
    path = str(socket_path(cfg))
    before = buckets(cfg)
    now = int(time.time())
    first = call_blocking(path, "top_up", ("key-1", now, PRODUCT, "octets", 5_000, None, None, "gift"))
    again = call_blocking(path, "top_up", ("key-1", now, PRODUCT, "octets", 5_000, None, None, "gift"))
    assert first == again
    assert buckets(cfg) == sorted([*before, (first, "octets", 5_000)])
    other = call_blocking(path, "top_up", ("key-2", now, PRODUCT, "octets", 5_000, None, None, "gift"))
    assert other != first and len(buckets(cfg)) == len(before) + 2
    with pytest.raises(LedgerFailed) as refused:
        call_blocking(path, "top_up", ("key-3", now, "nobody", "octets", 1, None, None, ""))
    assert refused.value.name == "LookupError" and len(buckets(cfg)) == len(before) + 2


def test_cli_bucket_commands_go_through_the_ledger_role(role):
    cfg, start = role
    start()
    env = dict(os.environ, APPLIANCE_CONFIG=str(cfg.path(cfg.run_dir).parent / "appliance.yaml"))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "appliance", *args], env=env, capture_output=True, text=True,
                              timeout=60)
    sent = ledger_requests(cfg)
    out = cli("bucket", "add", PRODUCT, "--unit", "octets", "--amount", "7000")
    assert out.returncode == 0, out.stderr
    bid = json.loads(out.stdout)["id"]
    assert (bid, "octets", 7000) in buckets(cfg)
    assert ledger_requests(cfg) == sent + 1
    out = cli("bucket", "add", "nobody", "--unit", "octets", "--amount", "1")
    assert out.returncode != 0 and "no such product: nobody" in out.stderr
    out = cli("bucket", "remove", str(bid))
    assert out.returncode == 0, out.stderr
    assert all(b[0] != bid for b in buckets(cfg)) and ledger_requests(cfg) == sent + 3
    out = cli("bucket", "remove", str(bid))
    assert out.returncode != 0 and f"no such bucket: {bid}" in out.stderr


def test_housekeeping_sweeps_balances_through_the_ledger_role(role):
    cfg, start = role
    start()
    store = open_store(cfg)
    try:
        money = [b for b in store.transact(lambda l: l.list_buckets(PRODUCT)) if b.unit is Unit.MONEY][0]
        now = int(time.time())

        def hold(l):
            l.set_bucket_remaining(money.id, money.remaining - 300)
            l.put_reservation(Reservation("gone", 1, PRODUCT, "001010000000001", Unit.OCTETS, 3_000,
                                          (Hold(money.id, Unit.MONEY, 300),), 100, 1_000, now - 900, now - 10))
        store.transact(hold)
        sent = ledger_requests(cfg)

        client = client_for(cfg, store)
        done = sweep(cfg, store, now, True, client)
        assert done["released"] == 1 and ledger_requests(cfg) == sent + 1
        assert (money.id, "money", money.remaining) in buckets(cfg)      # the hold went back
    finally:
        store.close()
