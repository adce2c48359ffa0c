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

from appliance.config import RestConfig
from appliance.housekeeping import sweep
from appliance.ledger.api import client_for
from appliance.ledger.remote import LedgerFailed, call_blocking
from appliance.ledger.server import socket_path
from appliance.ocs.balance import Hold, Reservation
from appliance.ocs.units import Unit
from appliance.store import open_store
from appliance.telemetry import metrics
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


def wallet_state(cfg, wallet: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[str]]:
    """(unit, remaining) of the wallet's buckets, (session, held) of its reservations, its open sessions."""
    store = open_store(cfg)
    try:
        def read(l):
            return (sorted((b.unit.value, b.remaining) for b in l.list_buckets(wallet)),
                    sorted((r.session_id, sum(h.amount for h in r.holds)) for r in l.product_reservations(wallet)),
                    sorted(k for k, _d in l.list_docs("wallet_session", f"{wallet}|")))
        return store.transact(read)
    finally:
        store.close()


def test_wallet_api_changes_balances_through_the_ledger_role(role):
    import requests

    from appliance.logs import translog
    cfg, start = role
    ledger = start()
    store = open_store(cfg)
    add_user(store, *ADMIN, ["admin"])
    server = Server(dataclasses.replace(cfg, rest=RestConfig(port=0, access_log=False)), store)
    w, e = "/resource/wallet/w1", "/engine/wallet/w1"
    try:
        sent = ledger_requests(cfg)
        assert post(server, "/resource/wallet", {"id": "w1"}).status_code == 201
        r = post(server, f"{w}/bucket", {"value": 1000, "unit": "microcents"})
        assert r.status_code == 201, r.text
        assert ledger_requests(cfg) == sent + 2                       # written by the ledger role
        assert wallet_state(cfg, "w1") == ([("money", 1000)], [], [])

        with translog.capture() as got:
            r = post(server, f"{e}/session", {"id": "s1", "rating_requested": [{"unit": "microcents", "value": 50}]})
            assert r.status_code == 201, r.text
            assert r.json()["rating_granted"] == [{"unit": "microcents", "value": 50}]
            assert ledger_requests(cfg) == sent + 3
            assert wallet_state(cfg, "w1") == ([("money", 950)], [("wallet:w1:s1", 50)], ["w1|s1"])

            r = post(server, f"{e}/session/s1/commit", {"rating_used": [{"unit": "microcents", "value": 30}]})
            assert r.status_code == 200 and r.json()["rating_used"] == [{"unit": "microcents", "value": 30}], r.text
            assert ledger_requests(cfg) == sent + 4
            assert wallet_state(cfg, "w1") == ([("money", 970)], [], [])

            # a refusal inside the ledger's transaction keeps its status and code; the tried charge
            # is logged as not charged
            r = post(server, f"{e}/debit", {"rating_requested": [{"unit": "microcents", "value": 971}]})
            assert r.status_code == 402 and r.json()["reason"] == "Insufficient Funds", r.text
            assert r.json()["code"] == "insufficient_funds"
            assert ledger_requests(cfg) == sent + 5
            assert wallet_state(cfg, "w1") == ([("money", 970)], [], [])
        assert [(rec["request_type"], rec["outcome"], rec["units"][0].get("debited")) for rec in got.acct] == [
            ("initial", "success", 0), ("termination", "success", 30), ("event", "credit_limit_reached", None)]

        # a subscription runs its lifecycle's debit and bucket in the ledger's one transaction
        assert post(server, "/resource/lifecycle", {"id": "once", "name": "Once", "active": True}).status_code == 201
        r = post(server, "/resource/lifecycle/once/state", {
            "id": "init", "name": "INITIAL", "action": "engine.debit_wallet(context.getJsonObject('debit')); "
                                                      "wallet.add_buckets_j(context.getJsonArray('buckets'))"})
        assert r.status_code == 201, r.text
        assert requests.put(server.url + "/resource/lifecycle/once", json={"initial_state": "INITIAL"}, auth=ADMIN,
                            timeout=30).status_code == 200
        assert post(server, "/resource/service", {"id": "pack", "lifecycle": "once", "properties": {
            "debit": {"rating_requested": [{"unit": "microcents", "value": 100}]},
            "buckets": [{"value": 60, "unit": "seconds"}]}}).status_code == 201
        sent = ledger_requests(cfg)
        r = post(server, f"{e}/subscribe", {"service": "pack"})
        assert r.status_code == 201 and r.json()["state"] == "INITIAL", r.text
        assert ledger_requests(cfg) == sent + 1
        assert wallet_state(cfg, "w1") == ([("money", 870), ("seconds", 60)], [], [])

        # the ledger down: 503 and nothing changed
        ledger.send_signal(signal.SIGTERM)
        ledger.wait(15)
        held = wallet_state(cfg, "w1")
        r = post(server, f"{e}/session", {"id": "s2", "rating_requested": [{"unit": "microcents", "value": 10}]})
        assert r.status_code == 503, r.text
        assert post(server, f"{e}/debit", {"rating_requested": [{"unit": "microcents", "value": 10}]}
                    ).status_code == 503
        assert post(server, f"{w}/bucket", {"value": 5, "unit": "microcents"}).status_code == 503
        assert wallet_state(cfg, "w1") == held
        # reads stay on the local store
        r = post(server, f"{e}/enquire", {"rating_requested": [{"unit": "microcents", "value": 0}]})
        assert r.status_code == 200 and r.json()["funds_available"] == [{"unit": "microcents", "value": 870}]
    finally:
        server.stop()
        store.close()


def test_a_radius_refusal_is_recorded_by_the_ledger_role(role):
    """An Access-Reject for want of balance marks the product out of credit: the RADIUS worker reads,
    the ledger role writes (once: a second refusal changes nothing and asks nothing)."""
    from appliance.ledger import book
    from tests.conftest import seed
    from tests.radius.conftest import RunningServer, radius_cfg
    from tests.radius.helpers import radclient
    cfg, start = role
    start()
    store = open_store(cfg)
    seed(store, "001010000000002", money=0, product="p2")
    store.close()
    rcfg = radius_cfg(dataclasses.replace(cfg, processes=dataclasses.replace(cfg.processes, ledger=1)))
    srv = RunningServer(rcfg).start()
    try:
        sent = ledger_requests(cfg)
        attrs = 'User-Name = "001010000000002"\nUser-Password = "secret"\nMessage-Authenticator = 0x00\n'
        assert "Access-Reject" in radclient(rcfg.radius.auth_port, "auth", attrs)
        assert ledger_requests(cfg) == sent + 1
        store = open_store(cfg)
        try:
            assert store.transact(lambda l: book.out_of_credit(l, "p2"))
        finally:
            store.close()
        assert "Access-Reject" in radclient(rcfg.radius.auth_port, "auth", attrs.replace("secret", "secret "))
        assert "Access-Accept" in radclient(rcfg.radius.auth_port, "auth",
                                            'User-Name = "001010000000001"\nUser-Password = "secret"\n'
                                            "Message-Authenticator = 0x00\n")
        assert ledger_requests(cfg) == sent + 1
    finally:
        srv.close()


def test_bulk_import_writes_initial_balances_through_the_ledger_role(role, tmp_path):
    """`appliance import` with the ledger role running: subscribers written by the command, their
    initial balances by the ledger (1,000 buckets per operation); a second import replaces them."""
    cfg, start = role
    start()
    env = dict(os.environ, APPLIANCE_CONFIG=str(cfg.path(cfg.run_dir).parent / "appliance.yaml"))
    rows = "".join(f"imp{n},data,00102{n:010d},{100 + n},{5_000}\n" for n in range(2_500))
    (tmp_path / "subs.csv").write_text("id,offer,imsi,money,octets\n" + rows)

    def imported() -> tuple[int, int]:
        store = open_store(cfg)
        try:
            def read(l):
                found = [b for n in range(2_500) for b in l.list_buckets(f"imp{n}")]
                return len(found), sum(b.remaining for b in found if b.unit.value == "money")
            return store.transact(read)
        finally:
            store.close()
    for _ in range(2):
        sent = ledger_requests(cfg)
        out = subprocess.run([sys.executable, "-m", "appliance", "import", str(tmp_path / "subs.csv")], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["imported"] == 2_500
        assert ledger_requests(cfg) == sent + 5                        # 5,000 buckets in 5 operations
        assert imported() == (5_000, sum(100 + n for n in range(2_500)))   # replaced, never added twice
